// Package train trains and evaluates govgg's VGG networks the way MindCV's train.py
// and validate.py do.
//
// A Trainer runs the training step (forward in training mode, softmax cross entropy
// with label smoothing, backward, an optional gradient reduction for data-parallel
// training, gradient clipping and accumulation, the optimizer step, an optional EMA
// of the weights; no allocation in the steady state) and the epoch loop around it:
// per-step logs in MindCV's form
//
//	Epoch: [3/200], batch: [100/5004], loss: 2.345678, lr: 0.009876, time: 0.512345s
//
// (the loss averaged over the steps since the previous line), a progress bar on a
// terminal, evaluation (loss, Top-1, Top-5) every val_interval epochs, a result.log
// row per epoch, and checkpoints.
//
// # Checkpoints
//
// {model}-{epoch}_{step}.ckpt and {model}_best.ckpt are MindSpore checkpoints with
// MindCV's parameter names, so MindSpore's load_checkpoint and MindCV's validate.py
// read them, as do vgg.Model.LoadWeights and `vgg validate`. The optimizer state of
// each numbered checkpoint (momenta named moments.<param> like MindSpore's, the step
// counts, pending accumulated gradients, EMA averages) is kept beside it in
// optim_{model}-{epoch}_{step}.safetensors: govgg's .ckpt reader deliberately drops
// optimizer entries, and a per-checkpoint file (rather than MindCV's single
// optim_{model}.ckpt) makes any kept checkpoint resumable.
// latest_k keeps the newest keep_checkpoint_max checkpoints, top_k those of best
// validation Top-1. Every file is written atomically.
//
// Resume restores a checkpoint and continues exactly: the epoch comes from the file
// name, the optimizer state and learning-rate step from its companion, the data order
// and augmentation from the loader's (seed, epoch), dropout masks and batch-norm
// counters from the step count. A run killed mid-epoch resumes from its last
// checkpoint and reproduces the lost steps bit for bit.
//
// # Data-parallel training
//
// Distributed is the hook for package dist (MPI, -tags mpi): Build shards the loaders
// by (Rank, Size), Step calls ReduceGrads between backward and the optimizer step
// (it must leave the mean gradient, MindCV's gradients_mean; GradReady, installed as
// the model's gradient hook, lets it start on each layer's gradients while backward
// is still running), Evaluate sums its
// counts with ReduceSums, and only rank 0 logs and writes files. Every rank
// initializes from the same seed, so no broadcast of the initial weights is needed.
//
// # Recipes
//
// Config holds MindCV's arguments under their YAML and flag names; LoadYAML reads a
// recipe (unknown keys are errors), RegisterFlags binds the same names to a flag set,
// and Build assembles datasets, loaders, model, optimizer, schedule and trainer from
// it. Validate is validate.py.
package train

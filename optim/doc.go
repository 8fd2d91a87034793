// Package optim updates a network's parameters: SGD with momentum, dampening,
// Nesterov and L2 weight decay, AdamW; weight-decay filters; per-step
// learning-rate schedules; global-norm gradient clipping; an exponential moving
// average of the weights; and gradient accumulation over micro-batches.
//
// It works on []*layers.Param (torchvision state-dict names such as
// "features.0.weight") and knows nothing about VGG. The hot loops are the fused
// update kernels of package asm (AVX-512, AVX2, pure Go), run over each tensor on
// the asm worker pool; a step allocates nothing after the optimizer is built.
//
// # Semantics
//
// SGD follows torch.optim.SGD exactly:
//
//	d = g + wd·w
//	v = μ·v + (1-dampening)·d     (v = d on a parameter's first step)
//	w -= lr·v                     (Nesterov: w -= lr·(d + μ·v))
//
// For dampening 0 this is MindSpore's nn.Momentum (ApplyMomentum), which starts
// from a zeroed moment: μ·0 + d = d, the same first step. With dampening ≠ 0 a
// zero-started moment would give (1-dampening)·d; torch's (and ours) gives d.
//
// AdamW follows torch.optim.AdamW (amsgrad off): w *= 1 - lr·wd; m = β₁m + (1-β₁)g;
// v = β₂v + (1-β₂)g²; w -= lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε).
//
// Weight-decay filters follow MindCV's weight_decay_filter: FilterDisable decays
// every parameter (MindCV's VGG recipe); FilterAuto skips normalization parameters
// (MindSpore's default filter, names containing gamma/beta); FilterNormAndBias also
// skips biases. Which parameters are normalization parameters cannot be told from
// torchvision names (a BatchNorm2d's γ, β are ".weight", ".bias"), so the caller
// passes a predicate (WithNormParams); the last name components "gamma" and "beta"
// (MindSpore names) always count as norm. FilterNormAndBias additionally treats
// every 1-D parameter and every name ending in "bias" as bias, MindCV's rule.
//
// Schedules reproduce MindCV's create_scheduler lists (warmup_cosine_decay,
// cosine_decay, exponential_decay, polynomial_decay, step_decay, multi_step_decay,
// constant, per step or with lr_epoch_stair) as closed forms, so no per-step table
// is stored.
//
// # Using it in a training loop
//
//	opt, err := optim.NewSGD(model.Params(), optim.WithSchedule(sched),
//		optim.WithMomentum(0.9), optim.WithWeightDecay(4e-5),
//		optim.WithParamsChanged(model.ParamsChanged))
//	for each batch {
//		forward, backward (fills every Param.Grad)
//		optim.ClipGradNorm(params, 15)   // optional
//		opt.Step()                       // calls model.ParamsChanged()
//		ema.Update()                     // optional
//	}
//
// Layers that cache a transformed form of their weights (Conv2d plans) must be
// told after every write: pass the model's ParamsChanged to WithParamsChanged and
// EMAOnSwap, or call it yourself after Step, EMA.Swap and loading weights.
package optim

package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/govgg/govgg/data"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/optim"
	"github.com/govgg/govgg/tensor"
	"github.com/govgg/govgg/vgg"
)

// Distributed connects the trainer to data-parallel training (package dist, built with
// -tags mpi). The zero value is a single process.
type Distributed struct {
	// Rank and Size identify this process among Size ranks; only rank 0 logs and
	// writes files. The training loader is sharded by the same pair.
	Rank, Size int
	// ReduceGrads runs between backward and the optimizer step and must leave every
	// gradient averaged over the ranks (MindCV's gradients_mean).
	ReduceGrads func(params []*layers.Param) error
	// ReduceSums adds vals over the ranks in place: evaluation counts and loss sums.
	ReduceSums func(vals []float64) error
	// GradReady, when set, becomes the model's gradient hook (vgg.Model.SetGradHook):
	// it gets each layer's parameters as soon as backward has written their gradients
	// (the classifier's first), so that their reduction can overlap the rest of the
	// backward pass; ReduceGrads then only waits for it to finish.
	GradReady layers.GradHook
}

func (d Distributed) root() bool { return d.Rank == 0 }

// Trainer runs training steps and epochs of a VGG model: forward in training mode,
// softmax cross entropy, backward, optional gradient reduction and clipping, and the
// optimizer step; around them per-step logs, evaluation, result.log and checkpoints.
type Trainer struct {
	model  *vgg.Model
	opt    optim.Optimizer
	loss   *layers.CrossEntropy
	params []*layers.Param

	dist        Distributed
	clip        float64
	out         io.Writer
	logInterval int
	progress    bool
	val         *data.Loader
	valInterval int
	ckpt        *checkpointer

	ema      *optim.EMA
	emaDecay float64
	acc      *optim.Accumulator

	startEpoch    int // epochs already done (after Resume)
	resumedOpt    bool
	dropouts      []*layers.Dropout
	batchesTraced []*layers.Param // num_batches_tracked buffers
}

// Option configures a Trainer.
type Option func(*Trainer) error

// WithOutput sets where logs go (default io.Discard); a terminal also gets a progress
// bar unless WithProgress(false).
func WithOutput(w io.Writer) Option {
	return func(t *Trainer) error { t.out = w; return nil }
}

// WithLogInterval logs a line every n steps (MindCV's log_interval; 0: only at the end
// of each epoch).
func WithLogInterval(n int) Option {
	return func(t *Trainer) error {
		if n < 0 {
			return fmt.Errorf("train: log interval %d is negative", n)
		}
		t.logInterval = n
		return nil
	}
}

// WithProgress turns the terminal progress bar on or off (default on).
func WithProgress(on bool) Option {
	return func(t *Trainer) error { t.progress = on; return nil }
}

// WithValidation evaluates on loader every interval epochs (val_while_train,
// val_interval: after epochs 1, 1+interval, … as MindCV does, and also after the
// last), logging loss, Top-1 and Top-5 and keeping the best checkpoint.
func WithValidation(loader *data.Loader, interval int) Option {
	return func(t *Trainer) error {
		if interval < 1 {
			return fmt.Errorf("train: validation interval %d, must be at least 1", interval)
		}
		t.val, t.valInterval = loader, interval
		return nil
	}
}

// WithClipGrad clips the global gradient norm to maxNorm before every step
// (clip_grad, clip_value); 0 turns it off.
func WithClipGrad(maxNorm float64) Option {
	return func(t *Trainer) error {
		if maxNorm < 0 || math.IsNaN(maxNorm) {
			return fmt.Errorf("train: clip value %g, must be positive", maxNorm)
		}
		t.clip = maxNorm
		return nil
	}
}

// WithEMA keeps an exponential moving average of the parameters and batch-norm
// statistics (MindCV's ema, ema_decay; warm-up 2000 updates), updated after every
// micro-batch. Evaluation and {model}_best.ckpt use the averaged weights; numbered
// checkpoints hold both, the averages as "ema.<param>" like MindCV's.
func WithEMA(decay float64) Option {
	return func(t *Trainer) error {
		var state []*layers.Param
		state = append(state, t.model.Params()...)
		for _, b := range t.model.Buffers() {
			if !hasSuffix(b.Name, ".num_batches_tracked") {
				state = append(state, b)
			}
		}
		ema, err := optim.NewEMA(state, decay, optim.EMAOnSwap(t.model.ParamsChanged))
		if err != nil {
			return fmt.Errorf("train: ema: %w", err)
		}
		t.ema, t.emaDecay = ema, decay
		return nil
	}
}

// WithGradientAccumulation averages the gradients of k micro-batches before each
// update (MindCV's gradient_accumulation_steps): the learning-rate schedule still
// advances every micro-batch and clipping applies to each micro-batch, as in MindCV.
func WithGradientAccumulation(k int) Option {
	return func(t *Trainer) error {
		if k <= 1 {
			if k < 1 {
				return fmt.Errorf("train: gradient accumulation over %d micro-batches", k)
			}
			return nil
		}
		acc, err := optim.NewAccumulator(t.model.Params(), k, optim.Mean)
		if err != nil {
			return fmt.Errorf("train: gradient accumulation: %w", err)
		}
		t.acc = acc
		return nil
	}
}

// WithDistributed makes the trainer one rank of data-parallel training.
func WithDistributed(d Distributed) Option {
	return func(t *Trainer) error {
		if d.Size < 1 || d.Rank < 0 || d.Rank >= d.Size {
			return fmt.Errorf("train: rank %d of %d", d.Rank, d.Size)
		}
		t.dist = d
		return nil
	}
}

// New returns a trainer of model with optimizer opt (built over model.Params(), calling
// model.ParamsChanged after each step) and loss.
func New(model *vgg.Model, opt optim.Optimizer, loss *layers.CrossEntropy, opts ...Option) (*Trainer, error) {
	if model == nil || opt == nil || loss == nil {
		return nil, errors.New("train: New needs a model, an optimizer and a loss")
	}
	t := &Trainer{model: model, opt: opt, loss: loss, params: model.Params(), out: io.Discard,
		logInterval: 100, progress: true, dist: Distributed{Size: 1}}
	for _, o := range opts {
		if err := o(t); err != nil {
			return nil, err
		}
	}
	if t.dist.GradReady != nil {
		model.SetGradHook(t.dist.GradReady)
	}
	for _, l := range model.Classifier().Layers() {
		if d, ok := l.(*layers.Dropout); ok {
			t.dropouts = append(t.dropouts, d)
		}
	}
	for _, b := range model.Buffers() {
		if hasSuffix(b.Name, ".num_batches_tracked") {
			t.batchesTraced = append(t.batchesTraced, b)
		}
	}
	return t, nil
}

// Model returns the model being trained.
func (t *Trainer) Model() *vgg.Model { return t.model }

// Optimizer returns the optimizer.
func (t *Trainer) Optimizer() optim.Optimizer { return t.opt }

// Step trains on one batch: forward in training mode, loss, backward, gradient
// reduction (distributed), clipping (if set), gradient accumulation (if set) and the
// optimizer step, then the EMA update (if set). It returns the batch's loss. In the
// steady state it allocates nothing.
func (t *Trainer) Step(x *tensor.Tensor, labels []int) (float32, error) {
	if !t.model.Training() {
		t.model.SetTraining(true)
	}
	logits, err := t.model.Forward(x)
	if err != nil {
		return 0, err
	}
	loss, grad, err := t.loss.Forward(logits, labels)
	if err != nil {
		return 0, err
	}
	if err := t.model.Backward(grad); err != nil {
		return 0, err
	}
	if t.dist.ReduceGrads != nil {
		if err := t.dist.ReduceGrads(t.params); err != nil {
			return 0, fmt.Errorf("train: gradient reduction: %w", err)
		}
	}
	if t.clip > 0 {
		if _, err := optim.ClipGradNorm(t.params, t.clip); err != nil {
			return 0, err
		}
	}
	if t.acc != nil {
		ready, err := t.acc.Add()
		if err != nil {
			return 0, err
		}
		if !ready {
			t.opt.SkipStep()
			t.updateEMA()
			return loss, nil
		}
	}
	if err := t.opt.Step(); err != nil {
		return 0, err
	}
	t.updateEMA()
	return loss, nil
}

// EpochResult is what one epoch produced.
type EpochResult struct {
	Epoch     int // 1-based
	TrainLoss float64
	Val       *Metrics // nil when the epoch was not evaluated
	TrainTime time.Duration
	ValTime   time.Duration
}

// Result is what Fit produced.
type Result struct {
	Epochs    []EpochResult
	Best      *Metrics // best validation Top-1 of this run
	BestEpoch int
}

// Fit trains for epochs in total, continuing after the epochs a Resume restored.
// Each epoch's batch order and augmentation come from the loader's (seed, epoch), so a
// resumed run sees the same data as an uninterrupted one.
func (t *Trainer) Fit(ctx context.Context, loader *data.Loader, epochs int) (*Result, error) {
	steps := loader.Steps()
	if steps == 0 {
		return nil, errors.New("train: the training loader has no batches (fewer samples than one batch with drop_remainder?)")
	}
	done := t.startEpoch * steps
	if t.resumedOpt && t.opt.StepCount() != done {
		return nil, fmt.Errorf("train: the optimizer state is at step %d but the checkpoint ends epoch %d at step %d (%d steps per epoch): not the same run",
			t.opt.StepCount(), t.startEpoch, done, steps)
	}
	for t.opt.StepCount() < done { // weights resumed without optimizer state: catch the schedule up
		t.opt.SkipStep()
	}
	// Dropout masks and batch-norm counters are functions of the step count.
	for _, d := range t.dropouts {
		d.SetStep(uint64(t.opt.StepCount()))
	}
	if t.startEpoch > 0 {
		for _, b := range t.batchesTraced {
			b.Value.Data()[0] = float32(t.opt.StepCount())
		}
	}
	if t.ckpt != nil && t.dist.root() {
		if err := t.ckpt.open(); err != nil {
			return nil, err
		}
	}
	res := &Result{}
	root := t.dist.root()
	bar := newProgress(t.out, t.progress && root)
	for epoch := t.startEpoch; epoch < epochs; epoch++ {
		er, err := t.trainEpoch(ctx, loader, epoch, epochs, bar)
		if err != nil {
			return res, err
		}
		if t.val != nil && (epoch%t.valInterval == 0 || epoch+1 == epochs) { // MindCV: epochs 1, 1+k, …; and the last
			start := time.Now()
			t.swapEMA()
			m, err := Evaluate(ctx, t.model, t.loss, t.val, t.dist)
			t.swapEMA()
			if err != nil {
				return res, err
			}
			er.Val, er.ValTime = &m, time.Since(start)
			if root {
				fmt.Fprintf(t.out, "Validation %s, time: %.6fs\n", m, er.ValTime.Seconds())
			}
			if res.Best == nil || m.Top1 > res.Best.Top1 {
				res.Best, res.BestEpoch = &m, epoch+1
			}
		}
		if root {
			fmt.Fprintf(t.out, "Total time since last epoch: %.6f(train: %.6f, val: %.6f)s, ETA: %.6fs\n",
				(er.TrainTime + er.ValTime).Seconds(), er.TrainTime.Seconds(), er.ValTime.Seconds(),
				float64(epochs-epoch-1)*(er.TrainTime+er.ValTime).Seconds())
		}
		if t.ckpt != nil && root {
			if err := t.ckpt.epochEnd(t, er, steps, epoch+1 == epochs); err != nil {
				return res, err
			}
		}
		res.Epochs = append(res.Epochs, er)
	}
	return res, nil
}

func (t *Trainer) trainEpoch(ctx context.Context, loader *data.Loader, epoch, epochs int, bar *progress) (EpochResult, error) {
	er := EpochResult{Epoch: epoch + 1}
	steps := loader.Steps()
	it, err := loader.Epoch(ctx, epoch, 0)
	if err != nil {
		return er, err
	}
	defer it.Close()
	start := time.Now()
	last := start
	var sum, intervalSum float64
	var n, intervalN int
	for {
		b, err := it.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return er, err
		}
		lr := t.opt.LR()
		loss, err := t.Step(b.Images, b.Labels)
		if err != nil {
			return er, fmt.Errorf("train: epoch %d step %d: %w", epoch+1, b.Step+1, err)
		}
		if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
			return er, fmt.Errorf("train: epoch %d step %d: loss is %v; lower the learning rate", epoch+1, b.Step+1, loss)
		}
		sum += float64(loss)
		n++
		intervalSum += float64(loss)
		intervalN++
		cur := b.Step + 1
		if t.dist.root() {
			if (t.logInterval > 0 && cur%t.logInterval == 0) || cur == steps {
				now := time.Now()
				bar.clear()
				fmt.Fprintf(t.out, "Epoch: [%d/%d], batch: [%d/%d], loss: %.6f, lr: %.6f, time: %.6fs\n",
					epoch+1, epochs, cur, steps, intervalSum/float64(intervalN), lr, now.Sub(last).Seconds()/float64(intervalN))
				last, intervalSum, intervalN = now, 0, 0
			}
			bar.show(epoch+1, epochs, cur, steps, float64(loss))
		}
	}
	bar.clear()
	er.TrainTime = time.Since(start)
	if n > 0 {
		er.TrainLoss = sum / float64(n)
	}
	return er, nil
}

func (t *Trainer) updateEMA() {
	if t.ema != nil {
		t.ema.Update()
	}
}

// swapEMA exchanges the live and the averaged weights (a no-op without EMA): once
// before evaluating or saving the averaged model, once after.
func (t *Trainer) swapEMA() {
	if t.ema != nil {
		t.ema.Swap()
	}
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

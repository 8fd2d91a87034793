package train

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/govgg/govgg/internal/atomicfile"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/optim"
	"github.com/govgg/govgg/weights"
)

// Save policies (MindCV's ckpt_save_policy).
const (
	LatestK = "latest_k" // keep the newest keep_checkpoint_max checkpoints
	TopK    = "top_k"    // keep the keep_checkpoint_max checkpoints of best validation Top-1
	NoSave  = "none"     // write no numbered checkpoints
)

// checkpointer writes, in its directory, MindCV's files:
//
//	{model}-{epoch}_{step}.ckpt            model (MindSpore format, MindCV names)
//	optim_{model}-{epoch}_{step}.safetensors  optimizer state and counters of that checkpoint
//	{model}_best.ckpt                      model of the best validation Top-1
//	result.log                             one row per epoch
//
// every file atomically (temporary file, fsync, rename), so a crash leaves the
// previous version intact.
type checkpointer struct {
	dir, model string
	policy     string
	keep       int
	interval   int

	saved []savedCkpt // numbered checkpoints under the policy, oldest first
	best  float64     // best validation Top-1 so far, -1 for none
	start int         // epochs done when the run began
}

type savedCkpt struct {
	epoch, step int
	top1        float64 // -1 without validation
}

// WithCheckpoints saves checkpoints of model (its name, e.g. "vgg16_bn") into dir
// every interval epochs and after the last one, keeping keep of them under policy
// (LatestK, TopK or NoSave), plus {model}_best.ckpt and result.log.
func WithCheckpoints(dir, model, policy string, keep, interval int) Option {
	return func(t *Trainer) error {
		switch policy {
		case LatestK, TopK, NoSave:
		default:
			return fmt.Errorf("train: checkpoint policy %q, want %s, %s or %s", policy, LatestK, TopK, NoSave)
		}
		if keep < 1 || interval < 1 {
			return fmt.Errorf("train: keep %d checkpoints every %d epochs: both must be at least 1", keep, interval)
		}
		if dir == "" || model == "" {
			return errors.New("train: checkpoints need a directory and a model name")
		}
		t.ckpt = &checkpointer{dir: dir, model: model, policy: policy, keep: keep, interval: interval, best: -1}
		return nil
	}
}

// CheckpointName returns MindCV's name of the checkpoint after epoch (1-based) of
// steps steps: "vgg16-200_5004.ckpt".
func CheckpointName(model string, epoch, steps int) string {
	return fmt.Sprintf("%s-%d_%d.ckpt", model, epoch, steps)
}

// ParseCheckpointName returns the model, epoch and step of a "{model}-{epoch}_{step}.ckpt"
// name (a path's directory is ignored).
func ParseCheckpointName(path string) (model string, epoch, step int, ok bool) {
	base := strings.TrimSuffix(filepath.Base(path), ".ckpt")
	if base == filepath.Base(path) {
		return "", 0, 0, false
	}
	i := strings.LastIndexByte(base, '-')
	if i <= 0 {
		return "", 0, 0, false
	}
	es := strings.SplitN(base[i+1:], "_", 2)
	if len(es) != 2 {
		return "", 0, 0, false
	}
	e, err1 := strconv.Atoi(es[0])
	s, err2 := strconv.Atoi(es[1])
	if err1 != nil || err2 != nil || e < 0 || s < 0 {
		return "", 0, 0, false
	}
	return base[:i], e, s, true
}

// OptimizerStatePath returns where the optimizer state of a checkpoint is kept:
// optim_{model}-{epoch}_{step}.safetensors beside it.
func OptimizerStatePath(ckptPath string) string {
	dir, base := filepath.Split(ckptPath)
	return filepath.Join(dir, "optim_"+strings.TrimSuffix(base, ".ckpt")+".safetensors")
}

func (c *checkpointer) path(name string) string { return filepath.Join(c.dir, name) }

// open prepares the directory and picks up the checkpoints an earlier part of this run
// left there (those of epochs ≤ start), so that retention and the best Top-1 continue.
func (c *checkpointer) open() error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("train: checkpoint directory: %w", err)
	}
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return fmt.Errorf("train: checkpoint directory: %w", err)
	}
	c.saved = c.saved[:0]
	for _, e := range entries {
		model, epoch, step, ok := ParseCheckpointName(e.Name())
		if !ok || model != c.model || epoch > c.start {
			continue
		}
		top1 := -1.0
		if f, err := weights.ReadFile(OptimizerStatePath(c.path(e.Name()))); err == nil {
			if v, err := strconv.ParseFloat(f.Metadata["top1"], 64); err == nil {
				top1 = v
			}
		}
		c.saved = append(c.saved, savedCkpt{epoch, step, top1})
		c.best = max(c.best, top1)
	}
	sort.Slice(c.saved, func(i, j int) bool { return c.saved[i].epoch < c.saved[j].epoch })
	return c.trimResults()
}

// trimResults keeps the result.log rows of the epochs before start: a new run starts
// a new table, a resumed one drops the rows of epochs it is about to redo.
func (c *checkpointer) trimResults() error {
	p := c.path("result.log")
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("train: result.log: %w", err)
	}
	var keep []byte
	for i, line := range strings.SplitAfter(string(b), "\n") {
		epoch, _, _ := strings.Cut(line, "\t")
		if e, err := strconv.Atoi(epoch); i > 0 && (err != nil || e > c.start) {
			continue
		}
		keep = append(keep, line...)
	}
	if c.start == 0 {
		keep = nil
	}
	return writeAtomic(p, func(w io.Writer) error { _, err := w.Write(keep); return err })
}

// epochEnd appends the epoch's row to result.log and saves what the policy asks for.
func (c *checkpointer) epochEnd(t *Trainer, er EpochResult, steps int, last bool) error {
	if err := c.appendResult(er); err != nil {
		return err
	}
	top1 := -1.0
	if er.Val != nil {
		top1 = er.Val.Top1
	}
	if c.policy != NoSave && (er.Epoch%c.interval == 0 || last) {
		name := CheckpointName(c.model, er.Epoch, steps)
		// The optimizer state goes first: a checkpoint whose .ckpt exists is complete.
		if err := saveTrainingState(OptimizerStatePath(c.path(name)), t, map[string]string{
			"model": c.model, "epoch": strconv.Itoa(er.Epoch), "step": strconv.Itoa(steps),
			"top1": strconv.FormatFloat(top1, 'g', -1, 64),
		}); err != nil {
			return err
		}
		if err := saveModel(c.path(name), t, true); err != nil {
			return err
		}
		c.saved = append(c.saved, savedCkpt{er.Epoch, steps, top1})
		if err := c.prune(); err != nil {
			return err
		}
	}
	if er.Val != nil && top1 > c.best {
		c.best = top1
		t.swapEMA() // the weights that were evaluated
		err := saveModel(c.path(c.model+"_best.ckpt"), t, false)
		t.swapEMA()
		if err != nil {
			return err
		}
	}
	return nil
}

// LastCheckpoint returns the path of the newest numbered checkpoint this trainer wrote
// or found when it started, "" if none: where to resume after an interruption.
func (t *Trainer) LastCheckpoint() string {
	if t.ckpt == nil || len(t.ckpt.saved) == 0 {
		return ""
	}
	last := t.ckpt.saved[0]
	for _, s := range t.ckpt.saved {
		if s.epoch > last.epoch {
			last = s
		}
	}
	return t.ckpt.path(CheckpointName(t.ckpt.model, last.epoch, last.step))
}

// prune deletes the checkpoints the policy no longer keeps.
func (c *checkpointer) prune() error {
	for len(c.saved) > c.keep {
		drop := 0 // latest_k: the oldest
		if c.policy == TopK {
			for i, s := range c.saved { // the lowest Top-1, the oldest among equals
				if s.top1 < c.saved[drop].top1 {
					drop = i
				}
			}
		}
		s := c.saved[drop]
		p := c.path(CheckpointName(c.model, s.epoch, s.step))
		for _, f := range []string{p, OptimizerStatePath(p)} {
			if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("train: removing old checkpoint: %w", err)
			}
		}
		c.saved = append(c.saved[:drop], c.saved[drop+1:]...)
	}
	return nil
}

const resultHeader = "Epoch\tTrainLoss\tTop1\tTop5\tValLoss\tTrainTime(s)\tValTime(s)\tEpochTime(s)\n"

func (c *checkpointer) appendResult(er EpochResult) error {
	p := c.path("result.log")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("train: result.log: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() == 0 {
		_, err = io.WriteString(f, resultHeader)
	}
	top1, top5, vloss := "-", "-", "-"
	if er.Val != nil {
		top1, top5, vloss = fmt.Sprintf("%.4f", er.Val.Top1), fmt.Sprintf("%.4f", er.Val.Top5), fmt.Sprintf("%.6f", er.Val.Loss)
	}
	if err == nil {
		_, err = fmt.Fprintf(f, "%d\t%.6f\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\n", er.Epoch, er.TrainLoss, top1, top5, vloss,
			er.TrainTime.Seconds(), er.ValTime.Seconds(), (er.TrainTime + er.ValTime).Seconds())
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("train: result.log: %w", err)
	}
	return nil
}

// modelTensors returns the model's state in MindCV's names (batch norm gamma, beta,
// moving_mean, moving_variance; num_batches_tracked dropped), which MindSpore's
// load_checkpoint and vgg.Model.LoadWeights both take. With withEMA the EMA's averages
// follow as "ema.<name>", where MindCV's TrainStep keeps them (govgg's .ckpt reader
// skips them; they are read back from the training-state file).
func modelTensors(t *Trainer, withEMA bool) []weights.Named {
	sd := t.model.StateDict()
	names := make([]string, len(sd))
	for i, p := range sd {
		names[i] = p.Name
	}
	toMS := weights.TorchvisionToMindCV(names)
	out := make([]weights.Named, 0, len(sd))
	for _, p := range sd {
		if n := toMS(p.Name); n != "" {
			out = append(out, weights.Named{Name: n, Tensor: p.Value})
		}
	}
	if withEMA && t.ema != nil {
		for _, p := range t.ema.Averages() {
			if n := toMS(strings.TrimPrefix(p.Name, "ema.")); n != "" {
				out = append(out, weights.Named{Name: "ema." + n, Tensor: p.Value})
			}
		}
	}
	return out
}

func saveModel(path string, t *Trainer, withEMA bool) error {
	ts := modelTensors(t, withEMA)
	return writeAtomic(path, func(w io.Writer) error { return weights.Write(w, ts, weights.MindSpore) })
}

// trainingState holds what a checkpoint's companion file restores besides the
// weights: the optimizer's step counts and buffers ("moments.<param>", "adam_m.…"),
// the pending gradient sums ("grad_accumulation.<param>") and the EMA ("ema.<param>").
type trainingState struct {
	opt, acc, ema optim.State
	meta          map[string]string
}

func saveTrainingState(path string, t *Trainer, meta map[string]string) error {
	s := t.opt.State()
	m := map[string]string{"global_step": strconv.Itoa(s.Step), "updates": strconv.Itoa(s.Updates)}
	tensors := s.Tensors
	if t.acc != nil {
		a := t.acc.State()
		m["accumulated"] = strconv.Itoa(a.Step)
		tensors = append(tensors[:len(tensors):len(tensors)], a.Tensors...)
	}
	if t.ema != nil {
		e := t.ema.State()
		m["ema_updates"] = strconv.Itoa(e.Updates)
		tensors = append(tensors[:len(tensors):len(tensors)], e.Tensors...)
	}
	for k, v := range meta {
		m[k] = v
	}
	ts := make([]weights.Named, len(tensors))
	for i, p := range tensors {
		ts[i] = weights.Named{Name: p.Name, Tensor: p.Value}
	}
	return writeAtomic(path, func(w io.Writer) error {
		return weights.Write(w, ts, weights.Safetensors, weights.WithMetadata(m))
	})
}

func loadTrainingState(path string) (*trainingState, error) {
	f, err := weights.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("train: training state: %w", err)
	}
	num := func(key string) (int, error) {
		v, ok := f.Metadata[key]
		if !ok {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("train: training state %s: %s is %q", path, key, v)
		}
		return n, nil
	}
	s := &trainingState{meta: f.Metadata}
	if _, ok := f.Metadata["global_step"]; !ok {
		return nil, fmt.Errorf("train: training state %s has no global_step", path)
	}
	for _, x := range []struct {
		n   *int
		key string
	}{{&s.opt.Step, "global_step"}, {&s.opt.Updates, "updates"}, {&s.acc.Step, "accumulated"}, {&s.ema.Updates, "ema_updates"}} {
		if *x.n, err = num(x.key); err != nil {
			return nil, err
		}
	}
	s.acc.Updates, s.ema.Step = s.acc.Step, s.ema.Updates
	for _, n := range f.Tensors {
		p := &layers.Param{Name: n.Name, Value: n.Tensor}
		switch {
		case strings.HasPrefix(n.Name, "grad_accumulation."):
			s.acc.Tensors = append(s.acc.Tensors, p)
		case strings.HasPrefix(n.Name, "ema."):
			s.ema.Tensors = append(s.ema.Tensors, p)
		default:
			s.opt.Tensors = append(s.opt.Tensors, p)
		}
	}
	return s, nil
}

// writeAtomic writes path through write so that it holds either its old content or
// the complete new one.
func writeAtomic(path string, write func(io.Writer) error) error {
	if err := atomicfile.Write(path, write); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// Resume continues the run that wrote ckptPath: the model's parameters and batch-norm
// statistics come from it and, for a "{model}-{epoch}_{step}.ckpt" name, training
// continues after that epoch. With withOptimizer (MindCV's resume_opt) the optimizer
// state saved beside it (OptimizerStatePath) is restored too, so the run continues
// exactly as if it had not stopped; without it the momenta start from zero while the
// learning-rate schedule still continues from the checkpoint's step.
func (t *Trainer) Resume(ckptPath string, withOptimizer bool) error {
	_, epoch, _, named := ParseCheckpointName(ckptPath)
	if err := t.model.LoadWeights(ckptPath); err != nil {
		return err
	}
	if named {
		t.startEpoch = epoch
	}
	if t.ckpt != nil {
		t.ckpt.start = t.startEpoch
	}
	if !withOptimizer {
		if t.ema != nil { // average from the loaded weights, not from the initialization
			return WithEMA(t.emaDecay)(t)
		}
		return nil
	}
	if !named {
		return fmt.Errorf("train: resume_opt: cannot tell the epoch of %s (want {model}-{epoch}_{step}.ckpt)", ckptPath)
	}
	sp := OptimizerStatePath(ckptPath)
	s, err := loadTrainingState(sp)
	if err != nil {
		return err
	}
	if s.meta["epoch"] != strconv.Itoa(epoch) {
		return fmt.Errorf("train: optimizer state %s belongs to epoch %s, not %d", sp, s.meta["epoch"], epoch)
	}
	if err := t.opt.LoadState(s.opt); err != nil {
		return fmt.Errorf("train: optimizer state %s: %w", sp, err)
	}
	if t.acc != nil {
		if err := t.acc.LoadState(s.acc); err != nil {
			return fmt.Errorf("train: gradient accumulation state %s: %w", sp, err)
		}
	}
	if t.ema != nil {
		if len(s.ema.Tensors) == 0 {
			return fmt.Errorf("train: %s has no EMA state (the run was trained without ema)", sp)
		}
		if err := t.ema.LoadState(s.ema); err != nil {
			return fmt.Errorf("train: EMA state %s: %w", sp, err)
		}
	}
	t.resumedOpt = true
	return nil
}

package vgg

import (
	"fmt"

	"github.com/govgg/govgg/weights"
)

// LoadOption configures LoadWeights.
type LoadOption func(*loadConfig)

type loadConfig struct {
	assign   []weights.AssignOption
	skipHead bool
	report   *weights.Report
}

// NonStrict lets LoadWeights succeed when the file lacks some of the model's tensors or
// has extra ones (both are still reported). Mis-shaped tensors are always an error.
func NonStrict() LoadOption {
	return func(c *loadConfig) { c.assign = append(c.assign, weights.NonStrict()) }
}

// SkipHead leaves the last classifier layer (classifier.6, or classifier.0 for a
// single-layer head) at its initial values: fine-tuning pretrained features for a new
// number of classes, as MindCV's load_pretrained does when num_classes ≠ 1000.
func SkipHead() LoadOption { return func(c *loadConfig) { c.skipHead = true } }

// ReportTo stores what LoadWeights loaded, zeroed, skipped or found missing in r.
func ReportTo(r *weights.Report) LoadOption { return func(c *loadConfig) { c.report = r } }

// LoadWeights loads a safetensors, torchvision .pth or MindCV .ckpt file by parameter
// name. MindCV names (batch-norm gamma/beta/moving_*) are mapped onto torchvision's;
// MindCV weights load into a torchvision-flavour model with zero conv biases. By
// default every model tensor must be in the file and every file tensor used; the
// error lists each missing, unexpected and mis-shaped tensor. On error the model is
// unchanged.
func (m *Model) LoadWeights(path string, opts ...LoadOption) error {
	ts, _, err := weights.Load(path)
	if err != nil {
		return err
	}
	if err := m.LoadTensors(ts, opts...); err != nil {
		return fmt.Errorf("%s into %s: %w", path, m.name, err)
	}
	return nil
}

// LoadTensors is LoadWeights for tensors already in memory.
func (m *Model) LoadTensors(ts []weights.Named, opts ...LoadOption) error {
	var c loadConfig
	for _, o := range opts {
		o(&c)
	}
	assign := c.assign
	if c.skipHead {
		assign = append(assign, weights.SkipPrefix(fmt.Sprintf("classifier.%d.", len(m.classifier.Layers())-1)))
	}
	if weights.DetectFlavor(weights.Names(ts)) == weights.MindCV {
		assign = append(assign, weights.MapNames(weights.MindCVToTorchvision))
		if m.opts.flavour == Torchvision {
			assign = append(assign, weights.ZeroMissingBiases())
		}
	}
	r, err := weights.Assign(m.named(), ts, assign...)
	if c.report != nil && r != nil {
		*c.report = *r
	}
	if err != nil {
		return err
	}
	m.ParamsChanged()
	return nil
}

// named returns the model's state dict as weights.Named, sharing storage.
func (m *Model) named() []weights.Named {
	sd := m.StateDict()
	out := make([]weights.Named, len(sd))
	for i, p := range sd {
		out[i] = weights.Named{Name: p.Name, Tensor: p.Value, DType: weights.F32}
	}
	return out
}

// SaveWeights writes the model's parameters and batch-norm statistics, atomically, as
// safetensors (native; any extension but .ckpt) or, for a .ckpt path, as a MindSpore
// checkpoint with MindCV's names so that MindCV's load_checkpoint takes it.
func (m *Model) SaveWeights(path string) error {
	ts := m.named()
	format := weights.FormatFromExt(path)
	switch format {
	case weights.MindSpore:
		rename := weights.TorchvisionToMindCV(weights.Names(ts))
		kept := ts[:0]
		for _, t := range ts {
			if t.Name = rename(t.Name); t.Name != "" {
				kept = append(kept, t)
			}
		}
		ts = kept
	case weights.PyTorch:
		return fmt.Errorf("vgg: cannot write %s: govgg writes safetensors or MindSpore .ckpt, not PyTorch pickles (torch loads safetensors)", path)
	default:
		format = weights.Safetensors
	}
	meta := map[string]string{"model": m.name, "flavour": m.opts.flavour.String(), "num_classes": fmt.Sprint(m.opts.numClasses), "in_channels": fmt.Sprint(m.opts.inChannels), "format": "pt"}
	var opts []weights.SaveOption
	if format == weights.Safetensors {
		opts = append(opts, weights.WithMetadata(meta))
	}
	return weights.Save(path, ts, format, opts...)
}

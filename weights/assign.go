package weights

import (
	"fmt"
	"sort"
	"strings"

	"github.com/govgg/govgg/tensor"
)

// AssignOption configures Assign.
type AssignOption func(*assignConfig)

type assignConfig struct {
	strict     bool
	skip       []string
	mapName    func(string) string
	keepNBT    bool
	zeroBiases bool
}

// NonStrict lets Assign succeed with missing and unexpected tensors, which are
// still reported. Mis-shaped tensors are always an error.
func NonStrict() AssignOption { return func(c *assignConfig) { c.strict = false } }

// SkipPrefix leaves out every tensor whose (mapped) name starts with one of the
// prefixes, on both sides: the model keeps its own values and nothing is reported
// missing. MindCV's load_pretrained does this with "classifier.6." when the number
// of classes is not 1000.
func SkipPrefix(prefixes ...string) AssignOption {
	return func(c *assignConfig) { c.skip = append(c.skip, prefixes...) }
}

// MapNames renames source tensors before matching, e.g. MindCVToTorchvision. A
// mapper that returns "" drops the tensor.
func MapNames(f func(string) string) AssignOption {
	return func(c *assignConfig) { c.mapName = f }
}

// KeepNumBatchesTracked matches BatchNorm's num_batches_tracked counters like any
// other tensor. By default they are ignored on both sides: they do not affect
// inference and many checkpoints lack them.
func KeepNumBatchesTracked() AssignOption { return func(c *assignConfig) { c.keepNBT = true } }

// ZeroMissingBiases fills a missing "X.bias" with zeros when "X.weight" was
// loaded, and reports it in Report.Zeroed instead of Report.Missing. This loads
// MindCV weights, whose convolutions have no bias, into a torchvision-style model.
func ZeroMissingBiases() AssignOption { return func(c *assignConfig) { c.zeroBiases = true } }

// Mismatch is a tensor whose shape differs between the model and the file.
type Mismatch struct {
	Name       string
	Model, Src []int
}

// Report says what Assign did with each tensor.
type Report struct {
	Loaded     []string   // copied into the model
	Zeroed     []string   // missing biases set to zero (ZeroMissingBiases)
	Skipped    []string   // source tensors left out by a prefix, the mapper or the num_batches_tracked rule
	Missing    []string   // model tensors with no source
	Unexpected []string   // source tensors with no model tensor
	Mismatched []Mismatch // same name, different shape
}

// String summarises the report in one line, for logs.
func (r *Report) String() string {
	s := fmt.Sprintf("loaded %d", len(r.Loaded))
	for _, part := range []struct {
		what  string
		names []string
	}{{"zeroed", r.Zeroed}, {"skipped", r.Skipped}, {"missing", r.Missing}, {"unexpected", r.Unexpected}} {
		if len(part.names) > 0 {
			s += fmt.Sprintf(", %s %d (%s)", part.what, len(part.names), strings.Join(part.names, ", "))
		}
	}
	if len(r.Mismatched) > 0 {
		s += fmt.Sprintf(", mis-shaped %d", len(r.Mismatched))
	}
	return s
}

// AssignError lists every problem that made Assign fail.
type AssignError struct {
	Report *Report
	msg    string
}

func (e *AssignError) Error() string { return e.msg }

// Assign copies src tensors into the model tensors dst by name. It checks
// everything first and copies only if nothing is wrong, so a failed Assign leaves
// the model untouched. By default it is strict: every model tensor must be found
// and every source tensor used; the error then lists every missing, unexpected and
// mis-shaped tensor with its shape.
func Assign(dst, src []Named, opts ...AssignOption) (*Report, error) {
	c := assignConfig{strict: true}
	for _, o := range opts {
		o(&c)
	}
	r := &Report{}
	skipped := func(name string) bool {
		if !c.keepNBT && strings.HasSuffix(name, "num_batches_tracked") {
			return true
		}
		for _, p := range c.skip {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	srcBy := make(map[string]*tensor.Tensor, len(src))
	var srcOrder []string
	for _, s := range src {
		name := s.Name
		if c.mapName != nil {
			name = c.mapName(name)
		}
		if name == "" || skipped(name) {
			r.Skipped = append(r.Skipped, s.Name)
			continue
		}
		if _, dup := srcBy[name]; dup {
			return r, fmt.Errorf("weights: two source tensors are named %q after mapping", name)
		}
		srcBy[name] = s.Tensor
		srcOrder = append(srcOrder, name)
	}
	dstBy := make(map[string]*tensor.Tensor, len(dst))
	var copies [][2]*tensor.Tensor
	var zero []*tensor.Tensor
	for _, d := range dst {
		if skipped(d.Name) {
			continue
		}
		if _, dup := dstBy[d.Name]; dup {
			return r, fmt.Errorf("weights: the model has two tensors named %q", d.Name)
		}
		dstBy[d.Name] = d.Tensor
		s, ok := srcBy[d.Name]
		switch {
		case !ok:
			if c.zeroBiases && strings.HasSuffix(d.Name, ".bias") {
				if _, hasW := srcBy[strings.TrimSuffix(d.Name, ".bias")+".weight"]; hasW {
					r.Zeroed = append(r.Zeroed, d.Name)
					zero = append(zero, d.Tensor)
					continue
				}
			}
			r.Missing = append(r.Missing, d.Name)
		case !tensor.SameShape(s.Shape(), d.Tensor.Shape()) || d.Tensor.Layout() != tensor.NCHW:
			r.Mismatched = append(r.Mismatched, Mismatch{Name: d.Name, Model: d.Tensor.Shape(), Src: s.Shape()})
		default:
			r.Loaded = append(r.Loaded, d.Name)
			copies = append(copies, [2]*tensor.Tensor{d.Tensor, s})
		}
	}
	for _, name := range srcOrder {
		if _, ok := dstBy[name]; !ok {
			r.Unexpected = append(r.Unexpected, name)
		}
	}
	if len(r.Mismatched) > 0 || (c.strict && len(r.Missing)+len(r.Unexpected) > 0) {
		return r, &AssignError{Report: r, msg: assignMessage(r, dstBy, srcBy)}
	}
	for _, cp := range copies {
		copy(cp[0].Data(), cp[1].Data())
	}
	for _, t := range zero {
		t.Zero()
	}
	return r, nil
}

// AssignMap is Assign with the model tensors given as a map from name to tensor.
func AssignMap(dst map[string]*tensor.Tensor, src []Named, opts ...AssignOption) (*Report, error) {
	ds := make([]Named, 0, len(dst))
	for name, t := range dst {
		ds = append(ds, Named{Name: name, Tensor: t})
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].Name < ds[j].Name })
	return Assign(ds, src, opts...)
}

func assignMessage(r *Report, dst, src map[string]*tensor.Tensor) string {
	var b strings.Builder
	b.WriteString("weights: cannot load the model's tensors:")
	if len(r.Missing) > 0 {
		fmt.Fprintf(&b, "\n  %d missing from the file:", len(r.Missing))
		for _, n := range r.Missing {
			fmt.Fprintf(&b, " %s %v;", n, dst[n].Shape())
		}
	}
	if len(r.Unexpected) > 0 {
		fmt.Fprintf(&b, "\n  %d unexpected in the file:", len(r.Unexpected))
		for _, n := range r.Unexpected {
			fmt.Fprintf(&b, " %s %v;", n, src[n].Shape())
		}
	}
	if len(r.Mismatched) > 0 {
		fmt.Fprintf(&b, "\n  %d with a different shape:", len(r.Mismatched))
		for _, m := range r.Mismatched {
			if dst[m.Name].Layout() != tensor.NCHW {
				fmt.Fprintf(&b, " %s: model tensor is in layout %v, not NCHW;", m.Name, dst[m.Name].Layout())
				continue
			}
			fmt.Fprintf(&b, " %s: model %v, file %v;", m.Name, m.Model, m.Src)
		}
	}
	return b.String()
}

package layers

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/govgg/govgg/tensor"
)

// Sequential runs its layers one after the other, like PyTorch's nn.Sequential. Its
// parameters and buffers are named by child index: "0.weight", "1.running_mean", and
// "2.0.bias" for a nested Sequential, so a vgg "features" Sequential yields
// torchvision's keys after the prefix "features.".
//
// A Sequential also saves memory and time: a ReLU that follows a Conv2d,
// BatchNorm2d or Linear overwrites that layer's output (none of them reads its
// output in Backward, and ReLU's gradient comes from its own output); a ReLU right
// after a Conv2d is applied inside the convolution, in both modes; and in
// evaluation mode a BatchNorm2d right after a Conv2d is folded into the weights
// sent to the conv plan, with the ReLU after it fused as well. Fused and folded
// layers pass their input through. The network's output is the same (up to
// rounding); the folded layers' own outputs are then the fused ones, and Backward
// through a folded batch norm is an error.
//
// Backward fuses too: a ReLU followed by a Conv2d or MaxPool2d leaves its gradient
// (dy where its output is > 0 or NaN) to that layer, which applies it as it writes
// its input gradient (MaskedConvOp, MaskedPoolBackend; the CPU supports both), and
// then passes the gradient through. Gradients are bit for bit those of the unfused
// network. On a backend without that support the ReLU computes its gradient
// itself. SetFusion(false) turns all of this off.
type Sequential struct {
	layers   []Layer
	needDX   bool
	training bool
	fuse     bool

	gradHook   GradHook
	hookParams [][]*Param // each child's Params, cached when the hook is set
}

// GradHook receives a layer's parameters as soon as Backward has written their
// gradients, while the layers before it still have theirs to compute: data-parallel
// training starts reducing a bucket of gradients there (package dist).
type GradHook func(ps []*Param)

// NewSequential returns a Sequential of the given layers, in evaluation mode.
func NewSequential(layers ...Layer) *Sequential {
	s := &Sequential{layers: append([]Layer(nil), layers...), needDX: true, fuse: true}
	s.applyFusion()
	return s
}

// Append adds layers at the end.
func (s *Sequential) Append(layers ...Layer) {
	s.layers = append(s.layers, layers...)
	s.applyFusion()
	if s.gradHook != nil {
		s.SetGradHook(s.gradHook)
	}
}

// SetGradHook makes Backward call h with each child's parameters right after that
// child's Backward (nested Sequentials call it for their own children); nil removes
// it. The parameter lists are built here, so Backward still allocates nothing.
func (s *Sequential) SetGradHook(h GradHook) {
	s.gradHook = h
	s.hookParams = make([][]*Param, len(s.layers))
	for i, l := range s.layers {
		if sub, ok := l.(*Sequential); ok {
			sub.SetGradHook(h)
		} else if h != nil {
			s.hookParams[i] = l.Params()
		}
	}
}

// SetFusion turns fusion (see Sequential: in-place ReLUs, Conv2d with a following
// BatchNorm2d and ReLU, a ReLU's gradient applied by the next layer) on (the
// default) or off.
func (s *Sequential) SetFusion(on bool) {
	s.fuse = on
	s.applyFusion()
}

// applyFusion sets or clears the in-place flag of every ReLU, the pairing of every
// ReLU with a Conv2d or MaxPool2d after it, and the fusion flags of every Conv2d
// [BatchNorm2d] ReLU run.
func (s *Sequential) applyFusion() {
	for i, l := range s.layers {
		if r, ok := l.(*ReLU); ok {
			r.overwrite = false
			if s.fuse && i > 0 {
				switch s.layers[i-1].(type) {
				case *Conv2d, *BatchNorm2d, *Linear:
					r.overwrite = true
				}
			}
			r.maskedBy = nil
		}
	}
	for i, l := range s.layers {
		if m, ok := l.(reluMasker); ok {
			var r *ReLU
			if s.fuse && i > 0 {
				r, _ = s.layers[i-1].(*ReLU)
			}
			m.setReLUMask(r != nil)
			if r != nil {
				r.maskedBy = m
			}
		}
	}
	for i := 0; i < len(s.layers); i++ {
		c, ok := s.layers[i].(*Conv2d)
		if !ok {
			continue
		}
		j := i + 1
		var bn *BatchNorm2d
		if j < len(s.layers) {
			if b, ok := s.layers[j].(*BatchNorm2d); ok && b.c == c.out {
				bn = b
				j++
			}
		}
		var relu *ReLU
		if j < len(s.layers) {
			relu, _ = s.layers[j].(*ReLU)
		}
		// Folding a batch norm needs its running statistics: evaluation only. A
		// ReLU right after the conv fuses in both modes (the conv's Backward does
		// not read its output, the ReLU's reads the fused one).
		fold := s.fuse && !s.training && bn != nil
		fuseReLU := s.fuse && relu != nil && (bn == nil || fold)
		if bn != nil {
			bn.foldedInto = nil
		}
		if !fold {
			bn = nil
		}
		c.setFusion(bn, fuseReLU)
		if bn != nil {
			bn.foldedInto = c
		}
		if relu != nil {
			relu.fused = fuseReLU
		}
	}
}

// Layers returns the children in order. The slice must not be modified.
func (s *Sequential) Layers() []Layer { return s.layers }

// Len returns the number of children.
func (s *Sequential) Len() int { return len(s.layers) }

// String lists the children, one per line, PyTorch style.
func (s *Sequential) String() string {
	var b strings.Builder
	b.WriteString("Sequential(\n")
	for i, l := range s.layers {
		fmt.Fprintf(&b, "  (%d): %v\n", i, strings.ReplaceAll(fmt.Sprint(l), "\n", "\n  "))
	}
	b.WriteString(")")
	return b.String()
}

// Forward runs every child on the previous one's output.
func (s *Sequential) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	for _, l := range s.layers {
		var err error
		if x, err = l.Forward(x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// Backward runs every child's Backward in reverse order. After
// SetNeedInputGrad(false) it returns nil.
func (s *Sequential) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	for i := len(s.layers) - 1; i >= 0; i-- {
		var err error
		if dy, err = s.layers[i].Backward(dy); err != nil {
			return nil, err
		}
		if s.gradHook != nil && len(s.hookParams[i]) > 0 {
			s.gradHook(s.hookParams[i])
		}
		if dy == nil && i > 0 {
			return nil, fmt.Errorf("layers: Sequential: layer %d (%v) returned no input gradient but layer %d needs one", i, s.layers[i], i-1)
		}
	}
	if !s.needDX {
		return nil, nil
	}
	return dy, nil
}

// Params returns the children's parameters with names prefixed by the child's index.
func (s *Sequential) Params() []*Param {
	var out []*Param
	for i, l := range s.layers {
		out = appendPrefixed(out, strconv.Itoa(i)+".", l.Params())
	}
	return out
}

// Buffers returns the children's buffers with names prefixed by the child's index.
func (s *Sequential) Buffers() []*Param {
	var out []*Param
	for i, l := range s.layers {
		out = appendPrefixed(out, strconv.Itoa(i)+".", l.Buffers())
	}
	return out
}

func appendPrefixed(out []*Param, prefix string, ps []*Param) []*Param {
	for _, p := range ps {
		out = append(out, &Param{Name: prefix + p.Name, Value: p.Value, Grad: p.Grad})
	}
	return out
}

// SetTraining switches every child, and the fusion of evaluation mode.
func (s *Sequential) SetTraining(on bool) {
	s.training = on
	for _, l := range s.layers {
		l.SetTraining(on)
	}
	s.applyFusion()
}

// ParamsChanged tells every child.
func (s *Sequential) ParamsChanged() {
	for _, l := range s.layers {
		l.ParamsChanged()
	}
}

// SetBackend sets the backend of every child.
func (s *Sequential) SetBackend(b Backend) {
	for _, l := range s.layers {
		if bs, ok := l.(BackendSetter); ok {
			bs.SetBackend(b)
		}
	}
}

// SetNeedInputGrad passes the setting to the first child (when it can skip its input
// gradient) and makes Backward return nil when off.
func (s *Sequential) SetNeedInputGrad(need bool) {
	s.needDX = need
	if len(s.layers) > 0 {
		if g, ok := s.layers[0].(InputGradSetter); ok {
			g.SetNeedInputGrad(need)
		}
	}
}

// OutShape chains the children's output shapes.
func (s *Sequential) OutShape(in []int) ([]int, error) {
	out := append([]int(nil), in...)
	for _, l := range s.layers {
		var err error
		if out, err = l.OutShape(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

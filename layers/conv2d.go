package layers

import (
	"fmt"

	"github.com/govgg/govgg/conv"
	"github.com/govgg/govgg/tensor"
)

// Conv2d is a 2-D convolution with square kernels, PyTorch's nn.Conv2d with
// dilation 1 and groups 1: weight K×C×R×S ("weight"), optional bias K ("bias").
//
// It computes through a ConvOp (a conv.Plan on the CPU) made for the input's
// height and width on the first Forward and remade when they change. The plan keeps
// the weights in its own form; Conv2d re-sends them before the next Forward after
// ParamsChanged and after every Backward (whose gradients exist to be applied by an
// optimizer step), so training needs no extra call; a loader that writes weights
// must call ParamsChanged.
type Conv2d struct {
	backendRef
	in, out, kernel, stride, padding int
	opts                             []conv.Option

	weight, bias *Param

	op        ConvOp
	opBackend Backend
	geom      conv.Geometry
	stale     bool
	needDX    bool

	x, y, dx *tensor.Tensor
	yShape   []int
}

// NewConv2d returns a convolution from in to out channels with a kernel×kernel
// window, stride and zero padding, with or without bias, initialized like PyTorch
// (U(±1/√(in·kernel²))). opts are passed to the conv plan (algorithm choice). A
// fused ReLU (conv.WithReLU) makes Forward return relu(conv(x)); Backward then does
// not differentiate through that ReLU, so use it for inference only.
func NewConv2d(in, out, kernel, stride, padding int, bias bool, opts ...conv.Option) (*Conv2d, error) {
	switch {
	case in <= 0 || out <= 0:
		return nil, fmt.Errorf("layers: Conv2d: channels must be positive, got in=%d out=%d", in, out)
	case kernel <= 0:
		return nil, fmt.Errorf("layers: Conv2d: kernel must be positive, got %d", kernel)
	case stride <= 0:
		return nil, fmt.Errorf("layers: Conv2d: stride must be positive, got %d", stride)
	case padding < 0:
		return nil, fmt.Errorf("layers: Conv2d: padding must not be negative, got %d", padding)
	}
	l := &Conv2d{in: in, out: out, kernel: kernel, stride: stride, padding: padding,
		opts: opts, needDX: true, stale: true}
	l.weight = newParam("weight", out, in, kernel, kernel)
	if bias {
		l.bias = newParam("bias", out)
	}
	kaimingUniform(l.weight, l.bias, in*kernel*kernel)
	return l, nil
}

// String describes the layer like PyTorch's repr, e.g. "Conv2d(3→64, k3 s1 p1)".
func (l *Conv2d) String() string {
	return fmt.Sprintf("Conv2d(%d→%d, k%d s%d p%d)", l.in, l.out, l.kernel, l.stride, l.padding)
}

// Params returns weight and, if present, bias.
func (l *Conv2d) Params() []*Param { return nonNilParams(l.weight, l.bias) }

// Buffers returns nothing.
func (l *Conv2d) Buffers() []*Param { return nil }

// SetTraining does nothing: a convolution behaves the same in both modes.
func (l *Conv2d) SetTraining(bool) {}

// ParamsChanged makes the next Forward re-send the weights to the plan.
func (l *Conv2d) ParamsChanged() { l.stale = true }

// SetNeedInputGrad turns the computation of dL/dx in Backward on or off; off suits the
// network's first layer, whose input is the image.
func (l *Conv2d) SetNeedInputGrad(need bool) { l.needDX = need }

// OutShape returns N×out×OH×OW for an N×in×H×W input.
func (l *Conv2d) OutShape(in []int) ([]int, error) {
	g, err := l.geometry(in)
	if err != nil {
		return nil, err
	}
	return []int{in[0], l.out, g.OutH(), g.OutW()}, nil
}

func (l *Conv2d) geometry(in []int) (conv.Geometry, error) {
	if len(in) != 4 || in[1] != l.in {
		return conv.Geometry{}, fmt.Errorf("layers: %s: input must be N×%d×H×W, got shape %v", l, l.in, in)
	}
	g := conv.Geometry{C: l.in, H: in[2], W: in[3], K: l.out, R: l.kernel, S: l.kernel,
		StrideH: l.stride, StrideW: l.stride, PadH: l.padding, PadW: l.padding, DilH: 1, DilW: 1}
	if err := g.Validate(); err != nil {
		return g, fmt.Errorf("layers: %s: input %v: %w", l, in, err)
	}
	return g, nil
}

func (l *Conv2d) biasData() []float32 {
	if l.bias == nil {
		return nil
	}
	return l.bias.Value.Data()
}

// Forward convolves an N×in×H×W batch.
func (l *Conv2d) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkNil(l, x); err != nil {
		return nil, err
	}
	g, err := l.geometry(x.Shape())
	if err != nil {
		return nil, err
	}
	if be := l.backend(); l.op == nil || g != l.geom || be != l.opBackend {
		op, err := l.conv().NewConv(g, l.opts...)
		if err != nil {
			return nil, fmt.Errorf("layers: %s: %w", l, err)
		}
		l.op, l.geom, l.opBackend, l.stale = op, g, be, true
	}
	if l.stale {
		if err := l.op.SetWeights(l.weight.Value.Data(), l.biasData()); err != nil {
			return nil, fmt.Errorf("layers: %s: %w", l, err)
		}
		l.stale = false
	}
	n := x.Dim(0)
	l.yShape = append(l.yShape[:0], n, l.out, g.OutH(), g.OutW())
	l.y = tensor.Ensure(l.y, l.yShape...)
	if err := l.op.Forward(l.y.Data(), x.Data(), n); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	l.x = x
	return l.y, nil
}

// Backward overwrites the weight and bias gradients and returns dL/dx (nil after
// SetNeedInputGrad(false)).
func (l *Conv2d) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkGrad(l, l.y, dy); err != nil {
		return nil, err
	}
	n := l.x.Dim(0)
	var db []float32
	if l.bias != nil {
		db = l.bias.Grad.Data()
	}
	if err := l.op.BackwardFilter(l.weight.Grad.Data(), db, l.x.Data(), dy.Data(), n); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	// An optimizer step is about to change the weights.
	l.stale = true
	if !l.needDX {
		return nil, nil
	}
	l.dx = tensor.Ensure(l.dx, l.x.Shape()...)
	if err := l.op.BackwardData(l.dx.Data(), dy.Data(), n); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	return l.dx, nil
}

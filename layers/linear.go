package layers

import (
	"fmt"

	"github.com/govgg/govgg/tensor"
)

// Linear is PyTorch's nn.Linear: y = x·Wᵀ + b over the last dimension, weight
// out×in ("weight"), optional bias out ("bias"). The products run on the SGEMM
// driver: dW = dyᵀ·x, dX = dy·W.
type Linear struct {
	backendRef
	in, out      int
	weight, bias *Param
	needDX       bool
	outShape     []int
	x, y, dx     *tensor.Tensor
}

// NewLinear returns a linear layer from in to out features, initialized like
// PyTorch (U(±1/√in)). Non-positive sizes are reported by Forward and OutShape.
func NewLinear(in, out int, bias bool) *Linear {
	l := &Linear{in: in, out: out, needDX: true}
	l.weight = newParam("weight", max(out, 0), max(in, 0))
	if bias {
		l.bias = newParam("bias", max(out, 0))
	}
	if in > 0 {
		kaimingUniform(l.weight, l.bias, in)
	}
	return l
}

// String describes the layer, e.g. "Linear(25088→4096)".
func (l *Linear) String() string { return fmt.Sprintf("Linear(%d→%d)", l.in, l.out) }

// Params returns weight and, if present, bias.
func (l *Linear) Params() []*Param { return nonNilParams(l.weight, l.bias) }

// Buffers returns nothing.
func (l *Linear) Buffers() []*Param { return nil }

// SetTraining does nothing.
func (l *Linear) SetTraining(bool) {}

// ParamsChanged does nothing: the weights are read in place on every call.
func (l *Linear) ParamsChanged() {}

// SetNeedInputGrad turns the computation of dL/dx in Backward on or off.
func (l *Linear) SetNeedInputGrad(need bool) { l.needDX = need }

// OutShape replaces the last dimension, which must be in, by out.
func (l *Linear) OutShape(in []int) ([]int, error) {
	if err := l.check(in); err != nil {
		return nil, err
	}
	s := append([]int(nil), in...)
	s[len(s)-1] = l.out
	return s, nil
}

func (l *Linear) check(in []int) error {
	if l.in <= 0 || l.out <= 0 {
		return fmt.Errorf("layers: %s: sizes must be positive", l)
	}
	if len(in) == 0 || in[len(in)-1] != l.in {
		return fmt.Errorf("layers: %s: input must be …×%d, got shape %v", l, l.in, in)
	}
	return nil
}

// Forward computes x·Wᵀ + b for every row of x.
func (l *Linear) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkNil(l, x); err != nil {
		return nil, err
	}
	s := x.Shape()
	if err := l.check(s); err != nil {
		return nil, err
	}
	l.outShape = append(l.outShape[:0], s...)
	l.outShape[len(s)-1] = l.out
	l.y = tensor.Ensure(l.y, l.outShape...)
	rows := x.Len() / l.in
	y := l.y.Data()
	beta := float32(0)
	if l.bias != nil {
		b := l.bias.Value.Data()
		for r := 0; r < rows; r++ {
			copy(y[r*l.out:(r+1)*l.out], b)
		}
		beta = 1
	}
	if err := l.gemm().Sgemm(false, true, rows, l.out, l.in, 1, x.Data(), l.in,
		l.weight.Value.Data(), l.in, beta, y, l.out); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	l.x = x
	return l.y, nil
}

// Backward overwrites dW = dyᵀ·x and db = Σ_rows dy and returns dX = dy·W (nil after
// SetNeedInputGrad(false)).
func (l *Linear) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkGrad(l, l.y, dy); err != nil {
		return nil, err
	}
	rows := l.x.Len() / l.in
	g := l.gemm()
	if err := g.Sgemm(true, false, l.out, l.in, rows, 1, dy.Data(), l.out,
		l.x.Data(), l.in, 0, l.weight.Grad.Data(), l.in); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	if l.bias != nil {
		db, d := l.bias.Grad.Data(), dy.Data()
		copy(db, d[:l.out])
		for r := 1; r < rows; r++ {
			for j, v := range d[r*l.out : (r+1)*l.out] {
				db[j] += v
			}
		}
	}
	if !l.needDX {
		return nil, nil
	}
	l.dx = tensor.Ensure(l.dx, l.x.Shape()...)
	if err := g.Sgemm(false, false, rows, l.in, l.out, 1, dy.Data(), l.out,
		l.weight.Value.Data(), l.in, 0, l.dx.Data(), l.in); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	return l.dx, nil
}

// Flatten reshapes N×d1×d2×… to N×(d1·d2·…) (PyTorch's nn.Flatten, start_dim 1). It
// returns views of its input and of the gradient; no data moves.
type Flatten struct {
	inShape, yShape []int
	fwd, bwd        view
	y               *tensor.Tensor
}

// view caches a reshaped view of one storage so that steady-state calls do not
// allocate a new tensor header.
type view struct {
	t    *tensor.Tensor
	base *float32
}

// of returns t reshaped to shape, reusing the cached view when it already views the
// same storage with that shape.
func (v *view) of(t *tensor.Tensor, shape ...int) (*tensor.Tensor, error) {
	var base *float32
	if d := t.Data(); len(d) > 0 {
		base = &d[0]
	}
	if v.t != nil && base != nil && base == v.base && v.t.Len() == t.Len() && tensor.SameShape(v.t.Shape(), shape) {
		return v.t, nil
	}
	r, err := t.Reshape(shape...)
	if err != nil {
		return nil, err
	}
	v.t, v.base = r, base
	return r, nil
}

// NewFlatten returns a flatten from dimension 1 on.
func NewFlatten() *Flatten { return &Flatten{} }

// String returns "Flatten".
func (l *Flatten) String() string { return "Flatten" }

// Params returns nothing.
func (l *Flatten) Params() []*Param { return nil }

// Buffers returns nothing.
func (l *Flatten) Buffers() []*Param { return nil }

// SetTraining does nothing.
func (l *Flatten) SetTraining(bool) {}

// ParamsChanged does nothing.
func (l *Flatten) ParamsChanged() {}

// SetBackend does nothing: flattening computes nothing.
func (l *Flatten) SetBackend(Backend) {}

// OutShape returns N×(product of the other dimensions).
func (l *Flatten) OutShape(in []int) ([]int, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("layers: Flatten: input must have at least 2 dimensions, got shape %v", in)
	}
	return []int{in[0], tensor.Numel(in[1:]...)}, nil
}

// Forward returns an N×rest view of x.
func (l *Flatten) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkNil(l, x); err != nil {
		return nil, err
	}
	s := x.Shape()
	if len(s) < 2 {
		return nil, fmt.Errorf("layers: Flatten: input must have at least 2 dimensions, got shape %v", s)
	}
	l.yShape = append(l.yShape[:0], s[0], tensor.Numel(s[1:]...))
	y, err := l.fwd.of(x, l.yShape...)
	if err != nil {
		return nil, fmt.Errorf("layers: Flatten: %w", err)
	}
	l.inShape = append(l.inShape[:0], s...)
	l.y = y
	return y, nil
}

// Backward returns a view of dy with the input's shape.
func (l *Flatten) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkGrad(l, l.y, dy); err != nil {
		return nil, err
	}
	dx, err := l.bwd.of(dy, l.inShape...)
	if err != nil {
		return nil, fmt.Errorf("layers: Flatten: %w", err)
	}
	return dx, nil
}

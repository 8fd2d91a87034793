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
	// paramsStale: the host may have written the parameters since the backend
	// paramsBE was last told (see HostSync).
	paramsStale bool
	paramsBE    Backend
	outShape    []int
	x, y, dx    *tensor.Tensor
}

// NewLinear returns a linear layer from in to out features, initialized like
// PyTorch (U(±1/√in)). Non-positive sizes are reported by Forward and OutShape.
func NewLinear(in, out int, bias bool) *Linear {
	l := &Linear{in: in, out: out, needDX: true, paramsStale: true}
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

// ParamsChanged tells a backend with memory of its own (HostSync) to send the
// parameters again; the CPU reads them in place on every call.
func (l *Linear) ParamsChanged() { l.paramsStale = true }

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
	be := l.backend()
	if l.paramsStale || be != l.paramsBE {
		// The parameters changed on the host (or this backend never saw them).
		l.hostWrote(l.weight.Value.Data())
		if l.bias != nil {
			l.hostWrote(l.bias.Value.Data())
		}
		l.paramsStale, l.paramsBE = false, be
	}
	if err := linearForward(be, l.y.Data(), x.Data(), l.weight.Value.Data(), l.biasData(), rows, l.in, l.out); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	l.x = x
	return l.y, nil
}

func (l *Linear) biasData() []float32 {
	if l.bias == nil {
		return nil
	}
	return l.bias.Value.Data()
}

// Backward overwrites dW = dyᵀ·x and db = Σ_rows dy and returns dX = dy·W (nil after
// SetNeedInputGrad(false)).
func (l *Linear) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkGrad(l, l.y, dy); err != nil {
		return nil, err
	}
	rows := l.x.Len() / l.in
	var db, dx []float32
	if l.bias != nil {
		db = l.bias.Grad.Data()
	}
	if l.needDX {
		l.dx = tensor.Ensure(l.dx, l.x.Shape()...)
		dx = l.dx.Data()
	}
	if err := linearBackward(l.backend(), l.weight.Grad.Data(), db, dx, dy.Data(), l.x.Data(),
		l.weight.Value.Data(), rows, l.in, l.out); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	// An optimizer reads the gradients on the host and then changes the weights.
	if err := l.toHost(l.weight.Grad.Data()); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	if err := l.toHost(db); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	l.paramsStale = true
	if !l.needDX {
		return nil, nil
	}
	return l.dx, nil
}

// linearForward computes y = x·wᵀ + bias with be's LinearBackend, or else with its
// GemmBackend (the CPU's if it has none).
func linearForward(be Backend, y, x, w, bias []float32, rows, in, out int) error {
	if lb, ok := be.(LinearBackend); ok {
		return lb.LinearForward(y, x, w, bias, rows, in, out)
	}
	g, ok := be.(GemmBackend)
	if !ok {
		g = cpuBackend{}
	}
	hs, _ := be.(HostSync)
	return gemmLinearForward(g, hs, y, x, w, bias, rows, in, out)
}

// linearBackward is LinearBackward with be's LinearBackend or else its GemmBackend.
func linearBackward(be Backend, dw, db, dx, dy, x, w []float32, rows, in, out int) error {
	if lb, ok := be.(LinearBackend); ok {
		return lb.LinearBackward(dw, db, dx, dy, x, w, rows, in, out)
	}
	g, ok := be.(GemmBackend)
	if !ok {
		g = cpuBackend{}
	}
	hs, _ := be.(HostSync)
	return gemmLinearBackward(g, hs, dw, db, dx, dy, x, w, rows, in, out)
}

// gemmLinearForward writes the bias into every row of y on the host and
// accumulates x·wᵀ into it with g (hs, if any, is told about the host write).
func gemmLinearForward(g GemmBackend, hs HostSync, y, x, w, bias []float32, rows, in, out int) error {
	beta := float32(0)
	if bias != nil {
		for r := 0; r < rows; r++ {
			copy(y[r*out:(r+1)*out], bias)
		}
		if hs != nil {
			hs.HostWrote(y)
		}
		beta = 1
	}
	return g.Sgemm(false, true, rows, out, in, 1, x, in, w, in, beta, y, out)
}

// gemmLinearBackward computes dw and dx with g and sums db on the host (hs, if
// any, brings dy there first).
func gemmLinearBackward(g GemmBackend, hs HostSync, dw, db, dx, dy, x, w []float32, rows, in, out int) error {
	if err := g.Sgemm(true, false, out, in, rows, 1, dy, out, x, in, 0, dw, in); err != nil {
		return err
	}
	if db != nil {
		if hs != nil {
			if err := hs.ToHost(dy); err != nil {
				return err
			}
		}
		copy(db, dy[:out])
		for r := 1; r < rows; r++ {
			for j, v := range dy[r*out : (r+1)*out] {
				db[j] += v
			}
		}
	}
	if dx == nil {
		return nil
	}
	return g.Sgemm(false, false, rows, in, out, 1, dy, out, w, in, 0, dx, in)
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

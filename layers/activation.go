package layers

import (
	"fmt"

	"github.com/govgg/govgg/tensor"
)

// ReLU is max(x, 0) elementwise (NaN stays NaN, as in PyTorch). Its gradient is taken
// from its output, so it may overwrite its input (SetInPlace), which saves one
// activation-sized buffer per ReLU in a VGG.
type ReLU struct {
	backendRef
	inPlace   bool
	overwrite bool           // in place, decided by the Sequential that holds it
	fused     bool           // the preceding Conv2d applies it (set by Sequential)
	maskedBy  reluMasker     // the next layer, which may apply the gradient (set by Sequential)
	out       *tensor.Tensor // own output buffer
	y, dx     *tensor.Tensor // y: the last output (out, or the input in place)
}

// reluMasker is a layer that can apply, in its own Backward, the backward pass of
// the ReLU whose output is its input (Conv2d and MaxPool2d, when their backend
// supports it). A Sequential pairs the two; the ReLU's Backward then passes the
// gradient through.
type reluMasker interface {
	// setReLUMask turns the masking on or off.
	setReLUMask(on bool)
	// maskedGrad returns the input gradient of the last Backward and the input
	// whose ReLU mask it holds, or nil for that input when it holds none.
	maskedGrad() (dx, in *tensor.Tensor)
}

// NewReLU returns a ReLU that writes to its own output buffer.
func NewReLU() *ReLU { return &ReLU{} }

// SetInPlace makes Forward overwrite its input and return it. Only use it when
// nothing reads the input afterwards (true after Conv2d and BatchNorm2d, whose
// Backward reads their own inputs, not their outputs).
func (l *ReLU) SetInPlace(on bool) { l.inPlace = on }

// String returns "ReLU".
func (l *ReLU) String() string { return "ReLU" }

// Params returns nothing.
func (l *ReLU) Params() []*Param { return nil }

// Buffers returns nothing.
func (l *ReLU) Buffers() []*Param { return nil }

// SetTraining does nothing.
func (l *ReLU) SetTraining(bool) {}

// ParamsChanged does nothing.
func (l *ReLU) ParamsChanged() {}

// OutShape returns the input shape.
func (l *ReLU) OutShape(in []int) ([]int, error) { return append([]int(nil), in...), nil }

// Forward applies ReLU.
func (l *ReLU) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkNil(l, x); err != nil {
		return nil, err
	}
	if l.fused {
		l.y = x
		return x, nil
	}
	y := x
	if !l.inPlace && !l.overwrite {
		l.out = tensor.Ensure(l.out, x.Shape()...)
		y = l.out
	}
	if err := l.activation().ReLU(y.Data(), x.Data()); err != nil {
		return nil, fmt.Errorf("layers: ReLU: %w", err)
	}
	l.y = y
	return y, nil
}

// Backward returns dy where the output was positive (or NaN) and 0 elsewhere. In
// a Sequential whose next layer already applied that mask to dy (a Conv2d or
// MaxPool2d that took this ReLU's output as input), it returns dy itself.
func (l *ReLU) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkGrad(l, l.y, dy); err != nil {
		return nil, err
	}
	if l.maskedBy != nil {
		// Only the very gradient the next layer masked with this very output.
		if dx, in := l.maskedBy.maskedGrad(); dx == dy && in == l.y {
			return dy, nil
		}
	}
	l.dx = tensor.Ensure(l.dx, dy.Shape()...)
	if err := l.activation().ReLUBackward(l.dx.Data(), dy.Data(), l.y.Data()); err != nil {
		return nil, fmt.Errorf("layers: ReLU: %w", err)
	}
	return l.dx, nil
}

// Softmax normalizes over dimension 1: y = exp(x)/Σ_c exp(x) for an N×C (or
// N×C×…) input, computed stably (max subtracted, sums in float64).
type Softmax struct {
	backendRef
	y, dx *tensor.Tensor
}

// NewSoftmax returns a softmax over dimension 1.
func NewSoftmax() *Softmax { return &Softmax{} }

// String returns "Softmax(dim=1)".
func (l *Softmax) String() string { return "Softmax(dim=1)" }

// Params returns nothing.
func (l *Softmax) Params() []*Param { return nil }

// Buffers returns nothing.
func (l *Softmax) Buffers() []*Param { return nil }

// SetTraining does nothing.
func (l *Softmax) SetTraining(bool) {}

// ParamsChanged does nothing.
func (l *Softmax) ParamsChanged() {}

// OutShape returns the input shape, which needs at least two dimensions.
func (l *Softmax) OutShape(in []int) ([]int, error) {
	if err := checkSoftmax(in); err != nil {
		return nil, err
	}
	return append([]int(nil), in...), nil
}

func checkSoftmax(in []int) error {
	if len(in) < 2 {
		return fmt.Errorf("layers: Softmax: input must have at least 2 dimensions (N×C…), got shape %v", in)
	}
	return nil
}

func softmaxDims(s []int) (outer, c, inner int) {
	inner = 1
	for _, d := range s[2:] {
		inner *= d
	}
	return s[0], s[1], inner
}

// Forward computes the softmax.
func (l *Softmax) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkNil(l, x); err != nil {
		return nil, err
	}
	if err := checkSoftmax(x.Shape()); err != nil {
		return nil, err
	}
	l.y = tensor.Ensure(l.y, x.Shape()...)
	o, c, in := softmaxDims(x.Shape())
	if err := l.softmax().Softmax(l.y.Data(), x.Data(), o, c, in); err != nil {
		return nil, fmt.Errorf("layers: Softmax: %w", err)
	}
	return l.y, nil
}

// Backward returns y·(dy − Σ_c dy·y).
func (l *Softmax) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkGrad(l, l.y, dy); err != nil {
		return nil, err
	}
	l.dx = tensor.Ensure(l.dx, dy.Shape()...)
	o, c, in := softmaxDims(dy.Shape())
	if err := l.softmax().SoftmaxBackward(l.dx.Data(), dy.Data(), l.y.Data(), o, c, in); err != nil {
		return nil, fmt.Errorf("layers: Softmax: %w", err)
	}
	return l.dx, nil
}

// Dropout zeroes each element with probability p in training mode and scales the
// kept ones by 1/(1−p) (inverted dropout), so evaluation mode is the identity. The
// mask is a function of the seed, the number of training-mode Forward calls so far
// (the step) and the element's index only, so a run is reproducible, and resumable
// with SetStep.
type Dropout struct {
	backendRef
	p        float32
	seed     uint64
	step     uint64
	training bool
	applied  bool // the last Forward drew a mask
	mask     []float32
	out      *tensor.Tensor // own output buffer
	y, dx    *tensor.Tensor // y: the last output (out, or the input in evaluation mode)
}

// NewDropout returns a dropout with drop probability p (0 ≤ p ≤ 1, checked by
// Forward) whose masks derive from seed.
func NewDropout(p float32, seed uint64) *Dropout { return &Dropout{p: p, seed: seed} }

// String describes the layer, e.g. "Dropout(p=0.5)".
func (l *Dropout) String() string { return fmt.Sprintf("Dropout(p=%g)", l.p) }

// Params returns nothing.
func (l *Dropout) Params() []*Param { return nil }

// Buffers returns nothing.
func (l *Dropout) Buffers() []*Param { return nil }

// SetTraining switches dropout on (true) or to the identity.
func (l *Dropout) SetTraining(on bool) { l.training = on }

// ParamsChanged does nothing.
func (l *Dropout) ParamsChanged() {}

// Step returns the number of masks drawn so far.
func (l *Dropout) Step() uint64 { return l.step }

// SetStep sets the mask counter, to resume a run from a checkpoint.
func (l *Dropout) SetStep(step uint64) { l.step = step }

// OutShape returns the input shape.
func (l *Dropout) OutShape(in []int) ([]int, error) { return append([]int(nil), in...), nil }

// Forward applies dropout in training mode and returns x itself in evaluation mode.
func (l *Dropout) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkNil(l, x); err != nil {
		return nil, err
	}
	if !(l.p >= 0 && l.p <= 1) {
		return nil, fmt.Errorf("layers: %s: probability must be in [0, 1]", l)
	}
	if !l.training {
		l.applied = false
		l.y = x
		return x, nil
	}
	l.out = tensor.Ensure(l.out, x.Shape()...)
	l.y = l.out
	if cap(l.mask) < x.Len() {
		l.mask = tensor.Aligned(x.Len())
	}
	l.mask = l.mask[:x.Len()]
	if err := l.dropout().Dropout(l.y.Data(), l.mask, x.Data(), l.p, l.seed, l.step); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	l.step++
	l.applied = true
	return l.y, nil
}

// Backward returns dy·mask after a training-mode Forward and dy itself otherwise.
func (l *Dropout) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkGrad(l, l.y, dy); err != nil {
		return nil, err
	}
	if !l.applied {
		return dy, nil
	}
	l.dx = tensor.Ensure(l.dx, dy.Shape()...)
	if err := l.dropout().DropoutBackward(l.dx.Data(), dy.Data(), l.mask); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	return l.dx, nil
}

package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/govgg/govgg/tensor"
)

// initRNG draws PyTorch-style default initial values. Models re-initialize with their
// own seeded scheme (vgg.Model.Init); this only makes a fresh layer usable.
var (
	initMu  sync.Mutex
	initRNG = rand.New(rand.NewPCG(0x676f766767, 0x6c6179657273))
)

// fillUniform fills x from U(−bound, bound).
func fillUniform(x []float32, bound float64) {
	initMu.Lock()
	defer initMu.Unlock()
	for i := range x {
		x[i] = float32((2*initRNG.Float64() - 1) * bound)
	}
}

// newParam returns a parameter with a zeroed value and gradient of the given shape.
func newParam(name string, shape ...int) *Param {
	return &Param{Name: name, Value: tensor.New(shape...), Grad: tensor.New(shape...)}
}

// kaimingUniform gives weight and bias PyTorch's default nn.Conv2d / nn.Linear
// initialization: U(±1/√fanIn) for both (kaiming_uniform_ with a = √5).
func kaimingUniform(weight, bias *Param, fanIn int) {
	bound := 1 / math.Sqrt(float64(fanIn))
	fillUniform(weight.Value.Data(), bound)
	if bias != nil {
		fillUniform(bias.Value.Data(), bound)
	}
}

// checkGrad reports a dy whose shape differs from the output of the last Forward,
// or a Backward without a Forward.
func checkGrad(kind fmt.Stringer, y, dy *tensor.Tensor) error {
	if y == nil {
		return fmt.Errorf("layers: %s: Backward called before Forward", kind)
	}
	if dy == nil {
		return fmt.Errorf("layers: %s: Backward got a nil gradient", kind)
	}
	if !tensor.SameShape(y.Shape(), dy.Shape()) {
		return fmt.Errorf("layers: %s: gradient shape %v does not match the output shape %v", kind, dy.Shape(), y.Shape())
	}
	return nil
}

// checkNil reports a nil input tensor.
func checkNil(kind fmt.Stringer, x *tensor.Tensor) error {
	if x == nil {
		return fmt.Errorf("layers: %s: nil input", kind)
	}
	return nil
}

func nonNilParams(ps ...*Param) []*Param {
	out := make([]*Param, 0, len(ps))
	for _, p := range ps {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

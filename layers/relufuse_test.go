package layers_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/conv"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/tensor"
	"github.com/govgg/govgg/vgg"
)

// Tests of the backward fusion of a ReLU into the Conv2d or MaxPool2d after it
// (Sequential's doc): a Sequential with fusion gives bit for bit the gradients of
// one without, the ReLUs it pairs pass their gradient through, and the pairing
// falls back to the ReLU's own pass wherever it cannot apply.

const pool = 0 // a max-pool in a stack's configuration

var (
	cfgVGG11 = []int{64, pool, 128, pool, 256, 256, pool, 512, 512, pool, 512, 512, pool}
	cfgVGG16 = []int{64, 64, pool, 128, 128, pool, 256, 256, 256, pool, 512, 512, 512, pool, 512, 512, 512, pool}
)

// stack builds VGG features like package vgg does: Conv2d(3×3, pad 1) [BatchNorm2d]
// ReLU per entry, MaxPool2d(2, 2) per pool, with widths divided by div. The
// first conv does not compute its input gradient unless needDX.
func stack(t *testing.T, cfg []int, div int, bn, needDX bool, opts ...conv.Option) *layers.Sequential {
	t.Helper()
	s := layers.NewSequential()
	in := 3
	for _, v := range cfg {
		if v == pool {
			s.Append(layers.NewMaxPool2d(2, 2))
			continue
		}
		c, err := layers.NewConv2d(in, v/div, 3, 1, 1, true, opts...)
		if err != nil {
			t.Fatal(err)
		}
		s.Append(c)
		if bn {
			s.Append(layers.NewBatchNorm2d(v / div))
		}
		s.Append(layers.NewReLU())
		in = v / div
	}
	s.SetNeedInputGrad(needDX)
	return s
}

// copyState gives dst the parameter and buffer values of src (same structure).
func copyState(t *testing.T, dst, src layers.Layer) {
	t.Helper()
	d, s := append(dst.Params(), dst.Buffers()...), append(src.Params(), src.Buffers()...)
	if len(d) != len(s) {
		t.Fatalf("%d parameters and buffers, want %d", len(d), len(s))
	}
	for i := range d {
		copy(d[i].Value.Data(), s[i].Value.Data())
	}
	dst.ParamsChanged()
}

// grads runs a forward and backward pass of net on x with the output gradient
// made by fill, and returns copies of the input gradient (nil when not computed)
// and of every parameter gradient.
func grads(t *testing.T, net layers.Layer, x *tensor.Tensor, seed uint64) (dx []float32, pg [][]float32) {
	t.Helper()
	y, err := net.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	dy := tensor.New(y.Shape()...)
	r := rand.New(rand.NewPCG(seed, 99))
	for i := range dy.Data() {
		dy.Data()[i] = float32(r.NormFloat64())
	}
	g, err := net.Backward(dy)
	if err != nil {
		t.Fatal(err)
	}
	if g != nil {
		dx = append([]float32(nil), g.Data()...)
	}
	for _, p := range net.Params() {
		pg = append(pg, append([]float32(nil), p.Grad.Data()...))
	}
	return dx, pg
}

// sameBits fails t at the first element where got and want differ in their bits.
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d elements, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %g (%#08x), want %g (%#08x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// compareFusion checks that fused and plain (the same network with
// SetFusion(false)) give bit-identical gradients on x, over two steps (the
// second with warm plans and reused buffers).
func compareFusion(t *testing.T, what string, fused, plain layers.Layer, x *tensor.Tensor) {
	t.Helper()
	for step := range 2 {
		fdx, fpg := grads(t, fused, x, uint64(step))
		pdx, ppg := grads(t, plain, x, uint64(step))
		if (fdx == nil) != (pdx == nil) {
			t.Fatalf("%s: input gradient %v with fusion, %v without", what, fdx != nil, pdx != nil)
		}
		sameBits(t, fmt.Sprintf("%s step %d: input gradient", what, step), fdx, pdx)
		names := fused.Params()
		for i := range ppg {
			sameBits(t, fmt.Sprintf("%s step %d: gradient of %s", what, step, names[i].Name), fpg[i], ppg[i])
		}
	}
}

// passThrough walks net's layers backward from dy, as Sequential.Backward does,
// and counts the ReLUs and those that returned their gradient itself (whose pass
// the next layer did).
func passThrough(t *testing.T, net *layers.Sequential, dy *tensor.Tensor) (relus, passed int) {
	t.Helper()
	ls := net.Layers()
	for i := len(ls) - 1; i >= 0; i-- {
		dx, err := ls[i].Backward(dy)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := ls[i].(*layers.ReLU); ok {
			relus++
			if dx == dy {
				passed++
			}
		}
		dy = dx
	}
	return relus, passed
}

// relusPassing runs a training-mode forward of net on x and reports how many of
// its ReLUs pass their gradient through.
func relusPassing(t *testing.T, net *layers.Sequential, x *tensor.Tensor) (relus, passed int) {
	t.Helper()
	y, err := net.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	dy := tensor.New(y.Shape()...)
	for i := range dy.Data() {
		dy.Data()[i] = float32(i%7) - 3
	}
	return passThrough(t, net, dy)
}

func randInput(seed uint64, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := range x.Data() {
		x.Data()[i] = float32(r.NormFloat64())
	}
	return x
}

// TestReLUFusionGradients compares VGG-11-BN- and VGG-16-shaped stacks (with every
// pool, maps from 32×32 down to 1×1, so Winograd, implicit GEMM and the general
// backward-data path all occur) with and without fusion, in training mode (and
// evaluation mode without batch norm), on one and two threads, and checks that
// every ReLU passed its gradient through.
func TestReLUFusionGradients(t *testing.T) {
	type tc struct {
		name     string
		cfg      []int
		bn       bool
		needDX   bool
		training bool
		opts     []conv.Option
	}
	cases := []tc{
		{"vgg11-bn", cfgVGG11, true, false, true, nil},
		{"vgg16", cfgVGG16, false, false, true, nil},
		{"vgg16-bn/dx", cfgVGG16, true, true, true, nil},
		{"vgg16/eval", cfgVGG16, false, true, false, nil}, // no batch norm to fold
		{"vgg11/im2col", cfgVGG11, false, true, true, []conv.Option{conv.WithAlgorithm(conv.Im2col)}},
		{"vgg11-bn/f63", cfgVGG11[:7], true, true, true, []conv.Option{conv.WithAlgorithm(conv.WinogradF63)}},
	}
	for _, th := range []int{1, 2} {
		prev := asm.SetThreads(th)
		for _, c := range cases {
			what := fmt.Sprintf("%s threads=%d", c.name, th)
			fused := stack(t, c.cfg, 4, c.bn, c.needDX, c.opts...)
			plain := stack(t, c.cfg, 4, c.bn, c.needDX, c.opts...)
			copyState(t, plain, fused)
			plain.SetFusion(false)
			fused.SetTraining(c.training)
			plain.SetTraining(c.training)
			x := randInput(uint64(th), 2, 3, 32, 32)
			compareFusion(t, what, fused, plain, x)
			if relus, passed := relusPassing(t, fused, x); passed != relus {
				t.Errorf("%s: %d of %d ReLUs passed their gradient through, want all", what, passed, relus)
			}
			if _, passed := relusPassing(t, plain, x); passed != 0 {
				t.Errorf("%s: with SetFusion(false), %d ReLUs passed their gradient through", what, passed)
			}
		}
		asm.SetThreads(prev)
	}
}

// TestReLUFusionSpecialCases covers in-place ReLUs, ReLUs followed by layers that
// cannot take their pass, NaN activations, a general (3×3, stride 1) max-pool
// whose output a ReLU overwrites, and a backward call that is not the one the
// next layer masked.
func TestReLUFusionSpecialCases(t *testing.T) {
	build := func() *layers.Sequential {
		c1, _ := layers.NewConv2d(3, 16, 3, 1, 1, true)
		c2, _ := layers.NewConv2d(16, 16, 3, 1, 1, false)
		c3, _ := layers.NewConv2d(16, 24, 3, 1, 1, true)
		c4, _ := layers.NewConv2d(24, 16, 3, 2, 1, true) // stride 2: the general path
		r1 := layers.NewReLU()
		r1.SetInPlace(true)
		r3 := layers.NewReLU()
		r3.SetInPlace(true)
		r5 := layers.NewReLU()
		r5.SetInPlace(true)
		return layers.NewSequential(
			c1, r1, // fused into c1 forward; its pass into c2
			c2, layers.NewBatchNorm2d(16), layers.NewReLU(), layers.NewDropout(0.3, 5), // into a dropout: its own pass
			c3, r3, layers.NewMaxPool2d(3, 1), // general pool; the ReLU after it overwrites its output
			r5, layers.NewMaxPool2d(2, 2), // a ReLU after a pool, before a pool
			c4, layers.NewReLU(), // last: nothing after it
		)
	}
	fused, plain := build(), build()
	copyState(t, plain, fused)
	plain.SetFusion(false)
	x := randInput(3, 2, 3, 17, 15)
	fused.SetTraining(true)
	plain.SetTraining(true)
	compareFusion(t, "training", fused, plain, x)
	if relus, passed := relusPassing(t, fused, x); relus != 5 || passed != 3 {
		t.Errorf("%d of %d ReLUs passed their gradient through, want 3 of 5", passed, relus)
	}
	// (Also keeps the dropouts' step counters, and so their masks, in step.)
	if _, passed := relusPassing(t, plain, x); passed != 0 {
		t.Errorf("with SetFusion(false), %d ReLUs passed their gradient through", passed)
	}

	// NaN activations (a NaN weight makes a whole channel NaN) and Inf.
	w := fused.Params()[0].Value.Data()
	w[5] = float32(math.NaN())
	w[len(w)-1] = float32(math.Inf(1))
	copyState(t, plain, fused)
	compareFusion(t, "NaN", fused, plain, x)

	// A gradient other than the one the conv after it masked: the ReLU computes
	// its pass itself.
	relus, passed := relusPassing(t, fused, x)
	if passed == 0 {
		t.Fatalf("no ReLU passed its gradient through (%d ReLUs)", relus)
	}
	r := fused.Layers()[1].(*layers.ReLU)
	dy := tensor.New(2, 16, 17, 15)
	for i := range dy.Data() {
		dy.Data()[i] = 1
	}
	dx, err := r.Backward(dy)
	if err != nil {
		t.Fatal(err)
	}
	if dx == dy {
		t.Fatal("a ReLU passed through a gradient the next layer did not mask")
	}
}

// plainBackend offers convolutions and pooling without the masked variants, as
// a backend other than the CPU may: its layers must fall back to the ReLU's own
// pass.
type plainBackend struct{}

func (plainBackend) Name() string { return "plain" }

func (plainBackend) NewConv(g conv.Geometry, opts ...conv.Option) (layers.ConvOp, error) {
	p, err := conv.NewPlan(g, opts...)
	if err != nil {
		return nil, err
	}
	return plainConv{p}, nil
}

// plainConv is a ConvOp that hides the plan's BackwardDataMasked.
type plainConv struct{ p *conv.Plan }

func (c plainConv) SetWeights(w, b []float32) error     { return c.p.SetWeights(w, b) }
func (c plainConv) Forward(y, x []float32, n int) error { return c.p.Forward(y, x, n) }
func (c plainConv) BackwardData(dx, dy []float32, n int) error {
	return c.p.BackwardData(dx, dy, n)
}
func (c plainConv) BackwardFilter(dw, db, x, dy []float32, n int) error {
	return c.p.BackwardFilter(dw, db, x, dy, n)
}

func (plainBackend) MaxPool2d(y []float32, idx []int32, x []float32, s layers.PoolShape) error {
	return layers.CPU().(layers.PoolBackend).MaxPool2d(y, idx, x, s)
}

func (plainBackend) MaxPool2dBackward(dx []float32, idx []int32, dy []float32, s layers.PoolShape) error {
	return layers.CPU().(layers.PoolBackend).MaxPool2dBackward(dx, idx, dy, s)
}

func TestReLUFusionOtherBackend(t *testing.T) {
	fused := stack(t, cfgVGG11[:7], 4, true, true)
	plain := stack(t, cfgVGG11[:7], 4, true, true)
	copyState(t, plain, fused)
	plain.SetFusion(false)
	fused.SetBackend(plainBackend{})
	fused.SetTraining(true)
	plain.SetTraining(true)
	x := randInput(5, 2, 3, 32, 32)
	compareFusion(t, "plain backend", fused, plain, x)
	if relus, passed := relusPassing(t, fused, x); passed != 0 {
		t.Errorf("on a backend without masked ops, %d of %d ReLUs passed their gradient through", passed, relus)
	}
	fused.SetBackend(nil) // back on the CPU: the pairing applies again
	if relus, passed := relusPassing(t, fused, x); passed != relus {
		t.Errorf("back on the CPU: %d of %d ReLUs passed their gradient through", passed, relus)
	}
}

// TestReLUFusionVGG checks that the pairing reaches every ReLU of the real VGG-16
// and VGG-16-BN feature extractors.
func TestReLUFusionVGG(t *testing.T) {
	for _, bn := range []bool{false, true} {
		m, err := vgg.New16(vgg.WithBatchNorm(bn), vgg.WithWidthDivisor(16), vgg.WithNumClasses(10))
		if err != nil {
			t.Fatal(err)
		}
		m.SetTraining(true)
		relus, passed := relusPassing(t, m.Features(), randInput(7, 2, 3, 32, 32))
		if relus != 13 || passed != 13 {
			t.Errorf("vgg16 (batch norm %v): %d of %d feature ReLUs passed their gradient through, want 13 of 13", bn, passed, relus)
		}
	}
}

// TestReLUFusionStepAllocs checks that a warm fused training step of a
// VGG-16-shaped stack allocates nothing.
func TestReLUFusionStepAllocs(t *testing.T) {
	a := asm.PackA(false, 4, 4, make([]float32, 16), 4)
	b, c := asm.BFromMatrix(false, make([]float32, 16), 4), make([]float32, 16)
	if testing.AllocsPerRun(3, func() { a.Gemm(4, 1, b, 0, c, 4) }) > 0 {
		t.Skip("asm's GEMM allocates per call")
	}
	net := stack(t, cfgVGG16, 8, true, false)
	net.SetTraining(true)
	x := randInput(9, 2, 3, 32, 32)
	y, err := net.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	dy := tensor.New(y.Shape()...)
	step := func() {
		if _, err := net.Forward(x); err != nil {
			t.Fatal(err)
		}
		if _, err := net.Backward(dy); err != nil {
			t.Fatal(err)
		}
	}
	step()
	step()
	if n := testing.AllocsPerRun(3, step); n != 0 {
		t.Errorf("a warm fused training step allocates %v times", n)
	}
}

// TestMaskedPoolBackend checks the CPU's MaxPool2dBackwardMasked against
// MaxPool2dBackward followed by ReLUBackward on the pool's input, bit for bit, for
// the 2×2/2 kernels and the general path (overlapping windows), with zeros,
// negatives, NaN and ±Inf in the input and dy, and its length checks.
func TestMaskedPoolBackend(t *testing.T) {
	cpu := layers.CPU()
	pb, mpb, ab := cpu.(layers.PoolBackend), cpu.(layers.MaskedPoolBackend), cpu.(layers.ActivationBackend)
	r := rand.New(rand.NewPCG(21, 22))
	for _, s := range []layers.PoolShape{
		{N: 2, C: 3, H: 9, W: 11, Kernel: 2, Stride: 2},
		{N: 2, C: 5, H: 32, W: 32, Kernel: 2, Stride: 2},
		{N: 2, C: 3, H: 9, W: 11, Kernel: 3, Stride: 1},
		{N: 1, C: 4, H: 10, W: 7, Kernel: 3, Stride: 2},
	} {
		x := make([]float32, s.N*s.C*s.H*s.W)
		for i := range x {
			switch v := float32(r.NormFloat64()); r.IntN(8) {
			case 0:
				x[i] = float32(math.NaN())
			case 1:
				x[i] = float32(math.Inf(-1 + 2*r.IntN(2)))
			case 2, 3:
				x[i] = 0
			default:
				x[i] = max(v, 0) // the ReLU's output
			}
		}
		out := s.N * s.C * s.OutH() * s.OutW()
		y, idx, dy := make([]float32, out), make([]int32, out), make([]float32, out)
		for i := range dy {
			dy[i] = float32(r.NormFloat64())
		}
		dy[0], dy[out/2] = float32(math.NaN()), float32(math.Inf(1))
		if err := pb.MaxPool2d(y, idx, x, s); err != nil {
			t.Fatal(err)
		}
		want, got := make([]float32, len(x)), make([]float32, len(x))
		if err := pb.MaxPool2dBackward(want, idx, dy, s); err != nil {
			t.Fatal(err)
		}
		if err := ab.ReLUBackward(want, want, x); err != nil {
			t.Fatal(err)
		}
		if err := mpb.MaxPool2dBackwardMasked(got, idx, dy, y, s); err != nil {
			t.Fatal(err)
		}
		sameBits(t, fmt.Sprintf("%+v", s), got, want)
		if err := mpb.MaxPool2dBackwardMasked(got, idx, dy, y[1:], s); err == nil {
			t.Errorf("%+v: no error for a short y", s)
		}
	}
}

package layers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/conv"
	"github.com/govgg/govgg/tensor"
)

// forEachISA runs f once per kernel path this CPU supports.
func forEachISA(t *testing.T, f func(t *testing.T)) {
	for _, isa := range asm.Supported() {
		t.Run(isa.String(), func(t *testing.T) {
			restore, err := asm.SetImpl(isa)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			f(t)
		})
	}
}

func TestConv2dGrad(t *testing.T) {
	cases := []struct {
		n, c, h, w, k, r, stride, pad int
		bias                          bool
	}{
		{2, 3, 5, 6, 4, 3, 1, 1, true},
		{1, 2, 7, 5, 3, 3, 2, 0, false},
		{2, 4, 4, 3, 2, 1, 1, 0, true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c), func(t *testing.T) {
			l, err := NewConv2d(c.c, c.k, c.r, c.stride, c.pad, c.bias)
			if err != nil {
				t.Fatal(err)
			}
			g := conv.Geometry{C: c.c, H: c.h, W: c.w, K: c.k, R: c.r, S: c.r, StrideH: c.stride, StrideW: c.stride, PadH: c.pad, PadW: c.pad, DilH: 1, DilW: 1}
			gradCheck(t, l, []int{c.n, c.c, c.h, c.w}, refConv(g, c.n, c.bias), 1e-5, 1e-4, false)
		})
	}
}

func TestConv2dParamsChanged(t *testing.T) {
	l, err := NewConv2d(2, 3, 3, 1, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(1, 2, 4, 4)
	for i := range x.Data() {
		x.Data()[i] = float32(i%7) - 3
	}
	if _, err := l.Forward(x); err != nil {
		t.Fatal(err)
	}
	// A loader writes new weights: without ParamsChanged the plan keeps the old ones.
	for i := range l.weight.Value.Data() {
		l.weight.Value.Data()[i] = 0
	}
	l.bias.Value.Zero()
	l.bias.Value.Data()[1] = 5
	l.ParamsChanged()
	y, err := l.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range y.Data() {
		want := float32(0)
		if i/16 == 1 {
			want = 5
		}
		if v != want {
			t.Fatalf("after ParamsChanged y[%d] = %g, want %g", i, v, want)
		}
	}
}

func TestConv2dNoInputGrad(t *testing.T) {
	l, _ := NewConv2d(2, 2, 3, 1, 1, true)
	l.SetNeedInputGrad(false)
	g := conv.Square3x3(2, 2, 4, 5)
	gradCheck(t, l, []int{2, 2, 4, 5}, refConv(g, 2, true), 1e-5, 1e-4, true)
	dx, err := l.Backward(l.y)
	if err != nil || dx != nil {
		t.Fatalf("Backward after SetNeedInputGrad(false) = %v, %v; want nil, nil", dx, err)
	}
}

func TestBatchNorm2dTrainGrad(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		l := NewBatchNorm2d(3)
		l.SetTraining(true)
		copy(l.weight.Value.Data(), []float32{1.5, -0.5, 0.8})
		copy(l.bias.Value.Data(), []float32{0.1, 0.2, -0.3})
		gradCheck(t, l, []int{2, 3, 4, 5}, refBatchNorm(2, 3, 20, true, nil, nil), 1e-5, 1e-4, false)
	})
}

func TestBatchNorm2dEvalGrad(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		l := NewBatchNorm2d(3)
		rm, rv := []float32{0.1, -0.2, 0.3}, []float32{0.5, 1.5, 2}
		copy(l.runMean.Value.Data(), rm)
		copy(l.runVar.Value.Data(), rv)
		copy(l.weight.Value.Data(), []float32{1.5, -0.5, 0.8})
		gradCheck(t, l, []int{2, 3, 3, 2}, refBatchNorm(2, 3, 6, false, to64(rm), to64(rv)), 1e-5, 1e-4, false)
	})
}

func TestBatchNorm2dRunningStats(t *testing.T) {
	l := NewBatchNorm2d(2)
	l.SetTraining(true)
	// Channel 0 holds 1…4 over N=2, HW=2; channel 1 holds constants.
	x := mustTensor(t, []float32{1, 2, 7, 7, 3, 4, 7, 7}, 2, 2, 1, 2)
	if _, err := l.Forward(x); err != nil {
		t.Fatal(err)
	}
	// mean 2.5, biased var 1.25, unbiased 5/3.
	rm, rv := l.runMean.Value.Data(), l.runVar.Value.Data()
	want := []float32{0.25, 0.9*1 + 0.1*5.0/3, 0.7, 0.9}
	got := []float32{rm[0], rv[0], rm[1], rv[1]}
	for i := range want {
		if d := got[i] - want[i]; d > 1e-6 || d < -1e-6 {
			t.Errorf("running stats %v, want %v", got, want)
			break
		}
	}
	if n := l.batchesTracked.Value.Data()[0]; n != 1 {
		t.Errorf("num_batches_tracked = %g, want 1", n)
	}
	l.SetTraining(true)
	if _, err := l.Forward(mustTensor(t, []float32{1, 2}, 1, 2, 1, 1)); err == nil || !strings.Contains(err.Error(), "more than one value") {
		t.Errorf("training on one value per channel: err = %v", err)
	}
}

func TestReLUGrad(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		gradCheck(t, NewReLU(), []int{3, 37}, refReLU, 0, 1e-6, false)
	})
}

func TestReLUInPlace(t *testing.T) {
	l := NewReLU()
	l.SetInPlace(true)
	x := mustTensor(t, []float32{-1, 2, -3, 4}, 1, 4)
	y, err := l.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	if y != x || x.Data()[0] != 0 || x.Data()[1] != 2 {
		t.Fatalf("in-place ReLU: y=%v data %v", y, x.Data())
	}
	dx, err := l.Backward(mustTensor(t, []float32{1, 1, 1, 1}, 1, 4))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(dx.Data()) != "[0 1 0 1]" {
		t.Fatalf("dx = %v", dx.Data())
	}
}

func TestMaxPool2dGrad(t *testing.T) {
	for _, c := range []struct{ n, c, h, w, k, s int }{
		{2, 3, 6, 8, 2, 2}, {1, 2, 7, 5, 2, 2}, {1, 2, 7, 8, 3, 2}, {2, 1, 5, 5, 3, 1}, {1, 1, 9, 9, 2, 3},
	} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			forEachISA(t, func(t *testing.T) {
				s := PoolShape{N: c.n, C: c.c, H: c.h, W: c.w, Kernel: c.k, Stride: c.s}
				gradCheck(t, NewMaxPool2d(c.k, c.s), []int{c.n, c.c, c.h, c.w}, refMaxPool(s), 0, 1e-6, false)
			})
		})
	}
}

func TestAdaptiveAvgPool2dGrad(t *testing.T) {
	for _, c := range []struct{ n, c, h, w, oh, ow int }{
		{2, 2, 5, 7, 3, 2}, {1, 3, 4, 4, 4, 4}, {1, 1, 3, 2, 7, 7}, {1, 2, 14, 14, 7, 7},
	} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			gradCheck(t, NewAdaptiveAvgPool2d(c.oh, c.ow), []int{c.n, c.c, c.h, c.w},
				refAdaptiveAvg(c.n, c.c, c.h, c.w, c.oh, c.ow), 1e-6, 1e-6, false)
		})
	}
}

func TestLinearGrad(t *testing.T) {
	for _, bias := range []bool{true, false} {
		t.Run(fmt.Sprint("bias=", bias), func(t *testing.T) {
			gradCheck(t, NewLinear(7, 5, bias), []int{3, 7}, refLinear(3, 7, 5, bias), 1e-5, 1e-4, false)
		})
	}
}

func TestFlattenGrad(t *testing.T) {
	id := func(x []float64, _ [][]float64) []float64 { return append([]float64(nil), x...) }
	gradCheck(t, NewFlatten(), []int{2, 3, 2, 2}, id, 0, 1e-6, false)
}

func TestSoftmaxGrad(t *testing.T) {
	gradCheck(t, NewSoftmax(), []int{3, 5}, refSoftmax(3, 5, 1), 1e-6, 1e-5, false)
	gradCheck(t, NewSoftmax(), []int{2, 4, 3}, refSoftmax(2, 4, 3), 1e-6, 1e-5, false)
}

func TestSequentialGrad(t *testing.T) {
	conv1, _ := NewConv2d(2, 3, 3, 1, 1, true)
	lin := NewLinear(3*2*2, 4, true)
	s := NewSequential(conv1, NewBatchNorm2d(3), NewReLU(), NewMaxPool2d(2, 2), NewFlatten(), lin)
	s.SetTraining(true)
	g := conv.Square3x3(2, 3, 4, 5)
	ref := func(x []float64, ps [][]float64) []float64 {
		y := refConv(g, 2, true)(x, ps[0:2])
		y = refBatchNorm(2, 3, 20, true, nil, nil)(y, ps[2:4])
		y = refReLU(y, nil)
		y = refMaxPool(PoolShape{N: 2, C: 3, H: 4, W: 5, Kernel: 2, Stride: 2})(y, nil)
		return refLinear(2, 12, 4, true)(y, ps[4:6])
	}
	gradCheck(t, s, []int{2, 2, 4, 5}, ref, 1e-5, 1e-3, false)

	var names []string
	for _, p := range append(s.Params(), s.Buffers()...) {
		names = append(names, p.Name)
	}
	want := "0.weight 0.bias 1.weight 1.bias 5.weight 5.bias 1.running_mean 1.running_var 1.num_batches_tracked"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("names %q, want %q", got, want)
	}
}

func TestShapeErrors(t *testing.T) {
	conv1, _ := NewConv2d(3, 4, 3, 1, 1, true)
	cases := []struct {
		l     Layer
		shape []int
		want  string
	}{
		{conv1, []int{1, 2, 8, 8}, "Conv2d(3→4, k3 s1 p1): input must be N×3×H×W, got shape [1 2 8 8]"},
		{NewBatchNorm2d(4), []int{1, 3, 2, 2}, "BatchNorm2d(4): input must be N×4×H×W"},
		{NewMaxPool2d(2, 2), []int{1, 1, 1, 4}, "smaller than the window"},
		{NewMaxPool2d(2, 2), []int{4, 4}, "input must be N×C×H×W"},
		{NewLinear(5, 2, true), []int{3, 4}, "Linear(5→2): input must be …×5, got shape [3 4]"},
		{NewAdaptiveAvgPool2d(7, 7), []int{2, 3}, "AdaptiveAvgPool2d(7×7): input must be N×C×H×W"},
		{NewFlatten(), []int{5}, "at least 2 dimensions"},
		{NewSoftmax(), []int{5}, "at least 2 dimensions"},
		{NewDropout(1.5, 0), []int{5}, "probability must be in [0, 1]"},
	}
	for _, c := range cases {
		_, err := c.l.Forward(tensor.New(c.shape...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v on %v: err = %v, want it to contain %q", c.l, c.shape, err, c.want)
		}
	}
	if _, err := NewConv2d(0, 4, 3, 1, 1, true); err == nil {
		t.Error("NewConv2d with 0 input channels: no error")
	}
	if _, err := NewReLU().Backward(tensor.New(2)); err == nil || !strings.Contains(err.Error(), "before Forward") {
		t.Errorf("Backward before Forward: err = %v", err)
	}
	l := NewLinear(2, 2, false)
	if _, err := l.Forward(tensor.New(3, 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Backward(tensor.New(2, 2)); err == nil || !strings.Contains(err.Error(), "does not match the output shape [3 2]") {
		t.Errorf("Backward with a wrong dy: err = %v", err)
	}
}

// TestSequentialFusedReLUGrad checks training through a Conv2d with the following
// ReLU fused into it.
func TestSequentialFusedReLUGrad(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		conv1, _ := NewConv2d(2, 3, 3, 1, 1, true)
		relu := NewReLU()
		s := NewSequential(conv1, relu, NewMaxPool2d(2, 2), NewFlatten(), NewLinear(3*2*2, 4, true))
		s.SetTraining(true)
		if !relu.fused || !conv1.fuseReLU {
			t.Fatal("training mode did not fuse conv+ReLU")
		}
		g := conv.Square3x3(2, 3, 4, 5)
		ref := func(x []float64, ps [][]float64) []float64 {
			y := refReLU(refConv(g, 2, true)(x, ps[0:2]), nil)
			y = refMaxPool(PoolShape{N: 2, C: 3, H: 4, W: 5, Kernel: 2, Stride: 2})(y, nil)
			return refLinear(2, 12, 4, true)(y, ps[2:4])
		}
		gradCheck(t, s, []int{2, 2, 4, 5}, ref, 1e-5, 1e-4, false)
	})
}

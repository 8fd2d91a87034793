package layers

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/govgg/govgg/conv"
	"github.com/govgg/govgg/tensor"
)

// This file holds the float64 references of every layer and the harness that checks
// a layer's Forward against its reference and its Backward against central finite
// differences of the reference.

// refFn is a float64 forward: output for input x and parameter values ps (in the
// order of the layer's Params).
type refFn func(x []float64, ps [][]float64) []float64

func randSlice(rng *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32((2*rng.Float64() - 1) * scale)
	}
	return s
}

func to64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

func mustTensor(t testing.TB, data []float32, shape ...int) *tensor.Tensor {
	t.Helper()
	x, err := tensor.FromSlice(data, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// closeRel compares got with want: max|got−want| ≤ tol·max(1, max|want|).
func closeRel(t testing.TB, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale, worst, at := 1.0, 0.0, -1
	for _, w := range want {
		scale = max(scale, math.Abs(w))
	}
	for i := range got {
		d := math.Abs(float64(got[i]) - want[i])
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
		if math.IsNaN(d) {
			break
		}
	}
	if !(worst <= tol*scale) {
		t.Errorf("%s: max error %.3g at %d (got %g, want %g), tolerance %.3g", what, worst, at, got[at], want[at], tol*scale)
	}
}

// gradCheck runs l forward on x (shape xs), compares with ref, then backward with a
// random dy and compares dx and every parameter gradient with central differences of
// Σ dy·ref. skipDX skips the input gradient (layers told not to compute it).
func gradCheck(t *testing.T, l Layer, xs []int, ref refFn, fwdTol, bwdTol float64, skipDX bool) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, uint64(len(xs))))
	x := randSlice(rng, tensor.Numel(xs...), 1)
	xt := mustTensor(t, x, xs...)
	ps := l.Params()
	p64 := make([][]float64, len(ps))
	for i, p := range ps {
		p64[i] = to64(p.Value.Data())
	}
	y, err := l.Forward(xt)
	if err != nil {
		t.Fatal(err)
	}
	want := ref(to64(x), p64)
	closeRel(t, "forward", y.Data(), want, fwdTol)
	wantShape, err := l.OutShape(xs)
	if err != nil || !tensor.SameShape(wantShape, y.Shape()) {
		t.Errorf("OutShape(%v) = %v, %v; Forward gave %v", xs, wantShape, err, y.Shape())
	}

	dy := randSlice(rng, y.Len(), 1)
	dx, err := l.Backward(mustTensor(t, append([]float32(nil), dy...), y.Shape()...))
	if err != nil {
		t.Fatal(err)
	}
	loss := func(x []float64, ps [][]float64) float64 {
		var s float64
		for i, v := range ref(x, ps) {
			s += v * float64(dy[i])
		}
		return s
	}
	numGrad := func(v []float64, x []float64, ps [][]float64) []float64 {
		g := make([]float64, len(v))
		const h = 1e-5
		for i := range v {
			o := v[i]
			v[i] = o + h
			a := loss(x, ps)
			v[i] = o - h
			b := loss(x, ps)
			v[i] = o
			g[i] = (a - b) / (2 * h)
		}
		return g
	}
	x64 := to64(x)
	if !skipDX {
		if dx == nil {
			t.Fatal("Backward returned no input gradient")
		}
		if !tensor.SameShape(dx.Shape(), xs) {
			t.Fatalf("dx shape %v, want %v", dx.Shape(), xs)
		}
		closeRel(t, "dx", dx.Data(), numGrad(x64, x64, p64), bwdTol)
	}
	for i, p := range ps {
		closeRel(t, "d"+p.Name, p.Grad.Data(), numGrad(p64[i], x64, p64), bwdTol)
	}
}

// refConv is the float64 convolution reference (conv's direct loops).
func refConv(g conv.Geometry, n int, bias bool) refFn {
	return func(x []float64, ps [][]float64) []float64 {
		var b []float64
		if bias {
			b = ps[1]
		}
		return conv.ReferenceForward(g, n, x, ps[0], b)
	}
}

// refBatchNorm normalizes with the batch statistics (train) or the given running ones.
func refBatchNorm(n, c, hw int, train bool, rm, rv []float64) refFn {
	return func(x []float64, ps [][]float64) []float64 {
		y := make([]float64, len(x))
		for ch := 0; ch < c; ch++ {
			var mu, v float64
			if train {
				mu, v = 0, 0
				for i := 0; i < n; i++ {
					for _, e := range x[(i*c+ch)*hw : (i*c+ch+1)*hw] {
						mu += e
					}
				}
				mu /= float64(n * hw)
				for i := 0; i < n; i++ {
					for _, e := range x[(i*c+ch)*hw : (i*c+ch+1)*hw] {
						v += (e - mu) * (e - mu)
					}
				}
				v /= float64(n * hw)
			} else {
				mu, v = rm[ch], rv[ch]
			}
			is := 1 / math.Sqrt(v+1e-5)
			for i := 0; i < n; i++ {
				for k := (i*c + ch) * hw; k < (i*c+ch+1)*hw; k++ {
					y[k] = (x[k]-mu)*is*ps[0][ch] + ps[1][ch]
				}
			}
		}
		return y
	}
}

func refReLU(x []float64, _ [][]float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = max(v, 0)
	}
	return y
}

func refMaxPool(s PoolShape) refFn {
	return func(x []float64, _ [][]float64) []float64 {
		oh, ow := s.OutH(), s.OutW()
		y := make([]float64, 0, s.N*s.C*oh*ow)
		for p := 0; p < s.N*s.C; p++ {
			xp := x[p*s.H*s.W:]
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					m := math.Inf(-1)
					for r := 0; r < s.Kernel; r++ {
						for c := 0; c < s.Kernel; c++ {
							m = max(m, xp[(i*s.Stride+r)*s.W+j*s.Stride+c])
						}
					}
					y = append(y, m)
				}
			}
		}
		return y
	}
}

func refAdaptiveAvg(n, c, h, w, oh, ow int) refFn {
	return func(x []float64, _ [][]float64) []float64 {
		var y []float64
		for p := 0; p < n*c; p++ {
			for i := 0; i < oh; i++ {
				h0 := int(math.Floor(float64(i*h) / float64(oh)))
				h1 := int(math.Ceil(float64((i+1)*h) / float64(oh)))
				for j := 0; j < ow; j++ {
					w0 := int(math.Floor(float64(j*w) / float64(ow)))
					w1 := int(math.Ceil(float64((j+1)*w) / float64(ow)))
					var s float64
					for r := h0; r < h1; r++ {
						for q := w0; q < w1; q++ {
							s += x[p*h*w+r*w+q]
						}
					}
					y = append(y, s/float64((h1-h0)*(w1-w0)))
				}
			}
		}
		return y
	}
}

func refLinear(rows, in, out int, bias bool) refFn {
	return func(x []float64, ps [][]float64) []float64 {
		y := make([]float64, rows*out)
		for r := 0; r < rows; r++ {
			for o := 0; o < out; o++ {
				var s float64
				if bias {
					s = ps[1][o]
				}
				for k := 0; k < in; k++ {
					s += x[r*in+k] * ps[0][o*in+k]
				}
				y[r*out+o] = s
			}
		}
		return y
	}
}

func refSoftmax(outer, c, inner int) refFn {
	return func(x []float64, _ [][]float64) []float64 {
		y := make([]float64, len(x))
		for o := 0; o < outer; o++ {
			for in := 0; in < inner; in++ {
				m := math.Inf(-1)
				for k := 0; k < c; k++ {
					m = max(m, x[(o*c+k)*inner+in])
				}
				var s float64
				for k := 0; k < c; k++ {
					s += math.Exp(x[(o*c+k)*inner+in] - m)
				}
				for k := 0; k < c; k++ {
					y[(o*c+k)*inner+in] = math.Exp(x[(o*c+k)*inner+in]-m) / s
				}
			}
		}
		return y
	}
}

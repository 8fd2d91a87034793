package conv

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randF64 returns n values uniform in [-1, 1) from a fixed seed.
func randF64(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = 2*rng.Float64() - 1
	}
	return v
}

func dot64(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// TestReferenceHand checks the forward reference against a case worked by hand:
// a 3×4 image, a 2×2 kernel, stride (2,1), padding (1,0).
func TestReferenceHand(t *testing.T) {
	g := Geometry{C: 1, H: 3, W: 4, K: 1, R: 2, S: 2, StrideH: 2, StrideW: 1, PadH: 1, PadW: 0, DilH: 1, DilW: 1}
	x := []float64{
		1, 2, 3, 4,
		5, 6, 7, 8,
		9, 10, 11, 12,
	}
	w := []float64{1, 10, 100, 1000}
	// OutH = (3+2-2)/2+1 = 2, OutW = 3. Row 0 reads padding then image row 0;
	// row 1 reads image rows 1 and 2.
	want := []float64{
		0.5 + 100*1 + 1000*2, 0.5 + 100*2 + 1000*3, 0.5 + 100*3 + 1000*4,
		0.5 + 5 + 10*6 + 100*9 + 1000*10, 0.5 + 6 + 10*7 + 100*10 + 1000*11, 0.5 + 7 + 10*8 + 100*11 + 1000*12,
	}
	got := ReferenceForward(g, 1, x, w, []float64{0.5})
	if len(got) != len(want) {
		t.Fatalf("len %d, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("y[%d] = %g, want %g", i, got[i], want[i])
		}
	}
}

// TestReferenceAdjoint checks that the backward references are the adjoints of the
// forward one: <conv(x,w), dy> = <x, dX(dy,w)> = <w, dW(x,dy)>, and db = Σ dy.
func TestReferenceAdjoint(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, g := range []Geometry{
		{C: 3, H: 7, W: 5, K: 4, R: 3, S: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1},
		{C: 2, H: 9, W: 8, K: 3, R: 5, S: 3, StrideH: 2, StrideW: 1, PadH: 2, PadW: 0, DilH: 1, DilW: 2},
		{C: 2, H: 11, W: 9, K: 2, R: 7, S: 7, StrideH: 2, StrideW: 2, PadH: 3, PadW: 3, DilH: 1, DilW: 1},
	} {
		n := 2
		x := randF64(rng, n*g.C*g.H*g.W)
		w := randF64(rng, g.K*g.C*g.R*g.S)
		dy := randF64(rng, n*g.K*g.OutH()*g.OutW())
		y := ReferenceForward(g, n, x, w, nil)
		dx := ReferenceBackwardData(g, n, dy, w)
		dw, db := ReferenceBackwardFilter(g, n, x, dy)
		a, b, c := dot64(y, dy), dot64(x, dx), dot64(w, dw)
		if math.Abs(a-b) > 1e-9*math.Abs(a)+1e-9 || math.Abs(a-c) > 1e-9*math.Abs(a)+1e-9 {
			t.Errorf("%v: <y,dy>=%g <x,dx>=%g <w,dw>=%g", g, a, b, c)
		}
		P, Q := g.OutH(), g.OutW()
		for k := 0; k < g.K; k++ {
			var s float64
			for i := 0; i < n; i++ {
				for j := 0; j < P*Q; j++ {
					s += dy[(i*g.K+k)*P*Q+j]
				}
			}
			if math.Abs(s-db[k]) > 1e-12 {
				t.Errorf("%v: db[%d] = %g, want %g", g, k, db[k], s)
			}
		}
	}
}

func TestCompareAndBound(t *testing.T) {
	want := []float64{1, -2, 0, 4}
	got := []float32{1, -2, 0.001, 4}
	e := Compare(got, want)
	if e.Worst != 2 || math.Abs(e.MaxAbs-0.001) > 1e-9 || math.Abs(e.MaxRel-0.001/4) > 1e-9 {
		t.Errorf("Compare = %v", e)
	}
	if e.Within(1e-5, 1) || !e.Within(1e-3, 1e-3) {
		t.Errorf("Within wrong for %v", e)
	}
	if err := CheckBound(got, want, []float64{1, 1, 1, 1}, 1e-4); err == nil {
		t.Error("CheckBound accepted an error of 1e-3 at tolerance 1e-4")
	}
	if err := CheckBound(got, want, []float64{1, 1, 100, 1}, 1e-4); err != nil {
		t.Errorf("CheckBound: %v", err)
	}
	if e := Compare([]float32{float32(math.NaN())}, []float64{1}); !math.IsInf(e.MaxAbs, 1) {
		t.Errorf("NaN against finite: %v", e)
	}
}

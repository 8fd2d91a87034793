package conv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/govgg/govgg/asm"
)

// Tolerances for implicit GEMM against the float64 reference (kernels.md §2).
const (
	tolRelL2  = 1e-5
	tolMaxRel = 2e-5
	tolBound  = 2e-5 // per element, relative to Σ|x||w|
)

func randF32(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 2*rng.Float32() - 1
	}
	return v
}

// geom builds a geometry from the fields tests vary, dilation defaulting to 1.
func geom(c, k, h, w, r, s, sh, sw, ph, pw, dh, dw int) Geometry {
	return Geometry{C: c, K: k, H: h, W: w, R: r, S: s, StrideH: sh, StrideW: sw, PadH: ph, PadW: pw, DilH: dh, DilW: dw}
}

// testGeometries covers odd and non-square sizes, odd channel counts, strides,
// paddings 0/1/2, dilation 2 and kernels 1×1, 3×3, 5×3 and 7×7/s2, plus sizes that
// make the kernels split their work into several GEMM blocks.
var testGeometries = []struct {
	name string
	g    Geometry
}{
	{"3x3/c3", geom(3, 8, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1)},
	{"3x3/c17", geom(17, 5, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1)},
	{"3x3/p0", geom(4, 3, 6, 7, 3, 3, 1, 1, 0, 0, 1, 1)},
	{"3x3/p2", geom(3, 2, 5, 7, 3, 3, 1, 1, 2, 2, 1, 1)},
	{"3x3/s2", geom(5, 3, 9, 8, 3, 3, 2, 2, 1, 1, 1, 1)},
	{"3x3/d2", geom(3, 4, 11, 9, 3, 3, 1, 1, 2, 2, 2, 2)},
	{"1x1/c5", geom(5, 7, 9, 7, 1, 1, 1, 1, 0, 0, 1, 1)},
	{"5x3/p2,1", geom(5, 6, 9, 13, 5, 3, 1, 1, 2, 1, 1, 1)},
	{"7x7/s2", geom(3, 4, 15, 13, 7, 7, 2, 2, 3, 3, 1, 1)},
	{"3x3/s2,1/d1,2", geom(2, 3, 10, 11, 3, 3, 2, 1, 1, 2, 1, 2)},
	{"3x3/2x2map", geom(16, 24, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1)},
	// Per-image GEMMs split in two column blocks (K=512 gives 512-column blocks).
	{"3x3/k512", geom(3, 512, 23, 25, 3, 3, 1, 1, 1, 1, 1, 1)},
	{"5x3/s2/k512", geom(3, 512, 47, 45, 5, 3, 2, 2, 2, 1, 1, 1)},
	// Folded GEMMs over several images and blocks; backward filter with one image a
	// group and two reduction blocks.
	{"3x3/wide", geom(3, 4, 65, 67, 3, 3, 1, 1, 1, 1, 1, 1)},
	// The general backward-data path with more than one column block.
	{"7x7/s2/big", geom(3, 4, 140, 141, 7, 7, 2, 2, 3, 3, 1, 1)},
}

// checkAgainst fails t unless got matches want within the implicit-GEMM tolerances
// and the per-element bound scale. The relative metrics need a few elements: a
// lone output (a 1×1×1 filter gradient) may cancel to far below the sums it is
// made of, and only the per-element bound judges that fairly.
func checkAgainst(t *testing.T, what string, got []float32, want, scale []float64) {
	t.Helper()
	e := Compare(got, want)
	if len(want) >= 16 && !e.Within(tolRelL2, tolMaxRel) {
		t.Errorf("%s: %v exceeds relL2 %g, max %g", what, e, tolRelL2, tolMaxRel)
	}
	if err := CheckBound(got, want, scale, tolBound); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}

// forEachISA runs f with each kernel path this machine supports.
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

func TestIm2colAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range testGeometries {
		g := tc.g
		if err := g.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, n := range []int{1, 3} {
			if testing.Short() && n > 1 && g.H > 30 {
				continue
			}
			// Inputs start 1–3 elements into their buffers (unaligned), and
			// outputs sit between sentinels that must survive.
			x := offsetSlice(randF32(rng, n*g.C*g.H*g.W+1), 1)
			w := offsetSlice(randF32(rng, g.K*g.C*g.R*g.S+2), 2)
			bias := randF32(rng, g.K)
			dy := offsetSlice(randF32(rng, n*g.K*g.OutH()*g.OutW()+3), 3)
			t.Run(fmt.Sprintf("%s/n=%d", tc.name, n), func(t *testing.T) {
				x64, w64, b64, dy64 := ToFloat64(x), ToFloat64(w), ToFloat64(bias), ToFloat64(dy)
				yRef := ReferenceForward(g, n, x64, w64, b64)
				yScale := ReferenceForward(g, n, Abs(x64), Abs(w64), Abs(b64))
				dxRef := ReferenceBackwardData(g, n, dy64, w64)
				dxScale := ReferenceBackwardData(g, n, Abs(dy64), Abs(w64))
				dwRef, dbRef := ReferenceBackwardFilter(g, n, x64, dy64)
				dwScale, dbScale := ReferenceBackwardFilter(g, n, Abs(x64), Abs(dy64))
				reluRef := make([]float64, len(yRef))
				for i, v := range yRef {
					reluRef[i] = math.Max(v, 0)
				}
				forEachISA(t, func(t *testing.T) {
					p, err := NewPlan(g, WithAlgorithm(Im2col))
					if err != nil {
						t.Fatal(err)
					}
					if err := p.SetWeights(w, bias); err != nil {
						t.Fatal(err)
					}
					y, yGuard := guarded(len(yRef), 3)
					if err := p.Forward(y, x, n); err != nil {
						t.Fatal(err)
					}
					checkAgainst(t, "forward", y, yRef, yScale)
					yGuard(t)

					dx, dxGuard := guarded(len(dxRef), 1)
					for i := range dx {
						dx[i] = float32(math.NaN()) // must be overwritten
					}
					if err := p.BackwardData(dx, dy, n); err != nil {
						t.Fatal(err)
					}
					checkAgainst(t, "backward data", dx, dxRef, dxScale)
					dxGuard(t)

					dw, dwGuard := guarded(len(dwRef), 2)
					db := make([]float32, g.K)
					for i := range dw {
						dw[i] = float32(math.NaN())
					}
					if err := p.BackwardFilter(dw, db, x, dy, n); err != nil {
						t.Fatal(err)
					}
					checkAgainst(t, "backward filter dw", dw, dwRef, dwScale)
					dwGuard(t)
					checkAgainst(t, "backward filter db", db, dbRef, dbScale)

					pr, err := NewPlan(g, WithAlgorithm(Im2col), WithReLU(true))
					if err != nil {
						t.Fatal(err)
					}
					if err := pr.SetWeights(w, bias); err != nil {
						t.Fatal(err)
					}
					if err := pr.Forward(y, x, n); err != nil {
						t.Fatal(err)
					}
					checkAgainst(t, "forward+relu", y, reluRef, yScale)
					if !pr.ReLU() || p.ReLU() {
						t.Errorf("ReLU() = %v with WithReLU(true), %v without", pr.ReLU(), p.ReLU())
					}
				})
			})
		}
	}
}

// offsetSlice returns v[off:], a slice whose first element is off floats past an
// allocation's (aligned) start.
func offsetSlice(v []float32, off int) []float32 { return v[off:] }

// guarded returns a slice of n floats starting off elements into a buffer whose
// other elements hold a sentinel, and a check that the sentinels are intact.
func guarded(n, off int) ([]float32, func(t *testing.T)) {
	const guard = 8
	const sentinel = -12345.5
	buf := make([]float32, off+n+guard)
	for i := range buf {
		buf[i] = sentinel
	}
	return buf[off : off+n : off+n], func(t *testing.T) {
		t.Helper()
		for i, v := range buf {
			if (i < off || i >= off+n) && v != sentinel {
				t.Fatalf("element %d outside the output (at %d…%d) was overwritten with %g", i, off, off+n, v)
			}
		}
	}
}

// TestNoBias checks a nil bias and that SetWeights replaces the weights: the second
// Forward must see the new ones.
func TestNoBiasAndReset(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	g := geom(5, 6, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1)
	x := randF32(rng, 2*g.C*g.H*g.W)
	p, err := NewPlan(g)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float32, 2*g.K*g.OutH()*g.OutW())
	dx := make([]float32, len(x))
	dy := randF32(rng, len(y))
	for round := range 2 {
		w := randF32(rng, g.K*g.C*g.R*g.S)
		if err := p.SetWeights(w, nil); err != nil {
			t.Fatal(err)
		}
		if err := p.Forward(y, x, 2); err != nil {
			t.Fatal(err)
		}
		x64, w64 := ToFloat64(x), ToFloat64(w)
		checkAgainst(t, fmt.Sprintf("round %d forward", round), y, ReferenceForward(g, 2, x64, w64, nil), ReferenceForward(g, 2, Abs(x64), Abs(w64), nil))
		if err := p.BackwardData(dx, dy, 2); err != nil {
			t.Fatal(err)
		}
		dy64 := ToFloat64(dy)
		checkAgainst(t, fmt.Sprintf("round %d backward data", round), dx, ReferenceBackwardData(g, 2, dy64, w64), ReferenceBackwardData(g, 2, Abs(dy64), Abs(w64)))
	}
}

// TestNaNPropagation checks that a NaN or Inf in the input reaches the outputs it
// feeds, through every pass.
func TestNaNPropagation(t *testing.T) {
	g := geom(2, 3, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1)
	forEachISA(t, func(t *testing.T) {
		p, _ := NewPlan(g, WithAlgorithm(Im2col), WithReLU(true))
		w := make([]float32, g.K*g.C*9)
		for i := range w {
			w[i] = 0.5
		}
		if err := p.SetWeights(w, nil); err != nil {
			t.Fatal(err)
		}
		x := make([]float32, g.C*g.H*g.W)
		x[2*g.W+2] = float32(math.NaN()) // channel 0, pixel (2,2)
		x[g.H*g.W+4] = float32(math.Inf(1))
		y := make([]float32, g.K*g.OutH()*g.OutW())
		if err := p.Forward(y, x, 1); err != nil {
			t.Fatal(err)
		}
		if v := y[1*g.W+1]; !math.IsNaN(float64(v)) {
			t.Errorf("y at a NaN's neighbour = %g, want NaN", v)
		}
		if v := y[4*g.W+4]; math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Errorf("y far from the NaN and Inf = %g, want finite", v) // window rows 3…5, cols 3…5
		}
		if v := y[0*g.W+4]; !math.IsInf(float64(v), 1) {
			t.Errorf("y next to +Inf = %g, want +Inf", v)
		}
		dw := make([]float32, len(w))
		dy := make([]float32, len(y))
		dy[2*g.W+2] = 1 // the window of output (2,2) holds the NaN at its centre
		if err := p.BackwardFilter(dw, nil, x, dy, 1); err != nil {
			t.Fatal(err)
		}
		if v := dw[4]; !math.IsNaN(float64(v)) { // k=0, c=0, centre tap
			t.Errorf("dw at the NaN tap = %g, want NaN", v)
		}
	})
}

// TestFiniteDifferences checks the backward passes as gradients of
// L = Σ y·r: conv is linear in x and w, so central differences are exact up to
// rounding even with a large step.
func TestFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, g := range []Geometry{
		geom(2, 3, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1),
		geom(3, 2, 7, 6, 3, 2, 2, 1, 1, 0, 1, 2),
	} {
		n := 2
		x := randF32(rng, n*g.C*g.H*g.W)
		w := randF32(rng, g.K*g.C*g.R*g.S)
		b := randF32(rng, g.K)
		r := randF32(rng, n*g.K*g.OutH()*g.OutW())
		p, err := NewPlan(g)
		if err != nil {
			t.Fatal(err)
		}
		y := make([]float32, len(r))
		loss := func() float64 {
			if err := p.SetWeights(w, b); err != nil {
				t.Fatal(err)
			}
			if err := p.Forward(y, x, n); err != nil {
				t.Fatal(err)
			}
			var s float64
			for i := range y {
				s += float64(y[i]) * float64(r[i])
			}
			return s
		}
		loss()
		dx := make([]float32, len(x))
		dw := make([]float32, len(w))
		db := make([]float32, len(b))
		if err := p.BackwardData(dx, r, n); err != nil {
			t.Fatal(err)
		}
		if err := p.BackwardFilter(dw, db, x, r, n); err != nil {
			t.Fatal(err)
		}
		const h = 0.25
		fd := func(v []float32, i int) float64 {
			old := v[i]
			v[i] = old + h
			lp := loss()
			v[i] = old - h
			lm := loss()
			v[i] = old
			return (lp - lm) / (2 * h)
		}
		for _, c := range []struct {
			name string
			v    []float32
			grad []float32
		}{{"x", x, dx}, {"w", w, dw}, {"b", b, db}} {
			for trial := 0; trial < 6; trial++ {
				i := rng.IntN(len(c.v))
				want := fd(c.v, i)
				if d := math.Abs(float64(c.grad[i]) - want); d > 1e-4*(1+math.Abs(want)) {
					t.Errorf("%v: d%s[%d] = %g, finite difference %g", g, c.name, i, c.grad[i], want)
				}
			}
		}
	}
}

func TestOptionErrors(t *testing.T) {
	g5x3 := geom(3, 4, 8, 8, 5, 3, 1, 1, 2, 1, 1, 1)
	for _, tc := range []struct {
		name string
		g    Geometry
		opts []Option
		want string
	}{
		{"winograd on 5x3", g5x3, []Option{WithAlgorithm(WinogradF23)}, "needs a 3×3 kernel"},
		{"winograd on stride 2", geom(3, 4, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1), []Option{WithAlgorithm(WinogradF43)}, "stride 1"},
		{"unknown algorithm", g5x3, []Option{WithAlgorithm(Algorithm(42))}, "unknown algorithm"},
		{"autotune forced", g5x3, []Option{WithAlgorithm(Im2col), WithAutotune(true)}, "WithAutotune needs"},
		{"negative bound", g5x3, []Option{WithMaxWeightBytes(-1)}, "negative"},
		{"bad geometry", geom(3, 4, 2, 2, 5, 5, 1, 1, 0, 0, 1, 1), nil, "does not fit"},
		// Extent 3 on a 2-pixel input: (2−3)/2+1 truncates to 1, which must not pass.
		{"bad geometry stride 2", geom(1, 1, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2), nil, "does not fit"},
	} {
		_, err := NewPlan(tc.g, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}

	g := geom(3, 4, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1)
	p, err := NewPlan(g)
	if err != nil {
		t.Fatal(err)
	}
	nx, ny := g.C*g.H*g.W, g.K*g.OutH()*g.OutW()
	if err := p.Forward(make([]float32, ny), make([]float32, nx), 1); err == nil || !strings.Contains(err.Error(), "SetWeights") {
		t.Errorf("Forward before SetWeights: %v", err)
	}
	if err := p.SetWeights(make([]float32, 107), nil); err == nil || !strings.Contains(err.Error(), "108") {
		t.Errorf("short weights: %v", err)
	}
	if err := p.SetWeights(make([]float32, 108), make([]float32, 3)); err == nil || !strings.Contains(err.Error(), "bias") {
		t.Errorf("short bias: %v", err)
	}
	if err := p.SetWeights(make([]float32, 108), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"forward short x", p.Forward(make([]float32, 2*ny), make([]float32, 2*nx-1), 2), fmt.Sprintf("x for %v has %d elements, want %d", g, 2*nx-1, 2*nx)},
		{"forward long y", p.Forward(make([]float32, ny+1), make([]float32, nx), 1), "y for"},
		{"forward n=0", p.Forward(nil, nil, 0), "batch size 0"},
		{"backward data short dx", p.BackwardData(make([]float32, nx-1), make([]float32, ny), 1), "dx for"},
		{"backward filter short dw", p.BackwardFilter(make([]float32, 5), nil, make([]float32, nx), make([]float32, ny), 1), "dw for"},
		{"backward filter short db", p.BackwardFilter(make([]float32, 108), make([]float32, 1), make([]float32, nx), make([]float32, ny), 1), "db for"},
		{"backward filter short dy", p.BackwardFilter(make([]float32, 108), nil, make([]float32, nx), make([]float32, ny-2), 1), "dy for"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, tc.err, tc.want)
		}
	}

	// A weight bound below even the packed weights fails at SetWeights when the
	// algorithm is forced, and at Forward under Auto.
	pf, err := NewPlan(g, WithAlgorithm(Im2col), WithMaxWeightBytes(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := pf.SetWeights(make([]float32, 108), nil); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("forced im2col over the bound: %v", err)
	}
	pa, err := NewPlan(g, WithMaxWeightBytes(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := pa.SetWeights(make([]float32, 108), nil); err != nil {
		t.Fatal(err)
	}
	if err := pa.Forward(make([]float32, ny), make([]float32, nx), 1); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("auto over the bound: %v", err)
	}
}

// TestAutotune checks that autotuning picks an applicable algorithm and computes the
// right result.
func TestAutotune(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	g := geom(8, 8, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1)
	p, err := NewPlan(g, WithAutotune(true))
	if err != nil {
		t.Fatal(err)
	}
	x := randF32(rng, 2*g.C*g.H*g.W)
	w := randF32(rng, g.K*g.C*9)
	if err := p.SetWeights(w, nil); err != nil {
		t.Fatal(err)
	}
	y := make([]float32, 2*g.K*g.OutH()*g.OutW())
	if err := p.Forward(y, x, 2); err != nil {
		t.Fatal(err)
	}
	if a := p.Algorithm(); applicable(a, g) != nil {
		t.Errorf("autotune chose %v", a)
	}
	x64, w64 := ToFloat64(x), ToFloat64(w)
	e := Compare(y, ReferenceForward(g, 2, x64, w64, nil))
	if !e.Within(1e-4, 3e-4) { // whichever algorithm won, F(6,3)'s tolerance at worst
		t.Errorf("autotuned forward: %v", e)
	}
	if p.WeightBytes() <= 4*len(w) {
		t.Errorf("WeightBytes = %d, want more than the raw %d", p.WeightBytes(), 4*len(w))
	}
}

// gemmAllocates reports whether asm's GEMM itself allocates, in which case the
// plan's own allocations cannot be measured.
func gemmAllocates() bool {
	a := asm.PackA(false, 4, 4, make([]float32, 16), 4)
	b := make([]float32, 16)
	c := make([]float32, 16)
	src := asm.BFromMatrix(false, b, 4)
	return testing.AllocsPerRun(3, func() { a.Gemm(4, 1, src, 0, c, 4) }) > 0
}

func TestNoAllocations(t *testing.T) {
	if gemmAllocates() {
		t.Skip("asm's GEMM allocates per call; the plan's own allocations cannot be isolated")
	}
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []struct {
		g   Geometry
		alg Algorithm
	}{
		{geom(5, 6, 12, 11, 3, 3, 1, 1, 1, 1, 1, 1), Im2col},
		{geom(5, 6, 12, 11, 3, 3, 1, 1, 1, 1, 1, 1), Auto},
		{geom(5, 6, 12, 11, 3, 3, 2, 2, 1, 1, 1, 1), Im2col},   // general backward data
		{geom(3, 512, 23, 25, 3, 3, 1, 1, 1, 1, 1, 1), Im2col}, // per-image bands
	} {
		g, n := tc.g, 3
		p, err := NewPlan(g, WithReLU(true), WithAlgorithm(tc.alg))
		if err != nil {
			t.Fatal(err)
		}
		w := randF32(rng, g.K*g.C*g.R*g.S)
		if err := p.SetWeights(w, randF32(rng, g.K)); err != nil {
			t.Fatal(err)
		}
		x := randF32(rng, n*g.C*g.H*g.W)
		y := make([]float32, n*g.K*g.OutH()*g.OutW())
		dx := make([]float32, len(x))
		dw := make([]float32, len(w))
		db := make([]float32, g.K)
		run := map[string]func(){
			"Forward":        func() { _ = p.Forward(y, x, n) },
			"BackwardData":   func() { _ = p.BackwardData(dx, y, n) },
			"BackwardFilter": func() { _ = p.BackwardFilter(dw, db, x, y, n) },
		}
		for name, f := range run {
			f()
			if a := testing.AllocsPerRun(5, f); a != 0 {
				t.Errorf("%v %v: warm %s allocates %v times per call", g, tc.alg, name, a)
			}
		}
	}
}

// TestWeightBoundFallback checks that under Auto a bound too small for the chosen
// algorithm's prepared weights falls back to one that fits, and still computes the
// right result.
func TestWeightBoundFallback(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	g := geom(16, 16, 12, 12, 3, 3, 1, 1, 1, 1, 1, 1)
	im := newIm2colKernel(g)
	w := randF32(rng, g.K*g.C*9)
	im.setWeights(w, nil)
	bound := im.weightBytes() // room for implicit GEMM's packed weights only
	for _, a := range []Algorithm{WinogradF23, WinogradF43, WinogradF63} {
		if k, err := newKernel(a, g); err == nil {
			k.setWeights(w, nil)
			if k.weightBytes() <= bound {
				t.Fatalf("%v weights (%d bytes) fit the bound of %d meant to exclude them", a, k.weightBytes(), bound)
			}
		}
	}
	p, err := NewPlan(g, WithMaxWeightBytes(bound))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetWeights(w, nil); err != nil {
		t.Fatal(err)
	}
	x := randF32(rng, 2*g.C*g.H*g.W)
	y := make([]float32, 2*g.K*g.OutH()*g.OutW())
	if err := p.Forward(y, x, 2); err != nil {
		t.Fatal(err)
	}
	if a := p.Algorithm(); a != Im2col {
		t.Errorf("under a bound of %d bytes the plan chose %v", bound, a)
	}
	x64, w64 := ToFloat64(x), ToFloat64(w)
	checkAgainst(t, "forward", y, ReferenceForward(g, 2, x64, w64, nil), ReferenceForward(g, 2, Abs(x64), Abs(w64), nil))
}

// TestPlanWinogradPasses checks the plan's wiring of the Winograd kernels: forward
// on the weights, backward data on the rotated, C/K-swapped weights (a kernel of
// its own), and backward filter through implicit GEMM, at each algorithm's
// tolerance (kernels.md §2).
func TestPlanWinogradPasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	tol := map[Algorithm][2]float64{WinogradF23: {1e-5, 2e-5}, WinogradF43: {2e-5, 5e-5}, WinogradF63: {1e-4, 3e-4}}
	g := geom(minTransposedC+1, 7, 13, 11, 3, 3, 1, 1, 1, 1, 1, 1) // enough channels for the transposed path
	n := 2
	x := randF32(rng, n*g.C*g.H*g.W)
	w := randF32(rng, g.K*g.C*9)
	b := randF32(rng, g.K)
	dy := randF32(rng, n*g.K*g.OutH()*g.OutW())
	x64, w64, b64, dy64 := ToFloat64(x), ToFloat64(w), ToFloat64(b), ToFloat64(dy)
	yRef := ReferenceForward(g, n, x64, w64, b64)
	dxRef := ReferenceBackwardData(g, n, dy64, w64)
	dwRef, _ := ReferenceBackwardFilter(g, n, x64, dy64)
	for a, tl := range tol {
		if applicable(a, g) != nil {
			continue
		}
		t.Run(a.String(), func(t *testing.T) {
			p, err := NewPlan(g, WithAlgorithm(a))
			if err != nil {
				t.Fatal(err)
			}
			if err := p.SetWeights(w, b); err != nil {
				t.Fatal(err)
			}
			y := make([]float32, len(yRef))
			dx := make([]float32, len(dxRef))
			dw := make([]float32, len(dwRef))
			if err := p.Forward(y, x, n); err != nil {
				t.Fatal(err)
			}
			if err := p.BackwardData(dx, dy, n); err != nil {
				t.Fatal(err)
			}
			if err := p.BackwardFilter(dw, nil, x, dy, n); err != nil {
				t.Fatal(err)
			}
			if p.Algorithm() != a || p.bwdData.alg != a {
				t.Errorf("forward ran %v and backward data %v, want %v for both", p.Algorithm(), p.bwdData.alg, a)
			}
			for _, r := range []struct {
				what string
				got  []float32
				want []float64
				tol  [2]float64
			}{{"y", y, yRef, tl}, {"dx", dx, dxRef, tl}, {"dw", dw, dwRef, [2]float64{tolRelL2, tolMaxRel}}} {
				if e := Compare(r.got, r.want); !e.Within(r.tol[0], r.tol[1]) {
					t.Errorf("%s: %v", r.what, e)
				}
			}
		})
	}
}

// TestVaryingBatch runs one plan on batches of different sizes, so that scratch
// sized for one batch must grow (or be reused) correctly for the next.
func TestVaryingBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, g := range []Geometry{
		geom(16, 8, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1), // folded batches
		geom(3, 4, 9, 7, 3, 3, 2, 2, 1, 1, 1, 1),  // general backward data
	} {
		p, err := NewPlan(g, WithAlgorithm(Im2col))
		if err != nil {
			t.Fatal(err)
		}
		w := randF32(rng, g.K*g.C*g.R*g.S)
		b := randF32(rng, g.K)
		if err := p.SetWeights(w, b); err != nil {
			t.Fatal(err)
		}
		w64, b64 := ToFloat64(w), ToFloat64(b)
		for _, n := range []int{3, 1, 5, 2} {
			x := randF32(rng, n*g.C*g.H*g.W)
			dy := randF32(rng, n*g.K*g.OutH()*g.OutW())
			x64, dy64 := ToFloat64(x), ToFloat64(dy)
			y := make([]float32, len(dy))
			dx := make([]float32, len(x))
			dw := make([]float32, len(w))
			db := make([]float32, g.K)
			if err := p.Forward(y, x, n); err != nil {
				t.Fatal(err)
			}
			if err := p.BackwardData(dx, dy, n); err != nil {
				t.Fatal(err)
			}
			if err := p.BackwardFilter(dw, db, x, dy, n); err != nil {
				t.Fatal(err)
			}
			what := fmt.Sprintf("%v n=%d", g, n)
			checkAgainst(t, what+" y", y, ReferenceForward(g, n, x64, w64, b64), ReferenceForward(g, n, Abs(x64), Abs(w64), Abs(b64)))
			checkAgainst(t, what+" dx", dx, ReferenceBackwardData(g, n, dy64, w64), ReferenceBackwardData(g, n, Abs(dy64), Abs(w64)))
			dwRef, dbRef := ReferenceBackwardFilter(g, n, x64, dy64)
			dwScale, dbScale := ReferenceBackwardFilter(g, n, Abs(x64), Abs(dy64))
			checkAgainst(t, what+" dw", dw, dwRef, dwScale)
			checkAgainst(t, what+" db", db, dbRef, dbScale)
		}
	}
}

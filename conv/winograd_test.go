package conv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/govgg/govgg/asm"
)

// winoTol is kernels.md §2's tolerance table: relL2, max|err|/max|y|, and the
// per-element bound |err| ≤ tol·Σ|x||w|.
var winoTol = map[Algorithm][3]float64{
	WinogradF23: {1e-5, 2e-5, 2e-5},
	WinogradF43: {2e-5, 5e-5, 5e-5},
	WinogradF63: {1e-4, 3e-4, 3e-4},
}

var winoAlgs = []Algorithm{WinogradF23, WinogradF43, WinogradF63}

var winoAlpha2 = map[Algorithm]int{WinogradF23: 16, WinogradF43: 36, WinogradF63: 64}

var winoM = map[Algorithm]int{WinogradF23: 2, WinogradF43: 4, WinogradF63: 6}

// winoTileScale widens the per-element error scale Σ|x||w| to the largest over the
// element's m×m output tile: the transforms mix a tile's whole α×α input patch, so
// an output's rounding error follows the patch's magnitude, not only its own 3×3
// window's (FuzzWinograd found a near-zero window beside large ones).
func winoTileScale(scale []float64, g Geometry, n, m int) []float64 {
	oh, ow := g.OutH(), g.OutW()
	out := make([]float64, len(scale))
	for p := 0; p < n*g.K; p++ {
		s := scale[p*oh*ow : (p+1)*oh*ow]
		for ty := 0; ty < oh; ty += m {
			for tx := 0; tx < ow; tx += m {
				var mx float64
				for i := ty; i < min(ty+m, oh); i++ {
					for j := tx; j < min(tx+m, ow); j++ {
						mx = math.Max(mx, s[i*ow+j])
					}
				}
				for i := ty; i < min(ty+m, oh); i++ {
					for j := tx; j < min(tx+m, ow); j++ {
						out[p*oh*ow+i*ow+j] = mx
					}
				}
			}
		}
	}
	return out
}

type winoCase struct {
	c, k, h, w, pad, n int
}

func (c winoCase) String() string {
	return fmt.Sprintf("c%d-k%d-%dx%d-p%d-n%d", c.c, c.k, c.h, c.w, c.pad, c.n)
}

func winoGeom(c winoCase) Geometry {
	g := Square3x3(c.c, c.k, c.h, c.w)
	g.PadH, g.PadW = c.pad, c.pad
	return g
}

func winoRand(rng *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32((2*rng.Float64() - 1) * scale)
	}
	return x
}

// winoCheck runs algorithm a on (x, w, b) and checks it against the float64
// direct reference: element by element, and with stats also by relL2 and
// max|err|/max|y| (which tiny random shapes can fail by cancellation alone, so the
// fuzz target leaves them out).
func winoCheck(t *testing.T, a Algorithm, g Geometry, n int, x, w, b []float32, relu, stats bool) {
	t.Helper()
	kern, err := winogradKernels[a](g)
	if err != nil {
		t.Fatal(err)
	}
	kern.setWeights(w, b)
	y := make([]float32, n*g.K*g.OutH()*g.OutW())
	for i := range y {
		y[i] = float32(math.NaN()) // every element must be written
	}
	kern.forward(y, x, n, relu)
	want := ReferenceForward(g, n, ToFloat64(x), ToFloat64(w), ToFloat64(b))
	scale := ReferenceForward(g, n, Abs(ToFloat64(x)), Abs(ToFloat64(w)), Abs(ToFloat64(b)))
	if relu {
		for i, v := range want {
			want[i] = math.Max(v, 0)
		}
	}
	tol := winoTol[a]
	e := Compare(y, want)
	if stats && !e.Within(tol[0], tol[1]) {
		t.Fatalf("%v %v n=%d: %v (tolerance relL2 %g, max %g)", a, g, n, e, tol[0], tol[1])
	}
	if testing.Verbose() {
		t.Logf("%v %v n=%d: %v", a, g, n, e)
	}
	if err := CheckBound(y, want, winoTileScale(scale, g, n, winoM[a]), tol[2]); err != nil {
		t.Fatalf("%v %v n=%d: %v", a, g, n, err)
	}
}

// winoEachISA runs f under every kernel path this machine supports.
func winoEachISA(t *testing.T, f func(t *testing.T)) {
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

func TestWinogradForward(t *testing.T) {
	cases := []winoCase{
		{1, 1, 1, 1, 1, 1},
		{3, 5, 5, 7, 1, 1},
		{2, 3, 3, 3, 0, 1},
		{17, 9, 13, 9, 1, 2},
		{33, 16, 14, 14, 1, 1},
		{5, 4, 7, 5, 0, 2},
		{4, 6, 9, 11, 2, 2},
		{16, 33, 28, 28, 1, 1},
		{3, 17, 6, 40, 1, 1},
		{6, 7, 12, 12, 1, 3}, // whole tiles for every m: y written in place, across images
	}
	if !testing.Short() {
		// C=512 is where kernels.md's error table is widest (relL2 ≈ 0.9e-5 for F(6,3)).
		cases = append(cases, winoCase{64, 64, 28, 28, 1, 2}, winoCase{130, 20, 10, 12, 1, 3}, winoCase{512, 5, 8, 8, 1, 1})
	}
	winoEachISA(t, func(t *testing.T) {
		for _, c := range cases {
			for _, a := range winoAlgs {
				t.Run(c.String()+"/"+a.String(), func(t *testing.T) {
					g := winoGeom(c)
					rng := rand.New(rand.NewPCG(uint64(c.c*1000+c.h), uint64(a)))
					x := winoRand(rng, c.n*c.c*c.h*c.w, 1)
					w := winoRand(rng, c.k*c.c*9, math.Sqrt(2/float64(9*c.c)))
					b := winoRand(rng, c.k, 0.1)
					winoCheck(t, a, g, c.n, x, w, b, c.h%2 == 1, true)
				})
			}
		}
	})
}

// TestWinogradThreads checks the result with one and several workers, on many
// blocks and on one split block, and that the layout is rebuilt when the batch size
// changes.
func TestWinogradThreads(t *testing.T) {
	for _, th := range []int{1, 3} {
		prev := asm.SetThreads(th)
		// Blocks of whole images; blocks starting and ending mid tile row and
		// spanning images (C=K=64: L2-sized blocks of 96 F(4,3) tiles); and one
		// block (split over channels and ξ when th > 1).
		for _, c := range []winoCase{{8, 8, 60, 61, 1, 3}, {64, 64, 40, 44, 1, 2}, {40, 70, 9, 10, 1, 1}} {
			if testing.Short() && c.c == 64 && th == 1 {
				continue // the 3-thread run covers the same blocks
			}
			winoThreads(t, c)
		}
		asm.SetThreads(prev)
	}
}

// TestWinogradSmallMaps covers the input stage's plane copies (whole small images
// into a reused region after its first channel) and the row copies of images a
// block covers in part, on one thread and several blocks: at C=K=32, F(2,3) blocks
// hold 512 tiles, which split 5×5 and 7×7 images (9 and 16 tiles) and hold many
// whole 2×2 to 8×8 ones. Where the kernel writes its output straight into y
// (direct: 4×4 and 8×8 maps at pad 1), some blocks must do so (whole images and
// whole groups of tiles) while others go through the region.
func TestWinogradSmallMaps(t *testing.T) {
	defer asm.SetThreads(asm.SetThreads(1))
	for _, c := range []winoCase{
		{32, 32, 2, 2, 1, 1100}, {32, 32, 4, 4, 1, 300}, {32, 32, 4, 4, 2, 130},
		{32, 32, 5, 5, 1, 120}, {32, 32, 7, 7, 0, 120}, {32, 32, 8, 8, 1, 70},
	} {
		g := winoGeom(c)
		rng := rand.New(rand.NewPCG(uint64(c.h), uint64(c.pad)))
		x := winoRand(rng, c.n*c.c*c.h*c.w, 1)
		w := winoRand(rng, c.k*c.c*9, math.Sqrt(2/float64(9*c.c)))
		b := winoRand(rng, c.k, 0.1)
		want := ReferenceForward(g, c.n, ToFloat64(x), ToFloat64(w), ToFloat64(b))
		scale := ReferenceForward(g, c.n, Abs(ToFloat64(x)), Abs(ToFloat64(w)), Abs(ToFloat64(b)))
		y := make([]float32, len(want))
		winoEachISA(t, func(t *testing.T) {
			for _, a := range []Algorithm{WinogradF23, WinogradF43} {
				kern, err := winogradKernels[a](g)
				if err != nil {
					t.Fatal(err)
				}
				kern.setWeights(w, b)
				for i := range y {
					y[i] = float32(math.NaN()) // every element must be written
				}
				kern.forward(y, x, c.n, false)
				if e := Compare(y, want); !e.Within(winoTol[a][0], winoTol[a][1]) {
					t.Fatalf("%v %v: %v", c, a, e)
				}
				if wk := kern.(*winograd); c.pad == 1 {
					direct := 0
					for _, bl := range wk.st.blocks {
						if bl.yidx != nil {
							direct++
						}
					}
					if want := wk.direct(); (direct > 0) != want {
						t.Fatalf("%v %v: %d of %d blocks direct, want some: %v", c, a, direct, len(wk.st.blocks), want)
					}
				}
				if err := CheckBound(y, want, winoTileScale(scale, g, c.n, winoM[a]), winoTol[a][2]); err != nil {
					t.Fatalf("%v %v: %v", c, a, err)
				}
			}
		})
	}
}

// TestWinogradConcurrent runs two kernels of different sizes at the same time
// from different goroutines, as two Plans may: they share the scratch arena, so
// each call must hold its own buffers (run with -race).
func TestWinogradConcurrent(t *testing.T) {
	cases := []winoCase{{16, 24, 12, 12, 1, 3}, {40, 8, 30, 20, 1, 1}}
	var wg sync.WaitGroup
	errs := make([]error, len(cases))
	for i, c := range cases {
		g := winoGeom(c)
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		x := winoRand(rng, c.n*c.c*c.h*c.w, 1)
		w := winoRand(rng, c.k*c.c*9, 0.3)
		b := winoRand(rng, c.k, 0.1)
		want := ReferenceForward(g, c.n, ToFloat64(x), ToFloat64(w), ToFloat64(b))
		kern, err := winogradKernels[WinogradF43](g)
		if err != nil {
			t.Fatal(err)
		}
		kern.setWeights(w, b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			y := make([]float32, len(want))
			for r := 0; r < 20 && errs[i] == nil; r++ {
				clear(y)
				kern.forward(y, x, c.n, false)
				if e := Compare(y, want); !e.Within(winoTol[WinogradF43][0], winoTol[WinogradF43][1]) {
					errs[i] = fmt.Errorf("%v run %d: %v", c, r, e)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func winoThreads(t *testing.T, c winoCase) {
	g := winoGeom(c)
	rng := rand.New(rand.NewPCG(1, 2))
	w := winoRand(rng, c.k*c.c*9, 0.3)
	b := winoRand(rng, c.k, 0.1)
	kerns := make([]kernel, len(winoAlgs))
	for i, a := range winoAlgs {
		kerns[i], _ = winogradKernels[a](g)
		kerns[i].setWeights(w, b)
	}
	// Batch sizes in this order make every kernel rebuild its layout twice.
	for _, n := range []int{3, 1, 2} {
		x := winoRand(rng, n*c.c*c.h*c.w, 1)
		want := ReferenceForward(g, n, ToFloat64(x), ToFloat64(w), ToFloat64(b))
		for i, a := range winoAlgs {
			y := make([]float32, n*g.K*g.OutH()*g.OutW())
			kerns[i].forward(y, x, n, false)
			if e := Compare(y, want); !e.Within(winoTol[a][0], winoTol[a][1]) {
				t.Fatalf("%v %v n=%d: %v", a, g, n, e)
			}
		}
	}
}

// TestWinogradBackwardData uses the forward kernel on the 180°-rotated weights with
// C and K swapped, given rotated or (as the Plan does) as they are, against the
// float64 backward-data reference.
func TestWinogradBackwardData(t *testing.T) {
	cases := []winoCase{{17, 9, 13, 9, 1, 2}, {5, 12, 7, 5, 0, 1}, {6, 3, 8, 8, 2, 1}, {16, 16, 14, 14, 1, 1}}
	winoEachISA(t, func(t *testing.T) {
		for _, c := range cases {
			for _, a := range winoAlgs {
				t.Run(c.String()+"/"+a.String(), func(t *testing.T) {
					g := winoGeom(c)
					oh, ow := g.OutH(), g.OutW()
					rng := rand.New(rand.NewPCG(uint64(c.k), 7))
					dy := winoRand(rng, c.n*c.k*oh*ow, 1)
					w := winoRand(rng, c.k*c.c*9, 0.2)
					// dx = conv(dy, rot180(w)ᵀ) with padding 2−pad maps oh×ow back to h×w.
					bg := Square3x3(c.k, c.c, oh, ow)
					bg.PadH, bg.PadW = 2-c.pad, 2-c.pad
					if bg.OutH() != c.h || bg.OutW() != c.w {
						t.Fatalf("backward geometry %v gives %dx%d", bg, bg.OutH(), bg.OutW())
					}
					wt := make([]float32, len(w))
					for k := 0; k < c.k; k++ {
						for ch := 0; ch < c.c; ch++ {
							for r := 0; r < 9; r++ {
								wt[(ch*c.k+k)*9+8-r] = w[(k*c.c+ch)*9+r]
							}
						}
					}
					kern, err := winogradKernels[a](bg)
					if err != nil {
						t.Fatal(err)
					}
					want := ReferenceBackwardData(g, c.n, ToFloat64(dy), ToFloat64(w))
					// The rotated copy as ordinary weights, then the Plan's way: U
					// straight from w (setTransposedWeights).
					for _, direct := range []bool{false, true} {
						if direct {
							kern.(*winograd).setTransposedWeights(w)
						} else {
							kern.setWeights(wt, nil)
						}
						dx := make([]float32, c.n*c.c*c.h*c.w)
						kern.forward(dx, dy, c.n, false)
						if e := Compare(dx, want); !e.Within(winoTol[a][0], winoTol[a][1]) {
							t.Fatalf("%v (U from w: %v): %v", a, direct, e)
						}
					}
				})
			}
		}
	})
}

// TestWinogradNaN checks that a NaN or Inf in the input reaches every output whose
// window covers it (Winograd may spread it over the rest of its tiles too).
func TestWinogradNaN(t *testing.T) {
	c := winoCase{3, 4, 12, 13, 1, 1}
	g := winoGeom(c)
	rng := rand.New(rand.NewPCG(5, 5))
	w := winoRand(rng, c.k*c.c*9, 0.3)
	winoEachISA(t, func(t *testing.T) {
		for _, a := range winoAlgs {
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
				x := winoRand(rng, c.c*c.h*c.w, 1)
				x[1*c.h*c.w+5*c.w+6] = bad // channel 1, row 5, column 6
				kern, _ := winogradKernels[a](g)
				kern.setWeights(w, nil)
				y := make([]float32, c.k*g.OutH()*g.OutW())
				kern.forward(y, x, 1, false)
				for k := 0; k < c.k; k++ {
					for oy := 4; oy <= 6; oy++ {
						for ox := 5; ox <= 7; ox++ {
							v := y[(k*g.OutH()+oy)*g.OutW()+ox]
							if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
								t.Fatalf("%v: input %v did not reach y[%d,%d,%d] = %v", a, bad, k, oy, ox, v)
							}
						}
					}
				}
			}
		}
	})
}

func TestWinogradNoAllocs(t *testing.T) {
	c := winoCase{16, 16, 20, 20, 1, 2}
	g := winoGeom(c)
	rng := rand.New(rand.NewPCG(3, 3))
	w := winoRand(rng, c.k*c.c*9, 0.3)
	x := winoRand(rng, c.n*c.c*c.h*c.w, 1)
	y := make([]float32, c.n*g.K*g.OutH()*g.OutW())
	// asm.ParallelFor itself may allocate when it hands work to helpers; the
	// kernel must add nothing to that.
	nop := func(lo, hi int) {}
	base := testing.AllocsPerRun(5, func() { // a forward makes up to 3 parallel regions
		asm.ParallelFor(64, 1, nop)
		asm.ParallelFor(64, 1, nop)
		asm.ParallelFor(64, 1, nop)
	})
	for _, a := range winoAlgs {
		kern, _ := winogradKernels[a](g)
		kern.setWeights(w, nil)
		kern.forward(y, x, c.n, false)
		if n := testing.AllocsPerRun(5, func() { kern.forward(y, x, c.n, false) }); n > base {
			t.Errorf("%v: %v allocations per forward (ParallelFor alone: %v)", a, n, base)
		}
		if kern.weightBytes() < winoAlpha2[a]*g.K*g.C*4 {
			t.Errorf("%v: weightBytes %d is less than U's size", a, kern.weightBytes())
		}
	}
}

func TestWinogradRejects(t *testing.T) {
	g := Square3x3(3, 3, 8, 8)
	g.StrideH = 2
	if _, err := winogradKernels[WinogradF43](g); err == nil {
		t.Fatal("stride 2 accepted")
	}
}

func FuzzWinograd(f *testing.F) {
	f.Add(uint8(0), uint8(3), uint8(4), uint8(5), uint8(7), uint8(1), uint8(1), uint64(1))
	f.Add(uint8(1), uint8(17), uint8(2), uint8(14), uint8(14), uint8(1), uint8(2), uint64(2))
	f.Add(uint8(2), uint8(1), uint8(9), uint8(13), uint8(9), uint8(0), uint8(1), uint64(3))
	f.Add(uint8(2), uint8(5), uint8(5), uint8(3), uint8(20), uint8(2), uint8(2), uint64(4))
	f.Add(uint8(1), uint8(2), uint8(3), uint8(1), uint8(1), uint8(1), uint8(3), uint64(5))
	f.Fuzz(func(t *testing.T, alg, c, k, h, w, pad, n uint8, seed uint64) {
		cs := winoCase{int(c%24) + 1, int(k%24) + 1, int(h%24) + 1, int(w%24) + 1, int(pad % 3), int(n%3) + 1}
		g := winoGeom(cs)
		if g.Validate() != nil {
			return
		}
		a := winoAlgs[int(alg)%len(winoAlgs)]
		rng := rand.New(rand.NewPCG(seed, 9))
		x := winoRand(rng, cs.n*cs.c*cs.h*cs.w, 1)
		wt := winoRand(rng, cs.k*cs.c*9, 0.5)
		b := winoRand(rng, cs.k, 0.5)
		winoCheck(t, a, g, cs.n, x, wt, b, seed%2 == 0, false)
	})
}

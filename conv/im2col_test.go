package conv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/govgg/govgg/asm"
)

// im2colThreadCases cover the implicit-GEMM kernel's three ways of running a
// forward: per-image blocks small enough to run side by side (a first layer),
// folded blocks run side by side, and per-image blocks whose GEMMs are split over
// the threads one after another.
var im2colThreadCases = []struct {
	name string
	g    Geometry
	n    int
}{
	// K=64: 4032-column blocks; 67×71 = 4757 pixels make 2 per image, which 3
	// threads re-cut into 3 (n=1) or 6 (n=2).
	{"image-blocks", geom(3, 64, 67, 71, 3, 3, 1, 1, 1, 1, 1, 1), 1},
	{"image-blocks/n=2", geom(3, 64, 67, 71, 3, 3, 1, 1, 1, 1, 1, 1), 2},
	{"image-blocks/s2", geom(3, 64, 133, 141, 5, 3, 2, 2, 2, 1, 1, 1), 1},
	{"image-blocks/p0", geom(3, 64, 69, 71, 3, 3, 1, 1, 0, 0, 1, 1), 1}, // x read in place
	// K=8: 4608-column chunks over 40 folded 21×19 maps (4 chunks).
	{"folded", geom(3, 8, 21, 19, 3, 3, 1, 1, 1, 1, 1, 1), 40},
	// C·R·S = 360: each 4032-column GEMM is ~190 MFLOP, split by asm's driver.
	{"split-gemm", geom(40, 64, 64, 66, 3, 3, 1, 1, 1, 1, 1, 1), 1},
}

// TestIm2colThreads checks every way of running against the float64 reference on
// 1–3 threads and every ISA, with guard sentinels around y, and that the result
// does not depend on the thread count (every element is summed in the same order).
func TestIm2colThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range im2colThreadCases {
		g, n := c.g, c.n
		x := offsetSlice(randF32(rng, n*g.C*g.H*g.W+1), 1)
		w := randF32(rng, g.K*g.C*g.R*g.S)
		bias := randF32(rng, g.K)
		yRef := ReferenceForward(g, n, ToFloat64(x), ToFloat64(w), ToFloat64(bias))
		scale := ReferenceForward(g, n, Abs(ToFloat64(x)), Abs(ToFloat64(w)), Abs(ToFloat64(bias)))
		for i, v := range yRef {
			yRef[i] = math.Max(v, 0)
		}
		t.Run(c.name, func(t *testing.T) {
			forEachISA(t, func(t *testing.T) {
				var first []float32
				for _, th := range []int{1, 2, 3} {
					prev := asm.SetThreads(th)
					p, err := NewPlan(g, WithAlgorithm(Im2col), WithReLU(true))
					if err != nil {
						t.Fatal(err)
					}
					if err := p.SetWeights(w, bias); err != nil {
						t.Fatal(err)
					}
					y, guard := guarded(len(yRef), 2)
					for range 2 { // the second call reuses the workers
						if err := p.Forward(y, x, n); err != nil {
							t.Fatal(err)
						}
					}
					asm.SetThreads(prev)
					checkAgainst(t, fmt.Sprintf("threads=%d", th), y, yRef, scale)
					guard(t)
					if first == nil {
						first = append([]float32(nil), y...)
						continue
					}
					for i := range y {
						if math.Float32bits(y[i]) != math.Float32bits(first[i]) {
							t.Fatalf("threads=%d: y[%d] = %g, %g on one thread", th, i, y[i], first[i])
						}
					}
				}
			})
		})
	}
}

// TestIm2colThreadsNoAllocs checks that a warm forward on several threads adds no
// allocation to what asm.ParallelFor itself makes.
func TestIm2colThreadsNoAllocs(t *testing.T) {
	defer asm.SetThreads(asm.SetThreads(2))
	nop := func(lo, hi int) {}
	base := testing.AllocsPerRun(5, func() { asm.ParallelFor(64, 1, nop) })
	rng := rand.New(rand.NewPCG(23, 24))
	for _, c := range im2colThreadCases {
		g, n := c.g, c.n
		p, err := NewPlan(g, WithAlgorithm(Im2col), WithReLU(true))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.SetWeights(randF32(rng, g.K*g.C*g.R*g.S), randF32(rng, g.K)); err != nil {
			t.Fatal(err)
		}
		x := randF32(rng, n*g.C*g.H*g.W)
		y := make([]float32, n*g.K*g.OutH()*g.OutW())
		_ = p.Forward(y, x, n)
		if a := testing.AllocsPerRun(5, func() { _ = p.Forward(y, x, n) }); a > base {
			t.Errorf("%s: %v allocations per warm forward (ParallelFor alone: %v)", c.name, a, base)
		}
	}
}

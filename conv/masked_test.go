package conv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govgg/govgg/asm"
)

// maskedCases are the geometries and algorithms BackwardDataMasked is checked on,
// one or more per way of writing dX: Winograd's output copy (several blocks, and
// one block that two threads split by stages), implicit GEMM's per-image and
// folded epilogues, and the general col2im path (small maps, C < 16, strides).
func maskedCases() []struct {
	name string
	g    Geometry
	alg  Algorithm
	n    int
} {
	type tc = struct {
		name string
		g    Geometry
		alg  Algorithm
		n    int
	}
	var cs []tc
	for _, a := range []Algorithm{WinogradF23, WinogradF43, WinogradF63} {
		cs = append(cs,
			tc{"blocks", geom(16, 24, 13, 11, 3, 3, 1, 1, 1, 1, 1, 1), a, 3},
			tc{"oneblock", geom(32, 17, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1), a, 2},
			tc{"p0", geom(20, 16, 9, 10, 3, 3, 1, 1, 0, 0, 1, 1), a, 2},
			// Two blocks on two threads, each with part of an image.
			tc{"partial", geom(16, 24, 13, 11, 3, 3, 1, 1, 1, 1, 1, 1), a, 4},
			// Long copies (32×32 planes for F23 and F43): masked as they are copied.
			tc{"long", geom(16, 16, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1), a, 3},
		)
	}
	cs = append(cs,
		tc{"im2col/folded", geom(16, 24, 13, 11, 3, 3, 1, 1, 1, 1, 1, 1), Im2col, 3},
		tc{"im2col/per-image", geom(16, 16, 70, 70, 3, 3, 1, 1, 1, 1, 1, 1), Im2col, 2},
		tc{"im2col/5x3", geom(17, 9, 12, 21, 5, 3, 1, 1, 2, 1, 1, 1), Im2col, 2},
		tc{"general/4x4map", geom(32, 24, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1), Im2col, 5},
		tc{"general/2x2map", geom(16, 24, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1), Auto, 7},
		tc{"general/3x5map/chunks", geom(64, 8, 3, 5, 3, 3, 1, 1, 1, 1, 1, 1), Im2col, 40}, // blocks end inside images
		tc{"vgg/conv3", geom(256, 256, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1), Auto, 2},
	)
	for _, tg := range testGeometries {
		cs = append(cs, tc{"auto/" + tg.name, tg.g, Auto, 3}, tc{"im2col/" + tg.name, tg.g, Im2col, 2})
	}
	return cs
}

// maskedInputs returns dy and a mask for g and n: dy uniform in [−1, 1), the mask
// with positives, negatives, +0, −0, NaN and ±Inf. With specials, dy also holds a
// NaN, +Inf and −Inf, which spread over dX (and, in Winograd, over whole tiles).
func maskedInputs(rng *rand.Rand, g Geometry, n int, specials bool) (dy, mask []float32) {
	dy = randF32(rng, n*g.K*g.OutH()*g.OutW())
	mask = randF32(rng, n*g.C*g.H*g.W)
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for i := range mask {
		switch i % 11 {
		case 3:
			mask[i] = 0
		case 7:
			mask[i] = float32(math.Copysign(0, -1))
		}
	}
	if specials {
		for i, v := range []float32{nan, inf, -inf, nan} {
			mask[(i*len(mask))/4+1] = v
		}
		dy[len(dy)/3] = nan
		dy[len(dy)/2] = inf
		dy[len(dy)-1] = -inf
	}
	return dy, mask
}

// TestMaskShort compares maskShort's loop and vector paths with asm.ReLUBackward
// on every length up to 40 and mask values of every class: ±0, ±denormal, ±1,
// ±Inf, and NaNs with the sign set (x86's default NaN) or clear.
func TestMaskShort(t *testing.T) {
	specials := []float32{0, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0xffc00000), math.Float32frombits(0x7fc00000), math.Float32frombits(0xff800001), math.Float32frombits(0x7f800001)}
	forEachISA(t, func(t *testing.T) { testMaskShort(t, specials) })
}

func testMaskShort(t *testing.T, specials []float32) {
	rng := rand.New(rand.NewPCG(8, 9))
	for n := 0; n <= 40; n++ {
		for rep := 0; rep < 20; rep++ {
			src, mask := randF32(rng, n), make([]float32, n)
			for i := range mask {
				mask[i] = specials[rng.IntN(len(specials))]
				if rng.IntN(4) == 0 {
					src[i] = specials[rng.IntN(len(specials))]
				}
			}
			got, want := make([]float32, n), make([]float32, n)
			for i := range got {
				got[i] = 42
			}
			maskShort(got, src, mask)
			asm.ReLUBackward(want, src, mask)
			if err := sameBits(got, want); err != nil {
				t.Fatalf("n=%d: %v (masks %v)", n, err, mask)
			}
		}
	}
}

// sameBits reports the first element where got and want differ in their bits.
func sameBits(got, want []float32) error {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			return fmt.Errorf("element %d: %g (%#08x), want %g (%#08x)", i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
	return nil
}

// TestBackwardDataMasked checks that BackwardDataMasked is bit for bit
// BackwardData followed by asm.ReLUBackward, on every path that writes dX, on one
// and two threads and every ISA path, with NaN and ±Inf in dy and in the mask.
func TestBackwardDataMasked(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		nanCases, cases := 0, 0
		for _, th := range []int{1, 2} {
			prev := asm.SetThreads(th)
			for ci, c := range maskedCases() {
				if testing.Short() && ci%3 != 0 {
					continue
				}
				g, n := c.g, c.n
				p, err := NewPlan(g, WithAlgorithm(c.alg))
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				cases++
				rng := rand.New(rand.NewPCG(uint64(ci), uint64(th)))
				if err := p.SetWeights(randF32(rng, g.K*g.C*g.R*g.S), nil); err != nil {
					t.Fatal(err)
				}
				for _, specials := range []bool{false, true} {
					what := fmt.Sprintf("%s %v n=%d threads=%d specials=%v", c.name, g, n, th, specials)
					dy, mask := maskedInputs(rng, g, n, specials)
					want := make([]float32, len(mask))
					if err := p.BackwardData(want, dy, n); err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					asm.ReLUBackward(want, want, mask)
					got := make([]float32, len(mask))
					for i := range got {
						got[i] = 42 // every element must be written
					}
					if err := p.BackwardDataMasked(got, dy, mask, n); err != nil {
						t.Fatalf("%s: %v", what, err)
					}
					if err := sameBits(got, want); err != nil {
						t.Fatalf("%s (%v): %v", what, p.bwdData.path(), err)
					}
					if specials && hasNaN(got) {
						nanCases++
					}
				}
			}
			asm.SetThreads(prev)
		}
		// A NaN in dy reaches an unmasked pixel of dX in all but the sparsest
		// cases (a 1×1 kernel); NaN in the mask passes dX through.
		if nanCases < cases*3/4 {
			t.Errorf("only %d of %d cases had a NaN in the masked dX", nanCases, cases)
		}
	})
}

func hasNaN(v []float32) bool {
	for _, e := range v {
		if e != e {
			return true
		}
	}
	return false
}

// path names the way backward data runs, for failure messages.
func (b *backwardData) path() string {
	switch {
	case !b.transposed:
		return "general col2im path"
	case b.kern == nil:
		return "transposed path, not built yet"
	}
	if k, ok := b.kern.(*winograd); ok && k.maskAfter {
		return "transposed " + b.alg.String() + ", masked after the output stage"
	}
	return "transposed " + b.alg.String()
}

// TestBackwardDataMaskedPaths checks that the cases above reach every path: a
// path missing from the list would leave its masking untested.
func TestBackwardDataMaskedPaths(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range maskedCases() {
		p, err := NewPlan(c.g, WithAlgorithm(c.alg))
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		if err := p.SetWeights(randF32(rng, c.g.K*c.g.C*c.g.R*c.g.S), nil); err != nil {
			t.Fatal(err)
		}
		dy, mask := maskedInputs(rng, c.g, c.n, false)
		if err := p.BackwardDataMasked(make([]float32, len(mask)), dy, mask, c.n); err != nil {
			t.Fatal(err)
		}
		path := p.bwdData.path()
		if k, ok := p.bwdData.kern.(*im2colKernel); ok {
			path += map[bool]string{true: " per-image", false: " folded"}[k.perImage]
		}
		seen[path] = true
	}
	for _, want := range []string{"general col2im path", "transposed im2col per-image", "transposed im2col folded",
		"transposed winograd-f23", "transposed winograd-f43",
		"transposed winograd-f23, masked after the output stage", "transposed winograd-f43, masked after the output stage",
		"transposed winograd-f63, masked after the output stage"} {
		if !seen[want] {
			t.Errorf("no case takes the %s (seen: %v)", want, seen)
		}
	}
}

func TestBackwardDataMaskedErrors(t *testing.T) {
	g := geom(16, 8, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1)
	p, err := NewPlan(g)
	if err != nil {
		t.Fatal(err)
	}
	n := 2
	dy := make([]float32, n*g.K*g.OutH()*g.OutW())
	dx := make([]float32, n*g.C*g.H*g.W)
	if err := p.BackwardDataMasked(dx, dy, make([]float32, len(dx)), n); err == nil || !strings.Contains(err.Error(), "SetWeights") {
		t.Errorf("no weights: got %v", err)
	}
	if err := p.SetWeights(make([]float32, g.K*g.C*9), nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mask []float32
		want string
	}{
		{nil, "mask is nil"},
		{make([]float32, len(dx)-1), fmt.Sprintf("mask for %v has %d elements, want %d", g, len(dx)-1, len(dx))},
		{make([]float32, len(dx)+g.C*g.H*g.W), "the size of dx"},
	} {
		if err := p.BackwardDataMasked(dx, dy, tc.mask, n); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("mask of %d elements: got %v, want an error containing %q", len(tc.mask), err, tc.want)
		}
	}
	if err := p.BackwardDataMasked(dx[1:], dy, dx[1:], n); err == nil || !strings.Contains(err.Error(), "dx for") {
		t.Errorf("short dx: got %v", err)
	}
}

func TestBackwardDataMaskedNoAllocations(t *testing.T) {
	if gemmAllocates() {
		t.Skip("asm's GEMM allocates per call; the plan's own allocations cannot be isolated")
	}
	for _, c := range maskedCases()[:5] {
		g, n := c.g, c.n
		p, err := NewPlan(g, WithAlgorithm(c.alg))
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		if err := p.SetWeights(randF32(rng, g.K*g.C*g.R*g.S), nil); err != nil {
			t.Fatal(err)
		}
		dy, mask := maskedInputs(rng, g, n, false)
		dx := make([]float32, len(mask))
		f := func() { _ = p.BackwardDataMasked(dx, dy, mask, n) }
		f()
		if a := testing.AllocsPerRun(5, f); a != 0 {
			t.Errorf("%s %v: warm BackwardDataMasked allocates %v times per call", c.name, g, a)
		}
	}
}

// BenchmarkBackwardDataMasked measures what masking dX costs inside the plan
// against the separate ReLU backward pass it replaces, on CIFAR VGG-16's layer
// shapes at batch 64 and one thread. Each iteration runs BackwardData alone, then
// followed by asm.ReLUBackward, then BackwardDataMasked, and the medians of the
// paired differences are reported: "pass-ms" (the separate pass), "mask-ms" (the
// masking inside), "saved-ms" (unfused minus masked). Paired medians hold up on a
// shared machine, where single timings do not.
func BenchmarkBackwardDataMasked(b *testing.B) {
	defer asm.SetThreads(asm.SetThreads(1))
	const n = 64
	for _, s := range []struct {
		name string
		c, k int
		side int
	}{{"conv1_2", 64, 64, 32}, {"conv2_2", 128, 128, 16}, {"conv3_2", 256, 256, 8}, {"conv4_2", 512, 512, 4}, {"conv5_2", 512, 512, 2}} {
		b.Run(s.name, func(b *testing.B) {
			g := Square3x3(s.c, s.k, s.side, s.side)
			p, err := NewPlan(g)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 6))
			if err := p.SetWeights(randF32(rng, g.K*g.C*9), nil); err != nil {
				b.Fatal(err)
			}
			dy, mask := maskedInputs(rng, g, n, false)
			dx := make([]float32, len(mask))
			timed := func(f func()) float64 {
				t0 := time.Now()
				f()
				return float64(time.Since(t0).Microseconds()) / 1e3
			}
			plain := func() { _ = p.BackwardData(dx, dy, n) }
			unfused := func() { plain(); asm.ReLUBackward(dx, dx, mask) }
			masked := func() { _ = p.BackwardDataMasked(dx, dy, mask, n) }
			unfused()
			masked()
			var pass, inside, saved []float64
			for b.Loop() {
				t0, t1, t2 := timed(plain), timed(unfused), timed(masked)
				pass, inside, saved = append(pass, t1-t0), append(inside, t2-t0), append(saved, t1-t2)
			}
			med := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
			b.ReportMetric(med(pass), "pass-ms")
			b.ReportMetric(med(inside), "mask-ms")
			b.ReportMetric(med(saved), "saved-ms")
		})
	}
}

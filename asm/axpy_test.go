package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/govgg/govgg/asm"
)

// The update-kernel tests (axpy, sgd, adam families) share this harness: every ISA
// path on this machine runs each kernel on sizes 1…67 and a few large ones (past a
// 32 Ki chunk), at start offsets 0–3, with sentinels around every slice, and is
// compared element by element with a float64 reference of the documented loop.

func updSizes() []int {
	s := make([]int, 0, 72)
	for n := 1; n <= 67; n++ {
		s = append(s, n)
	}
	return append(s, 1000, 4099, 1<<15+5, 100003)
}

// updCase describes an element-wise kernel over nbuf slices of equal length.
type updCase struct {
	name string
	nbuf int
	// init returns the starting value of element i of slice k.
	init func(k int, r *rand.Rand) float32
	run  func(b [][]float32)
	// ref maps one element's inputs (one per slice) to its outputs (one per slice).
	ref func(in []float64) []float64
	tol float64 // relative tolerance: |got-want| ≤ tol·(1+|want|)
}

func runUpdCase(t *testing.T, c updCase) {
	eachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, n := range updSizes() {
			for off := 0; off < 4; off++ {
				bufs := make([][]float32, c.nbuf)
				alls := make([][]float32, c.nbuf)
				in := make([][]float64, c.nbuf)
				for k := range bufs {
					bufs[k], alls[k] = guarded(n, off)
					in[k] = make([]float64, n)
					for i := range bufs[k] {
						bufs[k][i] = c.init(k, r)
						in[k][i] = float64(bufs[k][i])
					}
				}
				c.run(bufs)
				what := fmt.Sprintf("%s n=%d off=%d", c.name, n, off)
				x := make([]float64, c.nbuf)
				for i := 0; i < n; i++ {
					for k := range x {
						x[k] = in[k][i]
					}
					want := c.ref(x)
					for k := range bufs {
						got := float64(bufs[k][i])
						if d := math.Abs(got - want[k]); !(d <= c.tol*(1+math.Abs(want[k]))) {
							t.Fatalf("%s: slice %d element %d = %g, want %g (inputs %v)", what, k, i, got, want[k], x)
						}
					}
				}
				for k := range alls {
					checkGuards(t, fmt.Sprintf("%s slice %d", what, k), alls[k], n, off)
				}
			}
		}
	})
}

// runUpdSpecials puts NaN, +Inf and -Inf into slice k and checks that every path
// classifies each output element (NaN, ±Inf, finite) exactly as the Go twin does.
func runUpdSpecials(t *testing.T, c updCase, k int) {
	const n = 67
	specials := map[int]float32{3: float32(math.NaN()), 17: float32(math.Inf(1)), 40: float32(math.Inf(-1)), 66: float32(math.NaN())}
	make := func() [][]float32 {
		r := rand.New(rand.NewPCG(3, 4))
		b := make([][]float32, c.nbuf)
		for j := range b {
			b[j] = make([]float32, n)
			for i := range b[j] {
				b[j][i] = c.init(j, r)
			}
		}
		for i, v := range specials {
			b[k][i] = v
		}
		return b
	}
	restore, _ := asm.SetImpl(asm.Generic)
	want := make()
	c.run(want)
	restore()
	eachISA(t, func(t *testing.T) {
		got := make()
		c.run(got)
		for j := range got {
			for i := range got[j] {
				g, w := float64(got[j][i]), float64(want[j][i])
				switch {
				case math.IsNaN(w) != math.IsNaN(g):
					t.Fatalf("%s: slice %d element %d = %g, twin has %g", c.name, j, i, g, w)
				case math.IsInf(w, 0) && g != w:
					t.Fatalf("%s: slice %d element %d = %g, twin has %g", c.name, j, i, g, w)
				case !math.IsNaN(w) && !math.IsInf(w, 0) && !(math.Abs(g-w) <= c.tol*(1+math.Abs(w))):
					t.Fatalf("%s: slice %d element %d = %g, twin has %g", c.name, j, i, g, w)
				}
			}
		}
	})
}

func uniform(r *rand.Rand) float32 { return 2*r.Float32() - 1 }

func TestAxpy(t *testing.T) {
	const a = 0.37
	c := updCase{
		name: "Axpy", nbuf: 2,
		init: func(int, *rand.Rand) float32 { return 0 },
		run:  func(b [][]float32) { asm.Axpy(a, b[0], b[1]) },
		ref:  func(x []float64) []float64 { return []float64{x[0], x[1] + float64(float32(a))*x[0]} },
		tol:  1e-6,
	}
	c.init = func(_ int, r *rand.Rand) float32 { return uniform(r) }
	runUpdCase(t, c)
	runUpdSpecials(t, c, 0)
	runUpdSpecials(t, c, 1)
}

func TestAxpby(t *testing.T) {
	const a, b = 0.0625, 0.9375
	c := updCase{
		name: "Axpby", nbuf: 2,
		init: func(_ int, r *rand.Rand) float32 { return uniform(r) },
		run:  func(s [][]float32) { asm.Axpby(a, s[0], b, s[1]) },
		ref:  func(x []float64) []float64 { return []float64{x[0], a*x[0] + b*x[1]} },
		tol:  1e-6,
	}
	runUpdCase(t, c)
	runUpdSpecials(t, c, 0)
	runUpdSpecials(t, c, 1)
}

func TestScale(t *testing.T) {
	const a = -1.75
	c := updCase{
		name: "Scale", nbuf: 1,
		init: func(_ int, r *rand.Rand) float32 { return uniform(r) },
		run:  func(s [][]float32) { asm.Scale(a, s[0]) },
		ref:  func(x []float64) []float64 { return []float64{float64(float32(a * x[0]))} },
		tol:  0, // one rounding of an exact product: bit-exact
	}
	runUpdCase(t, c)
	runUpdSpecials(t, c, 0)
}

func TestSumSquares(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, n := range append(updSizes(), 0) {
			for off := 0; off < 4; off++ {
				x, all := guarded(n, off)
				var want float64
				for i := range x {
					x[i] = uniform(r) * 3
					want += float64(x[i]) * float64(x[i])
				}
				got := asm.SumSquares(x)
				if math.Abs(got-want) > 1e-12*(1+want) {
					t.Fatalf("n=%d off=%d: SumSquares = %.17g, want %.17g", n, off, got, want)
				}
				checkGuards(t, "SumSquares", all, n, off)
			}
		}
		for _, tc := range []struct {
			v    float32
			want float64
		}{{float32(math.NaN()), math.NaN()}, {float32(math.Inf(-1)), math.Inf(1)}} {
			for _, n := range []int{5, 16, 37, 67} {
				x := make([]float32, n)
				for i := range x {
					x[i] = 1
				}
				x[n-2] = tc.v
				got := asm.SumSquares(x)
				if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(tc.want) && got != tc.want) {
					t.Fatalf("n=%d with %v: SumSquares = %g, want %g", n, tc.v, got, tc.want)
				}
			}
		}
	})
}

func TestAxpyShortY(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Axpy with len(y) < len(x) did not panic")
		}
	}()
	asm.Axpy(1, make([]float32, 4), make([]float32, 3))
}

func BenchmarkAxpy(b *testing.B) {
	for _, isa := range asm.Supported() {
		for _, n := range []int{1 << 10, 1 << 20} {
			b.Run(fmt.Sprintf("%s/n=%d", isa, n), func(b *testing.B) {
				restore, _ := asm.SetImpl(isa)
				defer restore()
				x, y := make([]float32, n), make([]float32, n)
				b.SetBytes(int64(12 * n))
				for b.Loop() {
					asm.Axpy(0.5, x, y)
				}
			})
		}
	}
}

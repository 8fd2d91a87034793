package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/govgg/govgg/asm"
)

const gemmGuard = float32(-12345.5)

// gemmCase is one Sgemm problem with its operands stored at an offset (unaligned
// heads), padded leading dimensions and gemmGuard sentinels around C.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	lda, ldb, ldc  int
	a, b, c, c0    []float32 // c0: C before the call; slices start at off
	cbuf           []float32 // C with its guards
	coff           int
}

func newGemmCase(rng *rand.Rand, transA, transB bool, m, n, k, pad, off int, alpha, beta float32) *gemmCase {
	g := &gemmCase{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	g.lda, g.ldb, g.ldc = ac+pad, bc+pad, n+pad
	fill := func(rows, cols, ld int) []float32 {
		buf := make([]float32, off+max(rows*ld, 1))
		for i := range buf {
			buf[i] = rng.Float32()*2 - 1
		}
		return buf[off:]
	}
	g.a = fill(ar, ac, g.lda)
	g.b = fill(br, bc, g.ldb)
	g.coff = off + 5
	g.cbuf = make([]float32, g.coff+m*g.ldc+7)
	for i := range g.cbuf {
		g.cbuf[i] = gemmGuard
	}
	g.c = g.cbuf[g.coff : g.coff+max(m*g.ldc-pad, 0)]
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			g.c[i*g.ldc+j] = rng.Float32()*2 - 1
		}
	}
	g.c0 = append([]float32(nil), g.c...)
	return g
}

func (g *gemmCase) opA(i, p int) float32 {
	if g.transA {
		return g.a[p*g.lda+i]
	}
	return g.a[i*g.lda+p]
}

func (g *gemmCase) opB(p, j int) float32 {
	if g.transB {
		return g.b[j*g.ldb+p]
	}
	return g.b[p*g.ldb+j]
}

// check compares C with a float64 reference, element by element, with an error
// bound relative to Σ|a||b| (cancellation can make the result itself tiny), and
// checks that nothing outside C's m×n elements was written.
func (g *gemmCase) check(t *testing.T) {
	t.Helper()
	bad := 0
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.n; j++ {
			var s, abs float64
			for p := 0; p < g.k; p++ {
				x, y := float64(g.opA(i, p)), float64(g.opB(p, j))
				s += x * y
				abs += math.Abs(x * y)
			}
			want := float64(g.alpha) * s
			scale := math.Abs(float64(g.alpha)) * abs
			if g.beta != 0 {
				bc := float64(g.beta) * float64(g.c0[i*g.ldc+j])
				want += bc
				scale += math.Abs(bc)
			}
			got := float64(g.c[i*g.ldc+j])
			if math.Abs(got-want) > 1e-6*float64(g.k+2)*scale+1e-30 || math.IsNaN(got) {
				if bad++; bad < 5 {
					t.Errorf("%s: C[%d,%d] = %v, want %v (scale %g)", g, i, j, got, want, scale)
				}
			}
		}
	}
	for idx, v := range g.cbuf {
		i, j := (idx-g.coff)/g.ldc, (idx-g.coff)%g.ldc
		inside := idx >= g.coff && i < g.m && j < g.n
		if !inside && v != gemmGuard {
			t.Fatalf("%s: wrote %v outside C at buffer index %d", g, v, idx)
		}
	}
}

// zeroC clears C's m×n elements (not the guards in its padding).
func (g *gemmCase) zeroC() {
	for i := 0; i < g.m; i++ {
		clear(g.c[i*g.ldc : i*g.ldc+g.n])
	}
}

func (g *gemmCase) String() string {
	return fmt.Sprintf("%s tA=%v tB=%v m=%d n=%d k=%d α=%v β=%v ld=%d,%d,%d",
		asm.Impl(), g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.beta, g.lda, g.ldb, g.ldc)
}

func (g *gemmCase) run(t *testing.T) {
	t.Helper()
	if err := asm.Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, g.c, g.ldc); err != nil {
		t.Fatalf("%s: %v", g, err)
	}
}

func TestSgemmSizes(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		step := 1
		if testing.Short() { // -race -short: every third size
			step = 3
		}
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for d := 1; d <= 67; d += step {
				r := func() int { return 1 + rng.IntN(67) }
				for _, s := range [][3]int{{d, r(), r()}, {r(), d, r()}, {r(), r(), d}} {
					pad, off := rng.IntN(4), rng.IntN(4)
					g := newGemmCase(rng, tr[0], tr[1], s[0], s[1], s[2], pad, off, 1, 0)
					g.run(t)
					g.check(t)
				}
			}
		}
	})
}

func TestSgemmLarge(t *testing.T) {
	sizes := [][3]int{{129, 257, 300}, {67, 1500, 1000}, {300, 40, 900}, {3, 1001, 2500}}
	if testing.Short() {
		sizes = sizes[:1]
	}
	eachISA(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for i, s := range sizes {
			g := newGemmCase(rng, i%2 == 1, i >= 2, s[0], s[1], s[2], 3, 1, 0.5, 1.5)
			g.run(t)
			g.check(t)
		}
	})
}

func TestSgemmAlphaBeta(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, ab := range [][2]float32{{1, 1}, {2, 0}, {-0.5, 1}, {1, -2}, {0, 0.5}, {0.25, -0.75}} {
			for _, s := range [][3]int{{13, 33, 17}, {24, 64, 400}, {5, 7, 1}} {
				g := newGemmCase(rng, false, false, s[0], s[1], s[2], 2, 3, ab[0], ab[1])
				g.run(t)
				g.check(t)
			}
		}
	})
}

func TestSgemmKZero(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, beta := range []float32{0, 2} {
			g := newGemmCase(rng, false, false, 5, 9, 0, 1, 0, 1, beta)
			g.run(t)
			g.check(t)
		}
	})
}

func TestSgemmBetaZeroIgnoresNaN(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		for _, s := range [][3]int{{1, 1, 1}, {13, 35, 20}, {30, 70, 500}} {
			g := newGemmCase(rng, false, false, s[0], s[1], s[2], 1, 0, 1, 0)
			for i := 0; i < g.m; i++ {
				for j := 0; j < g.n; j++ {
					g.c[i*g.ldc+j] = float32(math.NaN())
				}
			}
			g.run(t)
			g.check(t)
		}
	})
}

func TestSgemmNaNInfPropagate(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, tr := range [][2]bool{{false, false}, {true, true}, {false, true}} {
			m, n, k := 29, 45, 700
			if tr == [2]bool{false, true} { // few rows and Bᵀ: the dot-product path
				m = 5
			}
			g := newGemmCase(rng, tr[0], tr[1], m, n, k, 0, 1, 1, 0)
			for i := range g.a {
				g.a[i] = float32(math.Abs(float64(g.a[i]))) + 0.1
			}
			for i := range g.b {
				g.b[i] = float32(math.Abs(float64(g.b[i]))) + 0.1
			}
			nanRow, nanP, infCol, infP := m-1, 650, 33, 3
			if g.transA {
				g.a[nanP*g.lda+nanRow] = float32(math.NaN())
			} else {
				g.a[nanRow*g.lda+nanP] = float32(math.NaN())
			}
			if g.transB {
				g.b[infCol*g.ldb+infP] = float32(math.Inf(1))
			} else {
				g.b[infP*g.ldb+infCol] = float32(math.Inf(1))
			}
			g.run(t)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					v := float64(g.c[i*g.ldc+j])
					switch {
					case i == nanRow:
						if !math.IsNaN(v) {
							t.Fatalf("C[%d,%d] = %v, want NaN from A", i, j, v)
						}
					case j == infCol:
						if !math.IsInf(v, 1) {
							t.Fatalf("C[%d,%d] = %v, want +Inf from B", i, j, v)
						}
					case math.IsNaN(v) || math.IsInf(v, 0):
						t.Fatalf("C[%d,%d] = %v, want finite", i, j, v)
					}
				}
			}
		}
	})
}

func TestSgemmErrors(t *testing.T) {
	a := make([]float32, 12)
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"negative", asm.Sgemm(false, false, -1, 2, 2, 1, a, 2, a, 2, 0, a, 2), "negative size"},
		{"lda", asm.Sgemm(false, false, 2, 2, 3, 1, a, 2, a, 2, 0, a, 2), "ldA=2 is less than its 3 columns"},
		{"short B", asm.Sgemm(false, true, 2, 5, 3, 1, a, 3, a, 3, 0, a, 5), "B has 12 elements, needs 15"},
		{"short C", asm.Sgemm(false, false, 3, 4, 1, 1, a, 1, a, 4, 0, a[:10], 4), "C has 10 elements, needs 12"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, tc.err, tc.want)
		}
	}
	if _, err := asm.NewPackedA(true, 4, 3, a[:5], 4); err == nil || !strings.Contains(err.Error(), "A has 5 elements") {
		t.Errorf("NewPackedA with a short A: error %v", err)
	}
	if err := asm.Sgemm(false, false, 0, 0, 0, 1, nil, 0, nil, 0, 0, nil, 0); err != nil {
		t.Errorf("empty product: %v", err)
	}
}

// gemmFuncB is a BSource computing op(B) from a function, like an implicit convolution.
type gemmFuncB struct{ f func(p, j int) float32 }

func (s gemmFuncB) PackB(dst []float32, k0, kc, j0, nc, nr int) {
	for j := 0; j < nc; j += nr {
		panel := dst[(j/nr)*kc*nr:]
		for p := 0; p < kc; p++ {
			for q := 0; q < nr; q++ {
				v := float32(0)
				if j+q < nc {
					v = s.f(k0+p, j0+j+q)
				}
				panel[p*nr+q] = v
			}
		}
	}
}

func TestPackedACustomSource(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(13, 14))
		for _, s := range [][3]int{{7, 9, 5}, {64, 200, 576}, {13, 70, 1200}, {300, 150, 2000}} {
			g := newGemmCase(rng, false, false, s[0], s[1], s[2], 1, 2, 1.5, 0.5)
			pa := asm.PackA(false, g.m, g.k, g.a, g.lda)
			if pa.Rows() != g.m || pa.Cols() != g.k || pa.Bytes() < 4*g.m*g.k {
				t.Fatalf("PackedA reports %d×%d, %d bytes", pa.Rows(), pa.Cols(), pa.Bytes())
			}
			pa.Gemm(g.n, g.alpha, gemmFuncB{g.opB}, g.beta, g.c, g.ldc)
			g.check(t)
		}
	})
}

func TestPackedAAcrossISASwitch(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	g := newGemmCase(rng, true, false, 37, 91, 530, 2, 1, 1, 0)
	pa := asm.PackA(true, g.m, g.k, g.a, g.lda)
	src := asm.BFromMatrix(false, g.b, g.ldb)
	isas := asm.Supported()
	for _, isa := range append(isas, isas...) { // every path, twice, packing once
		restore, _ := asm.SetImpl(isa)
		g.zeroC()
		pa.Gemm(g.n, g.alpha, src, g.beta, g.c, g.ldc)
		restore()
		g.check(t)
	}
}

func TestSgemmThreadsDeterministic(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(17, 18))
		shapes := [][3]int{{300, 700, 900}, {512, 196, 1000}, {64, 3000, 100}}
		for _, s := range shapes {
			g := newGemmCase(rng, false, false, s[0], s[1], s[2], 0, 0, 1, 0)
			prev := asm.SetThreads(1)
			g.run(t)
			one := append([]float32(nil), g.c...)
			asm.SetThreads(2)
			g.zeroC()
			g.run(t)
			asm.SetThreads(prev)
			for i := range one {
				if one[i] != g.c[i] {
					t.Fatalf("%v: element %d differs: 1 thread %v, 2 threads %v", s, i, one[i], g.c[i])
				}
			}
		}
	})
}

func TestPackedAGemmNoAllocs(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(19, 20))
		g := newGemmCase(rng, false, false, 128, 784, 576, 0, 0, 1, 0)
		pa := asm.PackA(false, g.m, g.k, g.a, g.lda)
		src := asm.BFromMatrix(false, g.b, g.ldb)
		for _, th := range []int{1, 2} {
			prev := asm.SetThreads(th)
			// Warm up: the pool grows to one buffer per worker that ever ran at
			// once, and a helper waking late holds its region a little longer.
			for range 10 {
				pa.Gemm(g.n, 1, src, 0, g.c, g.ldc)
			}
			// A helper that first takes part after the warm-up adds its buffer once;
			// an allocation per call shows in every attempt.
			allocs := 1.0
			for try := 0; try < 3 && allocs != 0; try++ {
				allocs = testing.AllocsPerRun(20, func() { pa.Gemm(g.n, 1, src, 0, g.c, g.ldc) })
			}
			asm.SetThreads(prev)
			if allocs != 0 {
				t.Errorf("threads=%d: PackedA.Gemm allocated %v times per call", th, allocs)
			}
		}
	})
}

func ExampleSgemm() {
	// C (2×2) = A (2×3) · B (3×2)
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{7, 8, 9, 10, 11, 12}
	c := make([]float32, 4)
	if err := asm.Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2); err != nil {
		fmt.Println(err)
	}
	fmt.Println(c)
	// Output: [58 64 139 154]
}

func ExamplePackedA() {
	// Weights packed once, applied to two inputs.
	w := asm.PackA(false, 2, 2, []float32{1, 0, 0, 2}, 2)
	for _, x := range [][]float32{{1, 2, 3, 4}, {5, 6, 7, 8}} {
		y := make([]float32, 4)
		w.Gemm(2, 1, asm.BFromMatrix(false, x, 2), 0, y, 2)
		fmt.Println(y)
	}
	// Output:
	// [1 2 6 8]
	// [5 6 14 16]
}

func TestSgemmNoAllocs(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		for _, s := range []struct {
			transB  bool
			m, n, k int
		}{{false, 96, 700, 300}, {true, 3, 500, 700}} {
			g := newGemmCase(rng, false, s.transB, s.m, s.n, s.k, 0, 0, 1, 0)
			for range 10 {
				g.run(t)
			}
			allocs := 1.0
			for try := 0; try < 3 && allocs != 0; try++ {
				allocs = testing.AllocsPerRun(20, func() { g.run(t) })
			}
			if allocs != 0 {
				t.Errorf("%s: Sgemm allocated %v times per call", g, allocs)
			}
		}
	})
}

package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/govgg/govgg/asm"
)

// gradwCase is one GradW call over pixels [lo, hi) of a table: a holds 6 planes of
// lda floats (from a's start, head floats into the buffer), b pixels of step floats
// read in the table's order, which skips a few pixels like the rows of a padded
// image.
type gradwCase struct {
	lo, hi, lda int
	off         []int
	tab         *asm.GradWTable
	a, b        []float32
}

func newGradWCase(rng *rand.Rand, lo, hi, step, head int) gradwCase {
	c := gradwCase{lo: lo, hi: hi}
	n := hi - lo
	c.lda = n + 3 + head
	c.a = make([]float32, head+(asm.GradWRows-1)*c.lda+n+2)
	for i := range c.a {
		c.a[i] = rng.Float32()*2 - 1
	}
	c.a = c.a[head:]
	pos := head
	for p := 0; p < hi; p++ {
		if rng.IntN(5) == 0 {
			pos += 2 * step // the padding between rows
		}
		c.off = append(c.off, pos)
		pos += step
	}
	c.b = make([]float32, pos+asm.GradWCols)
	for i := range c.b {
		c.b[i] = rng.Float32()*2 - 1
	}
	var err error
	if c.tab, err = asm.NewGradWTable(c.off); err != nil {
		panic(err)
	}
	return c
}

// gradwKernel is GradW or GradWNarrow, with its tile's width.
type gradwKernel struct {
	name string
	cols int
	fn   func(acc []float32, ldacc int, a []float32, lda int, b []float32, tab *asm.GradWTable, lo, hi int, zero bool)
}

var gradwKernels = []gradwKernel{{"GradW", asm.GradWCols, asm.GradW}, {"GradWNarrow", asm.GradWNarrowCols, asm.GradWNarrow}}

// ref returns the sums of a tile cols wide in float64 on top of acc0 (or 0 when
// zero), and Σ|terms| per element.
func (c gradwCase) ref(cols int, acc0 []float32, ldacc int, zero bool) (want, mag []float64) {
	want, mag = make([]float64, len(acc0)), make([]float64, len(acc0))
	for i, v := range acc0 {
		if !zero || i%ldacc >= cols {
			want[i], mag[i] = float64(v), math.Abs(float64(v))
		}
	}
	for p := c.lo; p < c.hi; p++ {
		for i := 0; i < asm.GradWRows; i++ {
			av := float64(c.a[i*c.lda+p-c.lo])
			for j := 0; j < cols; j++ {
				t := av * float64(c.b[c.off[p]+j])
				want[i*ldacc+j] += t
				mag[i*ldacc+j] += math.Abs(t)
			}
		}
	}
	return want, mag
}

// TestGradW runs GradW and GradWNarrow on pixel counts 0–67 (pairs and the odd
// one), unaligned heads, row padding in the table, strided accumulator rows with
// sentinels between them, and calls longer than one assembly call, against a
// float64 sum.
func TestGradW(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	for _, k := range gradwKernels {
		t.Run(k.name, func(t *testing.T) {
			type shape struct{ lo, hi, step, ldacc, head int }
			var shapes []shape
			for n := 0; n <= 67; n++ {
				shapes = append(shapes, shape{n % 3, n%3 + n, k.cols + n%3, k.cols + n%5, n % 4})
			}
			shapes = append(shapes,
				shape{0, 512, 64, 64 * 9, 0},  // a block of a 64-channel image
				shape{100, 5000, 67, 130, 1},  // more pixels than one assembly call takes
				shape{3, 203, 512, 64 * 9, 3}, // a 512-channel image
				shape{0, 1024, 27, k.cols, 2}, // im2col rows of a 3×3×3 first layer
			)
			eachISA(t, func(t *testing.T) {
				for _, s := range shapes {
					for _, zero := range []bool{false, true} {
						testGradWShape(t, rng, k, s.lo, s.hi, s.step, s.ldacc, s.head, zero)
					}
				}
			})
		})
	}
}

func testGradWShape(t *testing.T, rng *rand.Rand, k gradwKernel, lo, hi, step, ldacc, head int, zero bool) {
	t.Helper()
	c := newGradWCase(rng, lo, hi, step, head)
	n := (asm.GradWRows-1)*ldacc + k.cols
	acc, all := guarded(n, head)
	for i := range acc {
		acc[i] = rng.Float32()
	}
	acc0 := append([]float32(nil), acc...)
	want, mag := c.ref(k.cols, acc0, ldacc, zero)
	k.fn(acc, ldacc, c.a, c.lda, c.b, c.tab, lo, hi, zero)
	checkGuards(t, k.name, all, n, head)
	terms := float64(hi - lo + 1)
	for i, v := range acc {
		if i%ldacc >= k.cols {
			if math.Float32bits(v) != math.Float32bits(acc0[i]) {
				t.Fatalf("pixels [%d, %d) ldacc %d: wrote acc[%d] between tile rows", lo, hi, ldacc, i)
			}
			continue
		}
		// The worst-case bound of a float32 sum of terms+1 values.
		if err := math.Abs(float64(v) - want[i]); err > terms*0x1p-24*mag[i] {
			t.Fatalf("pixels [%d, %d) step %d ldacc %d zero=%v: acc[%d] = %v, want %v (err %.3g, bound %.3g)",
				lo, hi, step, ldacc, zero, i, v, want[i], err, terms*0x1p-24*mag[i])
		}
	}
}

// TestGradWISAsAgree checks that the AVX paths, which both sum each element in the
// documented order with one fused multiply-add a term, agree bit for bit, and that
// GradWNarrow's tile is GradW's first 32 columns.
func TestGradWISAsAgree(t *testing.T) {
	isas := asm.Supported()
	if len(isas) < 3 {
		t.Skip("needs AVX-512 and AVX2")
	}
	rng := rand.New(rand.NewPCG(7, 7))
	c := newGradWCase(rng, 5, 301, 80, 1)
	var out [][]float32
	for _, isa := range isas[1:] {
		for _, k := range gradwKernels {
			restore, _ := asm.SetImpl(isa)
			acc := make([]float32, (asm.GradWRows-1)*64+asm.GradWCols)
			k.fn(acc, 64, c.a, c.lda, c.b, c.tab, c.lo, c.hi, true)
			restore()
			out = append(out, acc)
		}
	}
	for i := range out[0] {
		for j, o := range out[1:] {
			if i%64 >= gradwKernels[(j+1)%2].cols {
				continue
			}
			if math.Float32bits(out[0][i]) != math.Float32bits(o[i]) {
				t.Fatalf("acc[%d]: avx2 GradW %v, result %d %v", i, out[0][i], j+1, o[i])
			}
		}
	}
}

func TestGradWNaNInf(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 9))
	eachISA(t, func(t *testing.T) {
		for _, k := range gradwKernels {
			c := newGradWCase(rng, 0, 19, 64, 2)
			inf := k.cols/2 + 1
			c.a[2*c.lda+5] = float32(math.NaN())     // plane 2: row 2 all NaN
			c.b[c.off[7]+inf] = float32(math.Inf(1)) // column inf: ±Inf
			acc := make([]float32, (asm.GradWRows-1)*64+asm.GradWCols)
			k.fn(acc, 64, c.a, c.lda, c.b, c.tab, c.lo, c.hi, false)
			for i, v := range acc {
				row, col := i/64, i%64
				v64 := float64(v)
				switch {
				case col >= k.cols:
					if v != 0 {
						t.Fatalf("%s: acc[%d][%d] = %v, outside the tile", k.name, row, col, v)
					}
				case row == 2:
					if !math.IsNaN(v64) {
						t.Fatalf("%s: acc[%d][%d] = %v, want NaN", k.name, row, col, v)
					}
				case col == inf:
					if !math.IsInf(v64, 0) {
						t.Fatalf("%s: acc[%d][%d] = %v, want ±Inf", k.name, row, col, v)
					}
				case math.IsNaN(v64) || math.IsInf(v64, 0):
					t.Fatalf("%s: acc[%d][%d] = %v, want finite", k.name, row, col, v)
				}
			}
		}
	})
}

func TestGradWBadOperands(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	c := newGradWCase(rng, 0, 8, 64, 0)
	acc := make([]float32, (asm.GradWRows-1)*64+asm.GradWCols)
	for _, tc := range []struct {
		name string
		call func()
		msg  string
	}{
		{"short acc", func() { asm.GradW(acc[:100], 64, c.a, c.lda, c.b, c.tab, 0, 8, false) }, "acc has 100"},
		{"pixels", func() { asm.GradW(acc, 64, c.a, c.lda, c.b, c.tab, 2, 9, false) }, "outside the table"},
		{"a range", func() { asm.GradW(acc, 64, c.a[:5*c.lda+7], c.lda, c.b, c.tab, 0, 8, false) }, "a has"},
		{"b range", func() { asm.GradW(acc, 64, c.a, c.lda, c.b[:c.off[7]+63], c.tab, 0, 8, false) }, "b has"},
		{"narrow b range", func() { asm.GradWNarrow(acc, 64, c.a, c.lda, c.b[:c.off[7]+31], c.tab, 0, 8, false) }, "GradWNarrow: b has"},
		{"narrow acc", func() { asm.GradWNarrow(acc[:5*40+31], 40, c.a, c.lda, c.b, c.tab, 0, 8, false) }, "GradWNarrow: acc has"},
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.msg) {
					t.Errorf("%s: panic %v, want one mentioning %q", tc.name, r, tc.msg)
				}
			}()
			tc.call()
		}()
	}
	if _, err := asm.NewGradWTable([]int{0, -1}); err == nil || !strings.Contains(err.Error(), "pixel 1") {
		t.Errorf("NewGradWTable with a negative offset: %v", err)
	}
}

// TestGradWSums sums six planes of odd lengths at unaligned heads, with NaN
// between the planes that the sums must not reach, and blocks longer than one
// assembly call, against a float64 sum.
func TestGradWSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	eachISA(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 1024, 5000, 8195} {
			head, lda := n%4, n+1+n%5
			buf := make([]float32, head+(asm.GradWRows-1)*lda+n+1)
			for i := range buf {
				buf[i] = float32(math.NaN()) // the gaps between planes
			}
			a := buf[head:]
			var want, mag [asm.GradWRows]float64
			for i := 0; i < asm.GradWRows; i++ {
				for p := 0; p < n; p++ {
					v := rng.Float32()*2 - 1 + float32(i) // planes of different means
					a[i*lda+p] = v
					want[i] += float64(v)
					mag[i] += math.Abs(float64(v))
				}
			}
			got := asm.GradWSums(a[:(asm.GradWRows-1)*lda+n], lda, n)
			for i := range got {
				// The worst-case bound of a float32 sum of a block of n terms.
				if err := math.Abs(got[i] - want[i]); !(err <= float64(min(n, 4096))*0x1p-24*mag[i]) {
					t.Fatalf("n=%d: plane %d sums to %v, want %v", n, i, got[i], want[i])
				}
			}
		}
		a := make([]float32, 6*20)
		a[3*20+19] = float32(math.Inf(-1))
		a[5*20+4] = float32(math.NaN())
		got := asm.GradWSums(a, 20, 20)
		if !math.IsInf(got[3], -1) || !math.IsNaN(got[5]) || got[0] != 0 {
			t.Errorf("Inf and NaN: got %v, want 0 0 0 -Inf 0 NaN", got)
		}
	})
	defer func() {
		if s, _ := recover().(string); !strings.Contains(s, "a has 24") {
			t.Errorf("short a: panic %q, want one mentioning %q", s, "a has 24")
		}
	}()
	asm.GradWSums(make([]float32, 24), 4, 5)
}

// BenchmarkGradW: one tile over 512 pixels, operands in L1/L2, for the pixel steps
// of a 64-channel block and of a 512-channel image, and the narrow tile over the
// im2col rows of a 3×3×3 first layer.
func BenchmarkGradW(b *testing.B) {
	for _, tc := range []struct {
		k    gradwKernel
		step int
	}{{gradwKernels[0], 64}, {gradwKernels[0], 512}, {gradwKernels[1], 27}, {gradwKernels[1], 32}} {
		b.Run(fmt.Sprintf("%s/step=%d", tc.k.name, tc.step), func(b *testing.B) {
			c := newGradWCase(rand.New(rand.NewPCG(1, 1)), 0, 512, tc.step, 0)
			acc := make([]float32, (asm.GradWRows-1)*64+asm.GradWCols)
			for b.Loop() {
				tc.k.fn(acc, 64, c.a, c.lda, c.b, c.tab, c.lo, c.hi, false)
			}
			flops := 2 * asm.GradWRows * tc.k.cols * (c.hi - c.lo) * b.N
			b.ReportMetric(float64(flops)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func TestInterleave16(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	eachISA(t, func(t *testing.T) {
		for _, n := range append([]int{0, 1, 2, 3, 15, 16, 17, 31, 67, 1000}, 40000) {
			step := 16 + n%3*24 // 16 (dense), 40 and 64
			head := n % 4
			plane := n + 5
			src := make([]float32, head+15*plane+n)
			for i := range src {
				src[i] = rng.Float32()
			}
			src[head+3*plane+n/2] = float32(math.NaN())
			src = src[head:]
			size := max(0, (n-1)*step+16)
			dst, all := guarded(size, head)
			asm.Interleave16(dst, step, src, plane, n)
			checkGuards(t, "Interleave16", all, size, head)
			for j := 0; j < n; j++ {
				for i := 0; i < step && j*step+i < size; i++ {
					want := sentinel // the gaps between pixels stay untouched
					if i < 16 {
						want = src[i*plane+j]
					}
					if got := dst[j*step+i]; math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("n=%d step=%d: dst[%d] = %v, want %v", n, step, j*step+i, got, want)
					}
				}
			}
		}
	})
}

func BenchmarkInterleave16(b *testing.B) {
	const n, plane = 32, 1024
	src := make([]float32, 16*plane)
	dst := make([]float32, n*64)
	for _, isa := range asm.Supported() {
		b.Run(isa.String(), func(b *testing.B) {
			restore, _ := asm.SetImpl(isa)
			defer restore()
			for b.Loop() {
				asm.Interleave16(dst, 64, src, plane, n)
			}
			b.ReportMetric(float64(16*n*b.N)/b.Elapsed().Seconds()/1e9, "Gfloat/s")
		})
	}
}

func TestGather16(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	eachISA(t, func(t *testing.T) {
		for _, tc := range []struct{ nv, adv, periods, head int }{
			{1, 0, 1, 0}, {1, 16, 3, 1}, {9, 16, 32, 2}, {3, 7, 5, 3}, {2, 100, 67, 1},
			{1, 1, 3000, 2}, // more than one assembly call
		} {
			idx := make([]int32, 16*tc.nv)
			for i := range idx {
				idx[i] = int32(rng.IntN(200))
			}
			tab, err := asm.NewGather16Table(idx)
			if err != nil {
				t.Fatal(err)
			}
			src := make([]float32, tc.head+200+(tc.periods-1)*tc.adv)
			for i := range src {
				src[i] = rng.Float32()
			}
			src[tc.head+int(idx[3])] = float32(math.Inf(-1))
			src = src[tc.head:]
			n := tc.periods * len(idx)
			dst, all := guarded(n, tc.head)
			asm.Gather16(dst, src, tab, tc.adv, tc.periods)
			checkGuards(t, "Gather16", all, n, tc.head)
			for p := 0; p < tc.periods; p++ {
				for k, i := range idx {
					if got, want := dst[p*len(idx)+k], src[p*tc.adv+int(i)]; math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("%+v: dst[%d] = %v, want %v", tc, p*len(idx)+k, got, want)
					}
				}
			}
		}
	})
	zeros, err := asm.NewGather16Table(make([]int32, 16))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		call func()
		msg  string
	}{
		{"src", func() { asm.Gather16(make([]float32, 32), make([]float32, 8), zeros, 8, 2) }, "src has 8"},
		{"dst", func() { asm.Gather16(make([]float32, 31), make([]float32, 32), zeros, 8, 2) }, "dst has 31"},
	} {
		func() {
			defer func() {
				if s, _ := recover().(string); !strings.Contains(s, tc.msg) {
					t.Errorf("%s: panic %q, want one mentioning %q", tc.name, s, tc.msg)
				}
			}()
			tc.call()
		}()
	}
	for _, idx := range [][]int32{nil, make([]int32, 15), append(make([]int32, 15), -1)} {
		if _, err := asm.NewGather16Table(idx); err == nil {
			t.Errorf("NewGather16Table(%v): no error", idx)
		}
	}
}

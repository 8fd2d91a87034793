package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/govgg/govgg/asm"
)

// gradwCase is one GradW call: a is laid out as planes of lda floats, b as pixels of
// bStep floats, with the rows' offsets scattered like the rows of padded images.
type gradwCase struct {
	rows, cols, lda, bStep, ldacc int
	aOff, bOff                    []int
	a, b                          []float32
}

func newGradWCase(rng *rand.Rand, rows, cols, bStep, ldacc, head int) gradwCase {
	c := gradwCase{rows: rows, cols: cols, bStep: bStep, ldacc: ldacc}
	c.lda = rows*cols + 3 + head
	c.a = make([]float32, head+(asm.GradWRows-1)*c.lda+rows*cols+2)
	c.b = make([]float32, head+rows*(cols+2)*bStep+asm.GradWCols)
	for i := range c.a {
		c.a[i] = rng.Float32()*2 - 1
	}
	for i := range c.b {
		c.b[i] = rng.Float32()*2 - 1
	}
	for r := 0; r < rows; r++ {
		c.aOff = append(c.aOff, head+r*cols)
		c.bOff = append(c.bOff, head+(r*(cols+2)+rng.IntN(3))*bStep)
	}
	return c
}

// ref returns acc0 plus the tile's sums in float64, and Σ|terms| per element.
func (c gradwCase) ref(acc0 []float32) (want, mag []float64) {
	want, mag = make([]float64, len(acc0)), make([]float64, len(acc0))
	for i, v := range acc0 {
		want[i], mag[i] = float64(v), math.Abs(float64(v))
	}
	for r := range c.aOff {
		for x := 0; x < c.cols; x++ {
			for i := 0; i < asm.GradWRows; i++ {
				av := float64(c.a[c.aOff[r]+i*c.lda+x])
				for j := 0; j < asm.GradWCols; j++ {
					t := av * float64(c.b[c.bOff[r]+x*c.bStep+j])
					want[i*c.ldacc+j] += t
					mag[i*c.ldacc+j] += math.Abs(t)
				}
			}
		}
	}
	return want, mag
}

func TestGradW(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	type shape struct{ rows, cols, bStep, ldacc, head int }
	var shapes []shape
	for cols := 1; cols <= 67; cols += 3 {
		shapes = append(shapes, shape{1 + cols%4, cols, 64 + cols%3, 64 + cols%5, cols % 4})
	}
	shapes = append(shapes,
		shape{7, 32, 64, 64, 0},     // a 32-wide feature map row
		shape{40, 150, 128, 192, 1}, // more pixels than one assembly call takes
		shape{300, 2, 512, 64, 3},   // many short rows (a 2×2 map)
	)
	eachISA(t, func(t *testing.T) {
		for _, s := range shapes {
			c := newGradWCase(rng, s.rows, s.cols, s.bStep, s.ldacc, s.head)
			n := (asm.GradWRows-1)*s.ldacc + asm.GradWCols
			acc, all := guarded(n, s.head)
			for i := range acc {
				acc[i] = rng.Float32()
			}
			acc0 := append([]float32(nil), acc...)
			want, mag := c.ref(acc0)
			asm.GradW(acc, s.ldacc, c.a, c.lda, c.aOff, c.b, c.bStep, c.bOff, s.cols)
			checkGuards(t, "GradW", all, n, s.head)
			terms := float64(s.rows*s.cols + 1)
			for i, v := range acc {
				if i%s.ldacc >= asm.GradWCols {
					if math.Float32bits(v) != math.Float32bits(acc0[i]) {
						t.Fatalf("%+v: wrote acc[%d] between tile rows", s, i)
					}
					continue
				}
				// The worst-case bound of a float32 sum of terms+1 values.
				if err := math.Abs(float64(v) - want[i]); err > terms*0x1p-24*mag[i]+1e-30 {
					t.Fatalf("%+v: acc[%d] = %v, want %v (err %.3g, bound %.3g)", s, i, v, want[i], err, terms*0x1p-24*mag[i])
				}
			}
		}
	})
}

// TestGradWISAsAgree checks that the AVX paths, which both sum each element in the
// documented order with one fused multiply-add a term, agree bit for bit.
func TestGradWISAsAgree(t *testing.T) {
	isas := asm.Supported()
	if len(isas) < 3 {
		t.Skip("needs AVX-512 and AVX2")
	}
	rng := rand.New(rand.NewPCG(7, 7))
	c := newGradWCase(rng, 9, 37, 80, 64, 1)
	var out [][]float32
	for _, isa := range isas[1:] {
		restore, _ := asm.SetImpl(isa)
		acc := make([]float32, (asm.GradWRows-1)*64+asm.GradWCols)
		asm.GradW(acc, 64, c.a, c.lda, c.aOff, c.b, c.bStep, c.bOff, c.cols)
		restore()
		out = append(out, acc)
	}
	for i := range out[0] {
		if math.Float32bits(out[0][i]) != math.Float32bits(out[1][i]) {
			t.Fatalf("acc[%d]: avx2 %v, avx512 %v", i, out[0][i], out[1][i])
		}
	}
}

func TestGradWNaNInf(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 9))
	eachISA(t, func(t *testing.T) {
		c := newGradWCase(rng, 3, 19, 64, 64, 2)
		c.a[c.aOff[1]+2*c.lda+5] = float32(math.NaN())     // plane 2: row 2 all NaN
		c.b[c.bOff[2]+7*c.bStep+33] = float32(math.Inf(1)) // column 33: ±Inf or NaN
		acc := make([]float32, (asm.GradWRows-1)*64+asm.GradWCols)
		asm.GradW(acc, 64, c.a, c.lda, c.aOff, c.b, c.bStep, c.bOff, c.cols)
		for i, v := range acc {
			row, col := i/64, i%64
			v64 := float64(v)
			switch {
			case row == 2:
				if !math.IsNaN(v64) {
					t.Fatalf("acc[%d][%d] = %v, want NaN", row, col, v)
				}
			case col == 33:
				if !math.IsInf(v64, 0) && !math.IsNaN(v64) {
					t.Fatalf("acc[%d][%d] = %v, want ±Inf", row, col, v)
				}
			case math.IsNaN(v64) || math.IsInf(v64, 0):
				t.Fatalf("acc[%d][%d] = %v, want finite", row, col, v)
			}
		}
	})
}

func TestGradWBadOperands(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	c := newGradWCase(rng, 2, 8, 64, 64, 0)
	acc := make([]float32, (asm.GradWRows-1)*64+asm.GradWCols)
	for _, tc := range []struct {
		name string
		call func()
		msg  string
	}{
		{"short acc", func() { asm.GradW(acc[:100], 64, c.a, c.lda, c.aOff, c.b, c.bStep, c.bOff, c.cols) }, "acc has 100"},
		{"tables", func() { asm.GradW(acc, 64, c.a, c.lda, c.aOff, c.b, c.bStep, c.bOff[:1], c.cols) }, "row offsets"},
		{"a range", func() { asm.GradW(acc, 64, c.a[:len(c.a)-3], c.lda, c.aOff, c.b, c.bStep, c.bOff, c.cols) }, "reads a["},
		{"b range", func() { asm.GradW(acc, 64, c.a, c.lda, c.aOff, c.b[:c.bOff[1]+10], c.bStep, c.bOff, c.cols) }, "and b["},
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(error).Error(), tc.msg) {
					t.Errorf("%s: panic %v, want one mentioning %q", tc.name, r, tc.msg)
				}
			}()
			tc.call()
		}()
	}
}

// BenchmarkGradW: one tile over 16 rows of 32 pixels, operands in L1/L2, for b
// pixel strides of a 64- and a 512-channel image.
func BenchmarkGradW(b *testing.B) {
	for _, step := range []int{64, 512} {
		b.Run(fmt.Sprintf("bStep=%d", step), func(b *testing.B) {
			c := newGradWCase(rand.New(rand.NewPCG(1, 1)), 16, 32, step, 64, 0)
			acc := make([]float32, (asm.GradWRows-1)*64+asm.GradWCols)
			for b.Loop() {
				asm.GradW(acc, 64, c.a, c.lda, c.aOff, c.b, c.bStep, c.bOff, c.cols)
			}
			flops := 2 * asm.GradWRows * asm.GradWCols * 16 * 32 * b.N
			b.ReportMetric(float64(flops)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

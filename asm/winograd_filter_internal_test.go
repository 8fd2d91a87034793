package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Every path's filter-transform kernel matches the pure-Go twin for row counts
// 1…MR, position counts around its groups, unaligned heads, strides with gaps,
// NaN and Inf taps, with and without non-temporal stores (taken only on aligned,
// whole slivers), and writes nothing outside its rows.
func TestWinogradFilterKernel(t *testing.T) {
	const guard = 16 // floats, keeps an aligned dst aligned
	sentinel := math.Float32frombits(0x7f8dead1)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, isa := range Supported() {
		t.Run(isa.String(), func(t *testing.T) {
			restore, err := SetImpl(isa)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			mr := curGeom.mr
			for _, alpha := range []int{4, 6, 8} {
				for rows := 1; rows <= mr; rows++ {
					for _, count := range []int{1, 2, 3, 4, 5, 7, 8, 67} {
						for _, nt := range []bool{false, true} {
							off := (rows + count) % 4
							if nt && count != 7 {
								off = 0 // aligned: non-temporal stores where the path has them
							}
							wrow, wcol := 9+off, 9*rows+2*off // gaps between filters
							if rows%2 == 0 {
								wrow, wcol = 9*count+off, 9 // the forward layout
							}
							dstride := ((count-1)*mr + rows + 3 + 15) / 16 * 16
							tt := make([]float32, alpha*3+off)
							for i := range tt {
								tt[i] = float32(2*rng.Float64() - 1)
							}
							w := make([]float32, off+(rows-1)*wrow+(count-1)*wcol+9)
							for i := range w {
								w[i] = float32(2*rng.Float64() - 1)
							}
							w[off+(rows-1)*wrow+(count-1)*wcol+4] = float32(math.NaN())
							w[off+wrow*(rows/2)+8] = float32(math.Inf(1))
							nd := (alpha*alpha-1)*dstride + (count-1)*mr + rows
							got := alignedFloats(nd + off + 2*guard)
							want := make([]float32, len(got))
							for i := range got {
								got[i], want[i] = sentinel, sentinel
							}
							winogradFilterImpl(&got[guard+off], dstride, &tt[off], alpha, &w[off], wrow, wcol, count, rows, nt)
							winogradFilterGo(&want[guard+off], dstride, &tt[off], alpha, &w[off], wrow, wcol, count, rows, mr)
							what := fmt.Sprintf("alpha=%d rows=%d count=%d nt=%v off=%d", alpha, rows, count, nt, off)
							for i := range got {
								g, e := got[i], want[i]
								if math.Float32bits(e) == math.Float32bits(sentinel) {
									if math.Float32bits(g) != math.Float32bits(sentinel) {
										t.Fatalf("%s: wrote outside the outputs at buffer index %d", what, i)
									}
									continue
								}
								if math.IsNaN(float64(e)) != math.IsNaN(float64(g)) || math.IsInf(float64(e), 0) != math.IsInf(float64(g), 0) {
									t.Fatalf("%s: index %d: got %v, want %v", what, i, g, e)
								}
								if d := math.Abs(float64(g - e)); d > 1e-6*(1+math.Abs(float64(e))) {
									t.Fatalf("%s: index %d: got %v, want %v", what, i, g, e)
								}
							}
						}
					}
				}
			}
		})
	}
}

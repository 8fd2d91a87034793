package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Every path's filter-transform kernel matches the pure-Go twin for lane counts
// 1…max, unaligned heads, strides with gaps, NaN and Inf taps, and writes nothing
// outside its lanes.
func TestWinogradFilterKernel(t *testing.T) {
	const guard = 19
	sentinel := math.Float32frombits(0x7f8dead1)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, isa := range Supported() {
		t.Run(isa.String(), func(t *testing.T) {
			restore, err := SetImpl(isa)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			for _, alpha := range []int{4, 6, 8} {
				for lanes := 1; lanes <= winogradFilterLanes; lanes++ {
					for _, count := range []int{1, 2, 5, 67} {
						off := (lanes + count) % 4
						wlane, wstep := 9+off, 9*lanes+2*off // gaps between filters
						if lanes%2 == 0 {
							wlane, wstep = 9*count+off, 9 // the transposed layout
						}
						dstep := lanes + off
						dstride := (count-1)*dstep + lanes + 3
						tt := make([]float32, alpha*3+off)
						for i := range tt {
							tt[i] = float32(2*rng.Float64() - 1)
						}
						w := make([]float32, off+(count-1)*wstep+(lanes-1)*wlane+9)
						for i := range w {
							w[i] = float32(2*rng.Float64() - 1)
						}
						w[off+(count-1)*wstep+(lanes-1)*wlane+4] = float32(math.NaN())
						w[off+wlane*(lanes/2)+8] = float32(math.Inf(1))
						nd := (alpha*alpha-1)*dstride + (count-1)*dstep + lanes
						got := make([]float32, nd+off+2*guard)
						want := make([]float32, len(got))
						for i := range got {
							got[i], want[i] = sentinel, sentinel
						}
						winogradFilterImpl(&got[guard+off], dstride, dstep, &tt[off], alpha, &w[off], wlane, wstep, count, lanes)
						winogradFilterGo(&want[guard+off], dstride, dstep, &tt[off], alpha, &w[off], wlane, wstep, count, lanes)
						what := fmt.Sprintf("alpha=%d lanes=%d count=%d", alpha, lanes, count)
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
		})
	}
}

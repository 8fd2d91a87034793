package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/govgg/govgg/asm"
)

// TestMaxPool2x2BackwardMasked checks, on every ISA path, that the masked pool
// backward is bit for bit MaxPool2x2Backward followed by ReLUBackward with the
// pool's input as the ReLU output, and the documented loop: sizes of every width
// remainder, bands of rows (601×602), unaligned heads, guards around dx, and
// inputs with ±0, negatives, NaN and ±Inf (in the pool input and in dy).
func TestMaxPool2x2BackwardMasked(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	eachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(15, 16))
		for _, hw := range append(poolShapes(), [2]int{601, 602}) {
			h, w := hw[0], hw[1]
			n := (h / 2) * (w / 2)
			x := make([]float32, h*w)
			ewRand(r, x)
			for i := range x {
				switch r.IntN(9) {
				case 0:
					x[i] = 0
				case 1:
					x[i] = negZero
				case 2:
					x[i] = -x[i] * x[i] // ≤ 0
				}
			}
			// A whole window of zeros, of −0, of negatives; NaN and ±Inf.
			for i, v := range []float32{0, negZero, -1, nan, inf, -inf} {
				if p := 2 * i; w >= 12 {
					x[p], x[p+1], x[w+p], x[w+p+1] = v, v, v, v
				}
			}
			y, idx := make([]float32, n), make([]int32, n)
			asm.MaxPool2x2(y, idx, x, h, w)
			for off := 0; off < 4; off++ {
				dy, _ := guarded(n, off)
				ewRand(r, dy)
				if n > 3 {
					dy[n/2], dy[n/3], dy[n-1] = nan, inf, -inf
				}
				dx, dxall := guarded(h*w, 3-off)
				asm.MaxPool2x2BackwardMasked(dx, idx, dy, y, h, w)
				what := fmt.Sprintf("MaxPool2x2BackwardMasked %d×%d off=%d", h, w, off)
				checkGuards(t, what, dxall, h*w, 3-off)

				// Unfused: pool backward, then ReLU backward on the pool's input.
				want := make([]float32, h*w)
				asm.MaxPool2x2Backward(want, idx, dy, h, w)
				asm.ReLUBackward(want, want, x)
				// The documented loop.
				loop := make([]float32, h*w)
				for o, k := range idx {
					if g := dy[o]; !(x[k] <= 0) {
						loop[k] = g
					}
				}
				for i := range want {
					b := math.Float32bits(dx[i])
					if b != math.Float32bits(want[i]) || b != math.Float32bits(loop[i]) {
						t.Fatalf("%s: dx[%d] = %g (%#08x), want %g (%#08x) (loop: %g), pool input %g",
							what, i, dx[i], b, want[i], math.Float32bits(want[i]), loop[i], x[i])
					}
				}
			}
		}
	})
}

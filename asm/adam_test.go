package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/govgg/govgg/asm"
)

// adamTestParams are the scalars of step t=3 with lr 1e-3, wd 1e-2 and torch's betas.
func adamTestParams() asm.AdamWParams {
	const lr, wd, b1, b2, step = 1e-3, 1e-2, 0.9, 0.999, 3
	return asm.AdamWParams{
		Decay: float32(1 - lr*wd), Beta1: b1, OneMinusB1: float32(1 - b1), Beta2: b2, OneMinusB2: float32(1 - b2),
		NegStep: float32(-lr / (1 - math.Pow(b1, step))), BC2Sqrt: float32(math.Sqrt(1 - math.Pow(b2, step))), Eps: 1e-8,
	}
}

func TestAdamW(t *testing.T) {
	p := adamTestParams()
	f := func(v float32) float64 { return float64(v) }
	c := updCase{
		name: "AdamW", nbuf: 4,
		init: func(k int, r *rand.Rand) float32 {
			if k == 3 { // second moment: non-negative
				return r.Float32()*1e-3 + 1e-6
			}
			return uniform(r)
		},
		run: func(b [][]float32) { asm.AdamW(b[0], b[1], b[2], b[3], p) },
		ref: func(x []float64) []float64 {
			w := x[0] * f(p.Decay)
			m := f(p.Beta1)*x[2] + f(p.OneMinusB1)*x[1]
			v := f(p.Beta2)*x[3] + f(p.OneMinusB2)*x[1]*x[1]
			w += f(p.NegStep) * m / (math.Sqrt(v)/f(p.BC2Sqrt) + f(p.Eps))
			return []float64{w, x[1], m, v}
		},
		tol: 1e-6,
	}
	runUpdCase(t, c)
	for k := 0; k < 4; k++ {
		runUpdSpecials(t, c, k)
	}
}

func BenchmarkAdamW(b *testing.B) {
	p := adamTestParams()
	for _, isa := range asm.Supported() {
		for _, n := range []int{1 << 12, 1 << 20} {
			b.Run(fmt.Sprintf("%s/n=%d", isa, n), func(b *testing.B) {
				restore, _ := asm.SetImpl(isa)
				defer restore()
				w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
				b.SetBytes(int64(28 * n)) // 4 loads, 3 stores
				for b.Loop() {
					asm.AdamW(w, g, m, v, p)
				}
			})
		}
	}
}

package asm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/govgg/govgg/asm"
)

const (
	tLR  = float32(0.05)
	tWD  = float32(1e-2)
	tMu  = float32(0.9)
	tDmp = float32(0.75) // 1 - dampening
)

func TestSGD(t *testing.T) {
	c := updCase{
		name: "SGD", nbuf: 2,
		init: func(_ int, r *rand.Rand) float32 { return uniform(r) },
		run:  func(b [][]float32) { asm.SGD(b[0], b[1], -tLR, tWD) },
		ref: func(x []float64) []float64 {
			d := x[1] + float64(tWD)*x[0]
			return []float64{x[0] - float64(tLR)*d, x[1]}
		},
		tol: 2e-7,
	}
	runUpdCase(t, c)
	runUpdSpecials(t, c, 0)
	runUpdSpecials(t, c, 1)
}

func sgdMomentumCase(nesterov bool) updCase {
	name, run := "SGDMomentum", asm.SGDMomentum
	if nesterov {
		name, run = "SGDNesterov", asm.SGDNesterov
	}
	return updCase{
		name: name, nbuf: 3,
		init: func(_ int, r *rand.Rand) float32 { return uniform(r) },
		run:  func(b [][]float32) { run(b[0], b[1], b[2], -tLR, tWD, tMu, tDmp) },
		ref: func(x []float64) []float64 {
			d := x[1] + float64(tWD)*x[0]
			v := float64(tMu)*x[2] + float64(tDmp)*d
			u := v
			if nesterov {
				u = d + float64(tMu)*v
			}
			return []float64{x[0] - float64(tLR)*u, x[1], v}
		},
		tol: 3e-7,
	}
}

func TestSGDMomentum(t *testing.T) {
	for _, nesterov := range []bool{false, true} {
		c := sgdMomentumCase(nesterov)
		t.Run(c.name, func(t *testing.T) {
			runUpdCase(t, c)
			for k := 0; k < 3; k++ {
				runUpdSpecials(t, c, k)
			}
		})
	}
}

func BenchmarkSGDMomentum(b *testing.B) {
	for _, isa := range asm.Supported() {
		for _, n := range []int{1 << 12, 1 << 20} {
			b.Run(fmt.Sprintf("%s/n=%d", isa, n), func(b *testing.B) {
				restore, _ := asm.SetImpl(isa)
				defer restore()
				w, g, v := make([]float32, n), make([]float32, n), make([]float32, n)
				b.SetBytes(int64(20 * n)) // 3 loads, 2 stores
				for b.Loop() {
					asm.SGDMomentum(w, g, v, -0.01, 4e-5, 0.9, 1)
				}
			})
		}
	}
}

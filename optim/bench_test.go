package optim_test

import (
	"testing"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/optim"
)

// BenchmarkStep times one optimizer step over 4 Mi parameters (16 MiB a buffer,
// beyond the caches) on each ISA path, beside a plain Go loop doing SGD momentum.
// The updates are memory-bound: compare GB/s.
func BenchmarkStep(b *testing.B) {
	const n = 1 << 22
	for _, isa := range asm.Supported() {
		restore, _ := asm.SetImpl(isa)
		params := newParams(1, "classifier.0.weight", []int{n / 1024, 1024})
		sgd, _ := optim.NewSGD(params, optim.WithLR(1e-3), optim.WithMomentum(0.9), optim.WithWeightDecay(4e-5))
		adam, _ := optim.NewAdamW(params, optim.WithLR(1e-6))
		b.Run("sgd-momentum/"+isa.String(), func(b *testing.B) {
			b.SetBytes(20 * n) // w, g, v read; w, v written
			for b.Loop() {
				sgd.Step()
			}
		})
		b.Run("adamw/"+isa.String(), func(b *testing.B) {
			b.SetBytes(28 * n)
			for b.Loop() {
				adam.Step()
			}
		})
		restore()
	}
	b.Run("sgd-momentum/naive-go", func(b *testing.B) {
		p := newParams(1, "w", []int{n})[0]
		v := make([]float32, n)
		w, g := p.Value.Data(), p.Grad.Data()
		b.SetBytes(20 * n)
		for b.Loop() {
			naiveSGDMomentum(p, w, g, v)
		}
	})
}

func naiveSGDMomentum(_ *layers.Param, w, g, v []float32) {
	const lr, wd, mu = 1e-3, 4e-5, 0.9
	for i := range w {
		d := g[i] + wd*w[i]
		v[i] = mu*v[i] + d
		w[i] -= lr * v[i]
	}
}

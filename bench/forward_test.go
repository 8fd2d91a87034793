package bench

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/tensor"
	"github.com/govgg/govgg/vgg"
)

// BenchmarkForward times VGG inference at 224×224 (the seed's table rows).
func BenchmarkForward(b *testing.B) {
	for _, name := range []string{"vgg11", "vgg16", "vgg19"} {
		m, err := vgg.NewByName(name)
		if err != nil {
			b.Fatal(err)
		}
		for _, batch := range []int{1, 8} {
			x := randomInput(batch, 3, 224, 224)
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("%s/batch=%d/threads=%d", name, batch, threads), func(b *testing.B) {
					defer asm.SetThreads(asm.SetThreads(threads))
					if _, err := m.Forward(x); err != nil {
						b.Fatal(err)
					}
					b.ResetTimer()
					for b.Loop() {
						if _, err := m.Forward(x); err != nil {
							b.Fatal(err)
						}
					}
					report(b, batch)
				})
			}
		}
	}
}

func randomInput(shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range x.Data() {
		x.Data()[i] = float32(rng.NormFloat64())
	}
	return x
}

// report adds ms/img and img/s for b.N steps of batch images each.
func report(b *testing.B, batch int) {
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(sec*1000/float64(batch), "ms/img")
	b.ReportMetric(float64(batch)/sec, "img/s")
}

package conv

import (
	"fmt"
	"testing"

	"github.com/govgg/govgg/asm"
)

// trainBenchLayers are the training shapes: the CIFAR-style layers of benchLayers at
// batch 64 and the 224×224 VGG-16 layers at batch 8.
func trainBenchLayers() []benchLayer {
	var ls []benchLayer
	for _, l := range benchLayers {
		if l.n > 1 && l.g.C >= minTransposedC {
			ls = append(ls, l)
		}
	}
	for _, l := range vgg16Layers {
		ls = append(ls, benchLayer{l.name + "_n8", Square3x3(l.c, l.k, l.size, l.size), 8})
	}
	return ls
}

// BenchmarkTrainPrep documents what preparing the weights costs in training, where
// they change every step: "prep" times SetWeights+Forward+BackwardData, "noprep"
// Forward+BackwardData on unchanged weights; the difference is the preparation (for
// Winograd: U of the forward kernel and of the transposed backward-data kernel).
// Select with e.g. -bench 'TrainPrep/cifar_conv4_2/.*/threads=1'.
func BenchmarkTrainPrep(b *testing.B) {
	for _, l := range trainBenchLayers() {
		d := newBenchData(l)
		dx := make([]float32, len(d.x))
		for _, a := range []Algorithm{Im2col, WinogradF23, WinogradF43} {
			for _, th := range benchThreads {
				for _, prep := range []bool{true, false} {
					name := fmt.Sprintf("%s/%v/threads=%d/noprep", l.name, a, th)
					if prep {
						name = fmt.Sprintf("%s/%v/threads=%d/prep", l.name, a, th)
					}
					b.Run(name, func(b *testing.B) {
						defer asm.SetThreads(asm.SetThreads(th))
						p, err := NewPlan(l.g, WithAlgorithm(a))
						if err != nil {
							b.Fatal(err)
						}
						step := func() error {
							if prep {
								if err := p.SetWeights(d.w, d.b); err != nil {
									return err
								}
							}
							if err := p.Forward(d.y, d.x, l.n); err != nil {
								return err
							}
							return p.BackwardData(dx, d.y, l.n)
						}
						if err := p.SetWeights(d.w, d.b); err != nil {
							b.Fatal(err)
						}
						if err := step(); err != nil { // warm: scratch, packed weights
							b.Fatal(err)
						}
						b.ResetTimer()
						for b.Loop() {
							if err := step(); err != nil {
								b.Fatal(err)
							}
						}
						b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/step")
					})
				}
			}
		}
	}
}

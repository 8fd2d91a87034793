package conv

import (
	"fmt"
	"slices"
	"testing"
	"time"

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
// they change every step. Each iteration times a step with new weights
// (SetWeights+Forward+BackwardData, "prep-step-ms") and one without
// (Forward+BackwardData, "step-ms", and in process CPU time "step-cpu-ms");
// "prep-ms" and "prep-cpu-ms" are the medians of their differences in wall and CPU
// time: for Winograd, building U for the forward kernel and for the transposed
// backward-data kernel. Paired medians hold up on a shared machine, where single
// timings do not. Select with e.g. -bench 'TrainPrep/cifar_conv4_2/.*/threads=1'.
func BenchmarkTrainPrep(b *testing.B) {
	for _, l := range trainBenchLayers() {
		d := newBenchData(l)
		dx := make([]float32, len(d.x))
		for _, a := range []Algorithm{Im2col, WinogradF23, WinogradF43} {
			for _, th := range benchThreads {
				b.Run(fmt.Sprintf("%s/%v/threads=%d", l.name, a, th), func(b *testing.B) {
					defer asm.SetThreads(asm.SetThreads(th))
					p, err := NewPlan(l.g, WithAlgorithm(a))
					if err != nil {
						b.Fatal(err)
					}
					step := func(prep bool) (wall, cpu time.Duration) {
						t0, c0 := time.Now(), cpuTime()
						if prep {
							if err := p.SetWeights(d.w, d.b); err != nil {
								b.Fatal(err)
							}
						}
						if err := p.Forward(d.y, d.x, l.n); err != nil {
							b.Fatal(err)
						}
						if err := p.BackwardData(dx, d.y, l.n); err != nil {
							b.Fatal(err)
						}
						return time.Since(t0), cpuTime() - c0
					}
					step(true) // warm: scratch, packed weights
					var with, without, cpu, dWall, dCPU []float64
					for b.Loop() {
						w1, c1 := step(true)
						w0, c0 := step(false)
						with, without, cpu = append(with, prepMS(w1)), append(without, prepMS(w0)), append(cpu, prepMS(c0))
						dWall, dCPU = append(dWall, prepMS(w1-w0)), append(dCPU, prepMS(c1-c0))
					}
					b.ReportMetric(prepMedian(with), "prep-step-ms")
					b.ReportMetric(prepMedian(without), "step-ms")
					b.ReportMetric(prepMedian(cpu), "step-cpu-ms")
					b.ReportMetric(prepMedian(dWall), "prep-ms")
					b.ReportMetric(prepMedian(dCPU), "prep-cpu-ms")
				})
			}
		}
	}
}

func prepMS(d time.Duration) float64 { return d.Seconds() * 1e3 }

func prepMedian(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

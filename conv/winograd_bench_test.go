package conv

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/govgg/govgg/asm"
)

// vgg16Layers are the distinct 3×3 conv shapes of VGG-16 at 224×224 (conv1_1, C=3,
// is implicit GEMM's).
var vgg16Layers = []struct {
	name       string
	c, k, size int
}{
	{"conv1_2", 64, 64, 224},
	{"conv2_1", 64, 128, 112},
	{"conv2_2", 128, 128, 112},
	{"conv3_1", 128, 256, 56},
	{"conv3_2", 256, 256, 56},
	{"conv4_1", 256, 512, 28},
	{"conv4_2", 512, 512, 28},
	{"conv5_1", 512, 512, 14},
}

// BenchmarkWinogradVGG16 reports effective GFLOP/s (direct-convolution FLOPs over
// time) per VGG-16 layer, batch, algorithm and thread count, with implicit GEMM
// (im2col) beside it. Select with e.g. -bench 'VGG16/conv3_2/n=1/.*/threads=1'.
func BenchmarkWinogradVGG16(b *testing.B) {
	algs := []Algorithm{Im2col, WinogradF23, WinogradF43, WinogradF63}
	for _, l := range vgg16Layers {
		g := Square3x3(l.c, l.k, l.size, l.size)
		for _, n := range []int{1, 8} {
			rng := rand.New(rand.NewPCG(1, 2))
			x := winoRand(rng, n*g.C*g.H*g.W, 1)
			w := winoRand(rng, g.K*g.C*9, 0.05)
			bias := winoRand(rng, g.K, 0.1)
			y := make([]float32, n*g.K*g.OutH()*g.OutW())
			for _, a := range algs {
				for _, th := range []int{1, 2} {
					name := fmt.Sprintf("%s/n=%d/%v/threads=%d", l.name, n, a, th)
					b.Run(name, func(b *testing.B) {
						k, err := newKernel(a, g)
						if err != nil {
							b.Skip(err)
						}
						k.setWeights(w, bias)
						prev := asm.SetThreads(th)
						defer asm.SetThreads(prev)
						k.forward(y, x, n, true)
						b.ResetTimer()
						cpu0 := winoCPUTime()
						for b.Loop() {
							k.forward(y, x, n, true)
						}
						cpu := winoCPUTime() - cpu0
						flops := float64(g.FLOPs(n)) * float64(b.N)
						b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
						// On a loaded machine wall time includes time slices given to
						// other processes; CPU time (of all our threads) does not.
						b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/s-cpu")
					})
				}
			}
		}
	}
}

// winoCPUTime returns the user+system CPU time of the process.
func winoCPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWinogradStages times the input and output stages alone (region copies
// and transforms, no GEMM) on one thread, over every block of a layer, for the
// small maps of CIFAR-style training where the copies are most of these stages.
// Select with e.g. -bench 'WinogradStages/cifar_conv4_2/F43'.
func BenchmarkWinogradStages(b *testing.B) {
	for _, l := range benchLayers {
		if l.n == 1 || l.g.C < 64 {
			continue
		}
		for _, m := range []int{2, 4} {
			b.Run(fmt.Sprintf("%s/F%d3", l.name, m), func(b *testing.B) {
				defer asm.SetThreads(asm.SetThreads(1))
				k, err := newWinograd(l.g, m)
				if err != nil {
					b.Fatal(err)
				}
				d := newBenchData(l)
				k.setWeights(d.w, d.b)
				st := k.state(l.n)
				sc := k.newScratch(st, false)
				sc.take()
				defer sc.release()
				k.call = winoCall{y: d.y, x: d.x}
				for _, stage := range []string{"in", "out"} {
					b.Run(stage, func(b *testing.B) {
						for b.Loop() {
							for i := range st.blocks {
								if stage == "in" {
									k.inputStage(&st.blocks[i], sc, 0, l.g.C)
								} else {
									k.outputStage(&st.blocks[i], sc, 0, l.g.K)
								}
							}
						}
					})
				}
			})
		}
	}
}

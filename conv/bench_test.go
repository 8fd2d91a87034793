package conv

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/govgg/govgg/asm"
)

// benchLayer is one VGG16 convolution shape with the batch it is benchmarked at.
// VGG16's other convs repeat these shapes (conv3_3 = conv3_2, conv4_3 = conv4_2,
// conv5_2 = conv5_3 = conv5_1).
type benchLayer struct {
	name string
	g    Geometry
	n    int
}

var benchLayers = []benchLayer{
	// ImageNet-size input, batch 1.
	{"conv1_1", Square3x3(3, 64, 224, 224), 1},
	{"conv1_2", Square3x3(64, 64, 224, 224), 1},
	{"conv2_1", Square3x3(64, 128, 112, 112), 1},
	{"conv2_2", Square3x3(128, 128, 112, 112), 1},
	{"conv3_1", Square3x3(128, 256, 56, 56), 1},
	{"conv3_2", Square3x3(256, 256, 56, 56), 1},
	{"conv4_1", Square3x3(256, 512, 28, 28), 1},
	{"conv4_2", Square3x3(512, 512, 28, 28), 1},
	{"conv5_1", Square3x3(512, 512, 14, 14), 1},
	// CIFAR-style 32×32 input, batch 64.
	{"cifar_conv1_1", Square3x3(3, 64, 32, 32), 64},
	{"cifar_conv1_2", Square3x3(64, 64, 32, 32), 64},
	{"cifar_conv2_1", Square3x3(64, 128, 16, 16), 64},
	{"cifar_conv2_2", Square3x3(128, 128, 16, 16), 64},
	{"cifar_conv3_1", Square3x3(128, 256, 8, 8), 64},
	{"cifar_conv3_2", Square3x3(256, 256, 8, 8), 64},
	{"cifar_conv4_1", Square3x3(256, 512, 4, 4), 64},
	{"cifar_conv4_2", Square3x3(512, 512, 4, 4), 64},
	{"cifar_conv5_1", Square3x3(512, 512, 2, 2), 64},
}

// benchAlgorithms are the algorithms benchmarked side by side; those that do not
// apply to a layer (or are not built in) are skipped.
var benchAlgorithms = []Algorithm{Im2col, WinogradF23, WinogradF43, WinogradF63}

var benchThreads = []int{1, 2}

type benchData struct {
	x, w, b, y []float32
}

func newBenchData(l benchLayer) benchData {
	rng := rand.New(rand.NewPCG(1, 1))
	g := l.g
	return benchData{
		x: randF32(rng, l.n*g.C*g.H*g.W),
		w: randF32(rng, g.K*g.C*g.R*g.S),
		b: randF32(rng, g.K),
		y: randF32(rng, l.n*g.K*g.OutH()*g.OutW()),
	}
}

// runBench runs pass (one call) on each algorithm and thread count, reporting the
// direct-equivalent GFLOP/s of wall time and of process CPU time.
func runBench(b *testing.B, pass func(p *Plan, d benchData, n int) error, algs []Algorithm) {
	for _, l := range benchLayers {
		b.Run(l.name, func(b *testing.B) {
			d := newBenchData(l)
			for _, a := range algs {
				if applicable(a, l.g) != nil {
					continue
				}
				b.Run(a.String(), func(b *testing.B) {
					for _, t := range benchThreads {
						b.Run(fmt.Sprintf("threads=%d", t), func(b *testing.B) {
							defer asm.SetThreads(asm.SetThreads(t))
							p, err := NewPlan(l.g, WithAlgorithm(a), WithReLU(true))
							if err != nil {
								b.Fatal(err)
							}
							if err := p.SetWeights(d.w, d.b); err != nil {
								b.Fatal(err)
							}
							if err := pass(p, d, l.n); err != nil { // warm: scratch, pools
								b.Fatal(err)
							}
							b.ResetTimer()
							cpu0 := cpuTime()
							for b.Loop() {
								_ = pass(p, d, l.n)
							}
							flops := float64(l.g.FLOPs(l.n)) * float64(b.N)
							b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
							// On a shared machine, work per CPU-second is steadier than
							// per wall-second (it counts every thread's CPU time).
							if cpu := cpuTime() - cpu0; cpu > 0 {
								b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/cpu-s")
							}
						})
					}
				})
			}
		})
	}
}

// BenchmarkForward: go test -run=none -bench 'Forward/conv1_2/' ./conv
func BenchmarkForward(b *testing.B) {
	runBench(b, func(p *Plan, d benchData, n int) error {
		return p.Forward(d.y, d.x, n)
	}, benchAlgorithms)
}

func BenchmarkBackwardData(b *testing.B) {
	runBench(b, func(p *Plan, d benchData, n int) error {
		return p.BackwardData(d.x, d.y, n)
	}, benchAlgorithms)
}

// BenchmarkBackwardFilter has no algorithm choice: it is always implicit GEMM. It
// includes the bias gradient, as VGG's convolutions have biases.
func BenchmarkBackwardFilter(b *testing.B) {
	dw := make([]float32, 512*512*9)
	db := make([]float32, 512)
	runBench(b, func(p *Plan, d benchData, n int) error {
		g := p.Geometry()
		return p.BackwardFilter(dw[:g.K*g.C*g.R*g.S], db[:g.K], d.x, d.y, n)
	}, []Algorithm{Im2col})
}

// BenchmarkPackB measures the implicit-GEMM B packing alone: every panel a forward
// pass builds, at the active path's micro-kernel width and k-blocks of 384.
// "ns/elem" is CPU time per packed float; "%gemm" is the packing time as a share
// of the GEMM's time at the 176 GFLOP/s AVX-512 peak of one core (kernels.md §0),
// i.e. the overhead it would add to a perfect GEMM.
func BenchmarkPackB(b *testing.B) {
	const kcMax, peak = 384, 176e9
	for _, l := range benchLayers {
		b.Run(l.name, func(b *testing.B) {
			for _, nr := range []int{asm.NR(), 12} {
				b.Run(fmt.Sprintf("nr=%d", nr), func(b *testing.B) {
					d := newBenchData(l)
					g := l.g
					src := newIm2colSource(g, 0)
					src.xp = src.pg.load(make([]float32, src.pg.bufLen(l.n)), d.x, l.n, 0, 0)
					crs := g.C * g.R * g.S
					cols := l.n * g.OutH() * g.OutW()
					kc := kBlock(crs, kcMax)
					const nc = 672 // columns per panel, as the AVX-512 driver's L2 block
					buf := make([]float32, kc*(nc+nr))
					pack := func() {
						for k0 := 0; k0 < crs; k0 += kc {
							k := min(kc, crs-k0)
							for j0 := 0; j0 < cols; j0 += nc / nr * nr {
								src.PackB(buf, k0, k, j0, min(nc/nr*nr, cols-j0), nr)
							}
						}
					}
					pack()
					b.ResetTimer()
					cpu0 := cpuTime()
					for b.Loop() {
						pack()
					}
					// Single-threaded: process CPU time is this loop's, and steadier
					// than wall time on a shared machine.
					per := b.Elapsed().Seconds() / float64(b.N)
					if cpu := cpuTime() - cpu0; cpu > 0 {
						per = cpu.Seconds() / float64(b.N)
					}
					b.ReportMetric(per*1e9/float64(crs*cols), "ns/elem")
					b.ReportMetric(100*per/(float64(g.FLOPs(l.n))/peak), "%gemm")
				})
			}
		})
	}
}

// kBlock splits k into equal blocks of at most max.
func kBlock(k, max int) int {
	nb := (k + max - 1) / max
	return (k + nb - 1) / nb
}

package asm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/govgg/govgg/asm"
)

// vgg16Shapes are the im2col GEMMs of VGG-16's 13 convolutions at 224×224, batch 1:
// M = Cout, N = H·W, K = Cin·9.
var vgg16Shapes = []struct {
	name    string
	m, n, k int
}{
	{"conv1_1", 64, 50176, 27}, {"conv1_2", 64, 50176, 576},
	{"conv2_1", 128, 12544, 576}, {"conv2_2", 128, 12544, 1152},
	{"conv3_1", 256, 3136, 1152}, {"conv3_2", 256, 3136, 2304}, {"conv3_3", 256, 3136, 2304},
	{"conv4_1", 512, 784, 2304}, {"conv4_2", 512, 784, 4608}, {"conv4_3", 512, 784, 4608},
	{"conv5_1", 512, 196, 4608}, {"conv5_2", 512, 196, 4608}, {"conv5_3", 512, 196, 4608},
}

func randSlice(n int) []float32 {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32() - 0.5
	}
	return s
}

// loopGFLOPS runs f in the benchmark loop and reports 2·m·n·k per iteration as
// GFLOP/s of wall time and GFLOP/cpu-s of process CPU time (the second is steadier
// when other processes share the cores; with 2 threads it measures efficiency).
func loopGFLOPS(b *testing.B, m, n, k int, f func()) {
	cpu0 := asm.CPUTime()
	for b.Loop() {
		f()
	}
	cpu := asm.CPUTime() - cpu0
	flop := 2 * float64(m) * float64(n) * float64(k) * float64(b.N)
	b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu > 0 {
		b.ReportMetric(flop/cpu.Seconds()/1e9, "GFLOP/cpu-s")
	}
}

func benchThreads(b *testing.B, f func(b *testing.B)) {
	for _, th := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", th), func(b *testing.B) {
			prev := asm.SetThreads(th)
			defer asm.SetThreads(prev)
			f(b)
		})
	}
}

func BenchmarkSgemmSquare(b *testing.B) {
	for _, n := range []int{256, 512, 1024, 2048} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			a, bb, c := randSlice(n*n), randSlice(n*n), make([]float32, n*n)
			benchThreads(b, func(b *testing.B) {
				loopGFLOPS(b, n, n, n, func() { _ = asm.Sgemm(false, false, n, n, n, 1, a, n, bb, n, 0, c, n) })
			})
		})
	}
}

// BenchmarkSgemmVGG16 runs the VGG-16 im2col shapes through Sgemm (A packed per
// call, B a row-major K×N matrix).
func BenchmarkSgemmVGG16(b *testing.B) {
	for _, s := range vgg16Shapes {
		b.Run(s.name, func(b *testing.B) {
			a, bb, c := randSlice(s.m*s.k), randSlice(s.k*s.n), make([]float32, s.m*s.n)
			benchThreads(b, func(b *testing.B) {
				loopGFLOPS(b, s.m, s.n, s.k, func() { _ = asm.Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n) })
			})
		})
	}
}

// BenchmarkPackedAVGG16 is BenchmarkSgemmVGG16 with the weights packed once, as a
// convolution layer runs.
func BenchmarkPackedAVGG16(b *testing.B) {
	for _, s := range vgg16Shapes {
		b.Run(s.name, func(b *testing.B) {
			w, bb, c := randSlice(s.m*s.k), randSlice(s.k*s.n), make([]float32, s.m*s.n)
			pa := asm.PackA(false, s.m, s.k, w, s.k)
			src := asm.BFromMatrix(false, bb, s.n)
			benchThreads(b, func(b *testing.B) {
				loopGFLOPS(b, s.m, s.n, s.k, func() { pa.Gemm(s.n, 1, src, 0, c, s.n) })
			})
		})
	}
}

// BenchmarkSgemmNaive is the baseline: the reference triple loop in Go (i, p, j
// order, so the inner loop is contiguous).
func BenchmarkSgemmNaive(b *testing.B) {
	for _, n := range []int{256, 512} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			a, bb, c := randSlice(n*n), randSlice(n*n), make([]float32, n*n)
			loopGFLOPS(b, n, n, n, func() {
				clear(c)
				for i := 0; i < n; i++ {
					ci := c[i*n : i*n+n]
					for p := 0; p < n; p++ {
						aip := a[i*n+p]
						for j, v := range bb[p*n : p*n+n] {
							ci[j] += aip * v
						}
					}
				}
			})
		})
	}
}

// BenchmarkSgemmFC6 is VGG-16's first fully connected layer, y = x·Wᵀ with W
// 4096×25088 (392 MiB), at batch 1 and 8: bound by reading W, reported in GB/s.
func BenchmarkSgemmFC6(b *testing.B) {
	const n, k = 4096, 25088
	w := randSlice(n * k)
	for _, m := range []int{1, 8} {
		b.Run(fmt.Sprintf("batch=%d", m), func(b *testing.B) {
			x, y := randSlice(m*k), make([]float32, m*n)
			benchThreads(b, func(b *testing.B) {
				for b.Loop() {
					_ = asm.Sgemm(false, true, m, n, k, 1, x, k, w, k, 0, y, n)
				}
				b.ReportMetric(4*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		})
	}
}

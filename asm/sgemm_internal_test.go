package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// eachGeom runs f for the geometry of every supported path.
func eachGeom(t *testing.T, f func(t *testing.T, g *gemmGeom)) {
	for _, isa := range Supported() {
		t.Run(isa.String(), func(t *testing.T) { f(t, geomFor(isa)) })
	}
}

// TestMicroKernel compares each path's micro-kernel with a float64 loop, for every
// tile size mr×nr, with B at a stride wider than NR and C guarded.
func TestMicroKernel(t *testing.T) {
	eachGeom(t, func(t *testing.T, g *gemmGeom) {
		checkTileKernel(t, g, g.kernel, g.nr, []int{1, 2, 3, 4, 5, 8, 17, 64}, 1)
	})
}

// TestColsKernel compares the column kernel, on the paths that have one, with a
// float64 loop for every tile of up to colsMax columns, B at a stride wider than
// NR, C guarded with NaNs (also inside its row stride).
func TestColsKernel(t *testing.T) {
	eachGeom(t, func(t *testing.T, g *gemmGeom) {
		if g.cols == nil {
			t.Skip("no column kernel on this path")
		}
		checkTileKernel(t, g, g.cols, g.colsMax, []int{1, 2, 3, 4, 5, 8, 17, 64, 301}, 5)
	})
}

// checkTileKernel runs kernel on every mr×nr tile (nr ≤ maxNR) for each depth in
// kcs and β ∈ {0, 0.5}, against a float64 loop, with C's elements outside the
// tile set to NaN and required to stay so.
func checkTileKernel(t *testing.T, g *gemmGeom, kernel microKernel, maxNR int, kcs []int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	for _, kc := range kcs {
		for mr := 1; mr <= g.mr; mr++ {
			for nr := 1; nr <= maxNR; nr++ {
				for _, beta := range []float32{0, 0.5} {
					ldb, ldc := g.nr+3, nr+2
					a := make([]float32, g.mr*kc)
					b := make([]float32, (kc-1)*ldb+g.nr)
					for i := range a {
						a[i] = rng.Float32() - 0.5
					}
					for i := range b {
						b[i] = rng.Float32() - 0.5
					}
					c := make([]float32, mr*ldc+4)
					for i := range c {
						c[i] = float32(math.NaN())
						if beta != 0 && i%ldc < nr && i/ldc < mr {
							c[i] = rng.Float32()
						}
					}
					c0 := append([]float32(nil), c...)
					kernel(kc, &a[0], &b[0], ldb, &c[0], ldc, 1.5, beta, mr, nr)
					for i := range c {
						r, j := i/ldc, i%ldc
						if r >= mr || j >= nr {
							if !math.IsNaN(float64(c[i])) {
								t.Fatalf("kc=%d mr=%d nr=%d: wrote c[%d] outside the tile", kc, mr, nr, i)
							}
							continue
						}
						var s, abs float64
						for p := 0; p < kc; p++ {
							x := float64(a[p*g.mr+r]) * float64(b[p*ldb+j])
							s += x
							abs += math.Abs(x)
						}
						want := 1.5 * s
						if beta != 0 {
							want += float64(beta) * float64(c0[i])
						}
						if d := math.Abs(float64(c[i]) - want); !(d <= 1e-6*float64(kc+2)*(abs+1)) {
							t.Fatalf("kc=%d mr=%d nr=%d β=%v: c[%d,%d] = %v, want %v", kc, mr, nr, beta, r, j, c[i], want)
						}
					}
				}
			}
		}
	}
}

// TestPackKernels compares each path's packing kernels with the Go twins for every
// width w ≤ W ≤ the path's widest, unaligned sources and guarded destinations.
func TestPackKernels(t *testing.T) {
	eachGeom(t, func(t *testing.T, g *gemmGeom) {
		rng := rand.New(rand.NewPCG(2, 2))
		maxW := min(g.maxPackW, 40)
		for W := 1; W <= maxW; W++ {
			for w := 1; w <= W; w++ {
				for _, rows := range []int{1, 3, 16, 35} {
					ld := max(w, rows) + rng.IntN(4)
					off := rng.IntN(4)
					src := make([]float32, off+max(rows, w)*ld+8)
					for i := range src {
						src[i] = rng.Float32()
					}
					for name, pair := range map[string][2]packFunc{
						"copy":  {g.packCopy, packCopyGo},
						"trans": {g.packTrans, packTransGo},
					} {
						got := make([]float32, rows*W+3)
						want := make([]float32, rows*W+3)
						for i := range got {
							got[i], want[i] = -7, -7
						}
						pair[0](&got[0], &src[off], ld, rows, w, W)
						pair[1](&want[0], &src[off], ld, rows, w, W)
						for i := range got {
							if got[i] != want[i] {
								t.Fatalf("%s w=%d W=%d rows=%d ld=%d: dst[%d] = %v, want %v", name, w, W, rows, ld, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	})
}

// BenchmarkMicroKernel measures a micro-kernel alone on cache-resident panels
// (the ceiling for the driver).
func BenchmarkMicroKernel(b *testing.B) {
	for _, isa := range Supported() {
		g := geomFor(isa)
		kc := g.kcMax
		a := alignedFloats(g.mr * kc)
		bb := alignedFloats(g.nr * kc)
		c := alignedFloats(g.mr * g.nr)
		b.Run(fmt.Sprintf("%s/%dx%d/kc=%d", isa, g.mr, g.nr, kc), func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				g.kernel(kc, &a[0], &bb[0], g.nr, &c[0], g.nr, 1, 0, g.mr, g.nr)
			}
			flop := 2 * float64(g.mr*g.nr*kc) * float64(b.N)
			b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(flop/cpu.Seconds()/1e9, "GFLOP/cpu-s")
			}
		})
	}
}

// TestPackPanel compares each path's panel packing with the Go twin.
func TestPackPanel(t *testing.T) {
	eachGeom(t, func(t *testing.T, g *gemmGeom) {
		rng := rand.New(rand.NewPCG(3, 3))
		for _, kc := range []int{1, 2, 7} {
			for nc := 1; nc <= 3*g.nr+1; nc++ {
				ld := nc + rng.IntN(3)
				off := rng.IntN(4)
				src := make([]float32, off+kc*ld)
				for i := range src {
					src[i] = rng.Float32()
				}
				n := (nc + g.nr - 1) / g.nr * g.nr * kc
				got, want := make([]float32, n+2), make([]float32, n+2)
				for i := range got {
					got[i], want[i] = -7, -7
				}
				g.packPanel(&got[0], &src[off], ld, kc, nc)
				packPanelGo(&want[0], &src[off], ld, kc, nc, g.nr)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("kc=%d nc=%d ld=%d: dst[%d] = %v, want %v", kc, nc, ld, i, got[i], want[i])
					}
				}
			}
		}
	})
}

// BenchmarkPackPanel measures B packing from a matrix far larger than the caches
// (the im2col matrix of VGG-16's conv1_2), in GB/s read.
func BenchmarkPackPanel(b *testing.B) {
	const k, n = 576, 50176
	src := make([]float32, k*n)
	for _, isa := range Supported() {
		g := geomFor(isa)
		kc, nc := kBlocks(k, g.kcMax), g.ncMax
		dst := alignedFloats(kc * nc)
		b.Run(isa.String(), func(b *testing.B) {
			for b.Loop() {
				for k0 := 0; k0 < k; k0 += kc {
					for j0 := 0; j0 < n; j0 += nc {
						g.packPanel(&dst[0], &src[k0*n+j0], n, min(kc, k-k0), min(nc, n-j0))
					}
				}
			}
			b.ReportMetric(4*k*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// BenchmarkTuneKC sweeps the k-block size of the active path on a few shapes
// (single thread, GFLOP per CPU-second), for choosing cacheBlocking's rule.
func BenchmarkTuneKC(b *testing.B) {
	prevT := SetThreads(1)
	defer SetThreads(prevT)
	g := curGeom
	prevKC, prevNC := g.kcMax, g.ncMax
	defer func() { g.kcMax, g.ncMax = prevKC, prevNC }()
	for _, s := range [][3]int{{1024, 1024, 1024}, {512, 784, 4608}, {128, 12544, 576}} {
		m, n, k := s[0], s[1], s[2]
		a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		src := BFromMatrix(false, bb, n)
		for _, kc := range []int{192, 256, 320, 384, 512} {
			b.Run(fmt.Sprintf("%dx%dx%d/kc=%d", m, n, k, kc), func(b *testing.B) {
				g.kcMax = kc
				g.ncMax = max(cpuidL2()/2/(4*kc)/g.nr*g.nr, g.nr)
				pa := PackA(false, m, k, a, k)
				cpu0 := cpuTime()
				for b.Loop() {
					pa.Gemm(n, 1, src, 0, c, n)
				}
				flop := 2 * float64(m*n*k) * float64(b.N)
				b.ReportMetric(flop/(cpuTime()-cpu0).Seconds()/1e9, "GFLOP/cpu-s")
			})
		}
	}
}

// TestDot4x4 compares each path's dot-product kernel with a float64 loop for
// every length up to a few vectors plus a long one, including lda = 0 and ldb = 0.
func TestDot4x4(t *testing.T) {
	eachGeom(t, func(t *testing.T, g *gemmGeom) {
		if g.dot4x4 == nil {
			t.Skip("no dot-product kernel on this path")
		}
		rng := rand.New(rand.NewPCG(4, 4))
		for _, k := range append([]int{1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 47, 64, 65}, 1000) {
			for _, ld := range [][2]int{{k + 1, k + 3}, {k + 1, 0}, {0, k + 3}} {
				lda, ldb := ld[0], ld[1] // lda 0: one row of A read as all four (batch 1)
				a := make([]float32, 3*lda+k)
				b := make([]float32, 3*ldb+k)
				for i := range a {
					a[i] = rng.Float32() - 0.5
				}
				for i := range b {
					b[i] = rng.Float32() - 0.5
				}
				var out [16]float32
				g.dot4x4(&a[0], lda, &b[0], ldb, k, &out[0])
				for i := 0; i < 4; i++ {
					for r := 0; r < 4; r++ {
						var s, abs float64
						for p := 0; p < k; p++ {
							x := float64(a[i*lda+p]) * float64(b[r*ldb+p])
							s += x
							abs += math.Abs(x)
						}
						if d := math.Abs(float64(out[i*4+r]) - s); !(d <= 1e-6*float64(k+2)*abs+1e-30) {
							t.Fatalf("k=%d lda=%d ldb=%d: out[%d,%d] = %v, want %v", k, lda, ldb, i, r, out[i*4+r], s)
						}
					}
				}
			}
		}
	})
}

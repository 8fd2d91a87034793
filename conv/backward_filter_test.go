package conv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/govgg/govgg/asm"
)

// bfGeometries exercise the backward-filter schemes: channel counts that leave
// ragged 6-row and 64-column tiles, strides, dilation, 1×1 and 5×3 kernels, maps
// small enough to fold dY, one large enough to run an image at a time, maps in
// between whose images are streamed through a copy per pixel range (ragged
// channel blocks, a stride, more pixels than one block), and first layers whose
// im2col rows fit one tile.
var bfGeometries = []struct {
	name string
	g    Geometry
	n    int
}{
	{"c70k13", geom(70, 13, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1), 3},
	{"c64k6", geom(64, 6, 12, 12, 3, 3, 1, 1, 1, 1, 1, 1), 2},
	{"c16k7/s2", geom(16, 7, 11, 9, 3, 3, 2, 2, 1, 1, 1, 1), 3},
	{"c20k9/d2", geom(20, 9, 10, 11, 3, 3, 1, 1, 2, 2, 2, 2), 2},
	{"c33k8/1x1", geom(33, 8, 6, 5, 1, 1, 1, 1, 0, 0, 1, 1), 4},
	{"c130k12/5x3", geom(130, 12, 7, 9, 5, 3, 1, 2, 2, 1, 1, 1), 2},
	{"c64k64/2x2", geom(64, 64, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1), 9},
	{"c64k6/perImage", geom(64, 6, 130, 129, 3, 3, 1, 1, 1, 1, 1, 1), 2},
	{"c70k13/stream", geom(70, 13, 17, 16, 3, 3, 1, 1, 1, 1, 1, 1), 5},
	{"c48k7/s2/stream", geom(48, 7, 33, 35, 3, 3, 2, 2, 1, 1, 1, 1), 3},
	{"c64k8/stream/blocks", geom(64, 8, 40, 30, 3, 3, 1, 1, 1, 1, 1, 1), 3}, // 2 pixel blocks an image
	{"c16k13/blocks", geom(16, 13, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1), 20},       // folded, 3 pixel blocks
	{"c16k32/4x4", geom(16, 32, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1), 64},          // 2 blocks, few tiles
	{"c3k16", geom(3, 16, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1), 2},
	{"c3k64/blocks", geom(3, 64, 40, 36, 3, 3, 1, 1, 1, 1, 1, 1), 2}, // rows: 4 pixel blocks
	{"c5k7/s2", geom(5, 7, 11, 9, 3, 3, 2, 2, 1, 1, 1, 1), 3},
	{"c3k4", geom(3, 4, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1), 2}, // GEMM only
}

// TestBackwardFilterSchemes runs each scheme that applies on every ISA and on 1–3
// threads against the float64 reference, with unaligned inputs, a NaN-filled dw
// that must be overwritten and sentinels around it.
func TestBackwardFilterSchemes(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, tc := range bfGeometries {
		g, n := tc.g, tc.n
		if testing.Short() && g.H > 100 {
			continue
		}
		x := offsetSlice(randF32(rng, n*g.C*g.H*g.W+1), 1)
		dy := offsetSlice(randF32(rng, n*g.K*g.OutH()*g.OutW()+3), 3)
		x64, dy64 := ToFloat64(x), ToFloat64(dy)
		dwRef, dbRef := ReferenceBackwardFilter(g, n, x64, dy64)
		dwScale, dbScale := ReferenceBackwardFilter(g, n, Abs(x64), Abs(dy64))
		for _, sc := range []bfScheme{bfGEMM, bfTiles, bfRows} {
			if !sc.applies(g) {
				continue
			}
			t.Run(fmt.Sprintf("%s/%v", tc.name, sc), func(t *testing.T) {
				forEachISA(t, func(t *testing.T) {
					for _, th := range []int{1, 2, 3} {
						defer asm.SetThreads(asm.SetThreads(th))
						var b backwardFilter
						b.setup(g, sc)
						if sc == bfTiles && strings.Contains(tc.name, "stream") && !b.stream {
							t.Fatal("not streamed")
						}
						for range 2 { // the second call reuses the scratch
							dw, dwGuard := guarded(len(dwRef), 2)
							for i := range dw {
								dw[i] = float32(math.NaN())
							}
							db := make([]float32, g.K)
							b.run(dw, db, x, dy, n)
							checkAgainst(t, fmt.Sprintf("threads=%d dw", th), dw, dwRef, dwScale)
							checkAgainst(t, fmt.Sprintf("threads=%d db", th), db, dbRef, dbScale)
							dwGuard(t)
						}
					}
				})
			})
		}
	}
}

// TestBackwardFilterChoice pins which scheme init picks.
func TestBackwardFilterChoice(t *testing.T) {
	for _, tc := range []struct {
		g Geometry
		s bfScheme
	}{
		{Square3x3(3, 64, 224, 224), bfRows},
		{Square3x3(7, 64, 32, 32), bfRows},
		{Square3x3(8, 64, 32, 32), bfGEMM},
		{Square3x3(64, 64, 32, 32), bfTiles},
		{Square3x3(512, 512, 2, 2), bfTiles},
		{geom(17, 5, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1), bfGEMM},
		{Square3x3(32, 64, 16, 16), bfGEMM},
		{Square3x3(48, 64, 16, 16), bfTiles},
	} {
		var b backwardFilter
		b.init(tc.g)
		if b.scheme != tc.s {
			t.Errorf("%v: scheme %v, want %v", tc.g, b.scheme, tc.s)
		}
	}
}

// TestBackwardFilterBatchChange runs one scheme state on batches of different sizes
// (the row tables, folded dY, the channel blocks of the copy and the streamed
// ranges all depend on n).
func TestBackwardFilterBatchChange(t *testing.T) {
	for _, g := range []Geometry{geom(70, 13, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1), geom(70, 13, 17, 16, 3, 3, 1, 1, 1, 1, 1, 1)} {
		for _, th := range []int{1, 2} {
			t.Run(fmt.Sprintf("%v/threads=%d", g, th), func(t *testing.T) {
				defer asm.SetThreads(asm.SetThreads(th))
				testBatchChange(t, g)
			})
		}
	}
}

func testBatchChange(t *testing.T, g Geometry) {
	rng := rand.New(rand.NewPCG(43, 44))
	var b backwardFilter
	b.setup(g, bfTiles)
	for _, n := range []int{4, 1, 6, 2} {
		x := randF32(rng, n*g.C*g.H*g.W)
		dy := randF32(rng, n*g.K*g.OutH()*g.OutW())
		x64, dy64 := ToFloat64(x), ToFloat64(dy)
		dwRef, dbRef := ReferenceBackwardFilter(g, n, x64, dy64)
		dwScale, dbScale := ReferenceBackwardFilter(g, n, Abs(x64), Abs(dy64))
		dw, db := make([]float32, len(dwRef)), make([]float32, g.K)
		b.run(dw, db, x, dy, n)
		checkAgainst(t, fmt.Sprintf("n=%d dw", n), dw, dwRef, dwScale)
		checkAgainst(t, fmt.Sprintf("n=%d db", n), db, dbRef, dbScale)
	}
}

// TestBackwardFilterNoAlloc checks that a warm call allocates nothing.
func TestBackwardFilterNoAlloc(t *testing.T) {
	if asm.Threads() < 2 {
		t.Skip("needs 2 threads for the parallel paths")
	}
	rng := rand.New(rand.NewPCG(45, 46))
	for _, g := range []Geometry{Square3x3(64, 64, 8, 8), Square3x3(64, 64, 16, 16), Square3x3(16, 8, 4, 4), Square3x3(3, 16, 8, 8)} {
		const n = 4
		p, err := NewPlan(g)
		if err != nil {
			t.Fatal(err)
		}
		x := randF32(rng, n*g.C*g.H*g.W)
		dy := randF32(rng, n*g.K*g.OutH()*g.OutW())
		dw := make([]float32, g.K*g.C*9)
		db := make([]float32, g.K)
		_ = p.BackwardFilter(dw, db, x, dy, n)
		if a := testing.AllocsPerRun(5, func() { _ = p.BackwardFilter(dw, db, x, dy, n) }); a != 0 {
			t.Errorf("%v: %v allocations per warm call", g, a)
		}
	}
}

// bfBenchLayers add VGG16's 224×224 layers at batch 8 (a training step's) to the
// shared benchmark shapes.
var bfBenchLayers = append(append([]benchLayer(nil), benchLayers...),
	benchLayer{"b8_conv1_2", Square3x3(64, 64, 224, 224), 8},
	benchLayer{"b8_conv2_2", Square3x3(128, 128, 112, 112), 8},
	benchLayer{"b8_conv3_2", Square3x3(256, 256, 56, 56), 8},
	benchLayer{"b8_conv4_2", Square3x3(512, 512, 28, 28), 8},
	benchLayer{"b8_conv5_1", Square3x3(512, 512, 14, 14), 8},
)

// BenchmarkBackwardFilterSchemes runs both schemes side by side:
// go test -run=none -bench 'BackwardFilterSchemes/cifar' ./conv
func BenchmarkBackwardFilterSchemes(b *testing.B) {
	dw := make([]float32, 512*512*9)
	db := make([]float32, 512)
	for _, l := range bfBenchLayers {
		b.Run(l.name, func(b *testing.B) {
			d := newBenchData(l)
			g := l.g
			for _, sc := range []bfScheme{bfGEMM, bfTiles, bfRows} {
				if !sc.applies(g) {
					continue
				}
				for _, th := range benchThreads {
					b.Run(fmt.Sprintf("%v/threads=%d", sc, th), func(b *testing.B) {
						defer asm.SetThreads(asm.SetThreads(th))
						var bf backwardFilter
						bf.setup(g, sc)
						run := func() { bf.run(dw[:g.K*g.C*g.R*g.S], db[:g.K], d.x, d.y, l.n) }
						run()
						b.ResetTimer()
						cpu0 := cpuTime()
						for b.Loop() {
							run()
						}
						flops := float64(g.FLOPs(l.n)) * float64(b.N)
						b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
						if cpu := cpuTime() - cpu0; cpu > 0 {
							b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/cpu-s")
						}
					})
				}
			}
		})
	}
}

// BenchmarkFoldDY: the regrouping of dY of small maps as [K][image][pixel].
func BenchmarkFoldDY(b *testing.B) {
	for _, l := range bfBenchLayers {
		var bf backwardFilter
		bf.setup(l.g, bfTiles)
		if !bf.fold {
			continue
		}
		b.Run(l.name, func(b *testing.B) {
			d := newBenchData(l)
			bf.dyF = make([]float32, len(d.y))
			bf.cur.n, bf.cur.dyIn = l.n, d.y
			for b.Loop() {
				bf.foldDY(0, l.g.K)
			}
			b.ReportMetric(float64(4*len(d.y)*b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

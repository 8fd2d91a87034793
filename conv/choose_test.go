package conv

import (
	"fmt"
	"testing"

	"github.com/govgg/govgg/asm"
)

// TestChooseAlgorithm checks, on each kernel path this machine has and on 1 and 2
// threads, the choices that measurements settled (cold weights, one thread, the
// development machine; see chooseAlgorithm). Auto (either) in a column means no
// expectation: the generic path keeps an uncalibrated shape rule, and where two
// estimates are within the model's error either choice is fine.
func TestChooseAlgorithm(t *testing.T) {
	const either = Auto
	conv1x1 := Geometry{C: 64, H: 56, W: 56, K: 64, R: 1, S: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}
	cases := []struct {
		name                  string
		g                     Geometry
		n                     int
		avx512, avx2, generic Algorithm
	}{
		// Implicit GEMM: 2.0 ms against F(4,3)'s 3.1 on AVX-512, 3.7 against 8.0 on AVX2.
		{"conv1_1", Square3x3(3, 64, 224, 224), 1, Im2col, Im2col, Im2col},
		{"conv1_1/n=8", Square3x3(3, 64, 224, 224), 8, Im2col, Im2col, Im2col},
		{"conv1_2", Square3x3(64, 64, 224, 224), 1, WinogradF43, WinogradF43, either},
		{"conv3_1", Square3x3(128, 256, 56, 56), 1, WinogradF43, WinogradF43, either},
		{"conv4_2", Square3x3(512, 512, 28, 28), 1, WinogradF43, WinogradF43, either},
		// 16 tiles of 4×4: half an AVX-512 sliver, a whole AVX2 one (AVX2: F(4,3)
		// 4.4 ms, F(2,3) 6.4).
		{"conv5_1", Square3x3(512, 512, 14, 14), 1, WinogradF23, WinogradF43, either},
		{"conv5_1/n=8", Square3x3(512, 512, 14, 14), 8, WinogradF43, WinogradF43, either},
		{"cifar_conv1_2", Square3x3(64, 64, 32, 32), 64, WinogradF43, WinogradF43, either},
		{"cifar_conv4_x", Square3x3(512, 512, 4, 4), 64, WinogradF43, WinogradF43, either},
		// A 4×4 tile on a 2×2 map is three-quarters padding (AVX2: F(2,3) 7.8 ms,
		// F(4,3) 17.8).
		{"cifar_conv5_x", Square3x3(512, 512, 2, 2), 64, WinogradF23, WinogradF23, either},
		// Weight-bound: the fewest bytes win (AVX2: im2col 0.9 and 1.1 ms, F(2,3) 1.6).
		{"2x2/n=1", Square3x3(512, 512, 2, 2), 1, Im2col, Im2col, either},
		{"4x4/n=1", Square3x3(512, 512, 4, 4), 1, Im2col, Im2col, either},
		// AVX2: F(2,3) 1.8 ms, im2col 3.3; on AVX-512 the two estimates are within 5 %.
		{"7x7/n=1", Square3x3(512, 512, 7, 7), 1, either, WinogradF23, either},
		{"1x1", conv1x1, 1, Im2col, Im2col, Im2col},
	}
	for _, isa := range asm.Supported() {
		restore, err := asm.SetImpl(isa)
		if err != nil {
			t.Fatal(err)
		}
		for _, th := range []int{1, 2} {
			prev := asm.SetThreads(th)
			for _, c := range cases {
				want := map[asm.ISA]Algorithm{asm.AVX512: c.avx512, asm.AVX2: c.avx2}[isa]
				if isa != asm.AVX512 && isa != asm.AVX2 {
					want = c.generic
				}
				if got := chooseAlgorithm(c.g, c.n); want != either && got != want {
					t.Errorf("%v threads=%d %s (%v) n=%d: chose %v, want %v", isa, th, c.name, c.g, c.n, got, want)
				}
			}
			asm.SetThreads(prev)
		}
		restore()
	}
}

// TestChooseApplicable checks that every path's choice can run the geometry.
func TestChooseApplicable(t *testing.T) {
	for _, isa := range asm.Supported() {
		restore, err := asm.SetImpl(isa)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range vgg16Layers {
			for _, n := range []int{1, 3, 8, 64} {
				g := Square3x3(l.c, l.k, l.size/4, l.size/4)
				if a := chooseAlgorithm(g, n); a == Auto || a == WinogradF63 || applicable(a, g) != nil {
					t.Errorf("%v: %v n=%d: chose %v", isa, g, n, a)
				}
			}
		}
		restore()
	}
}

// TestCostModel checks the model's arithmetic: estimates grow with the batch, the
// GEMM columns round to the micro-kernel's slivers, and the estimates for VGG-16
// layers with cold weights are near the times measured (AVX-512, one thread:
// conv4_2 F(4,3) 9.2–9.6 ms, conv5_1 3.9–4.1; AVX2's rates against AVX2's times).
func TestCostModel(t *testing.T) {
	m := costModel{gemm: 200e9, implicit: 175e9, transform: 0.55e-9, dram: 17e9, l3: 25e9, nr: 32, lanes: 16, colsMax: 4, threads: 1}
	for _, c := range [][2]int{{0, 0}, {1, 5}, {4, 5}, {5, 16}, {16, 16}, {17, 21}, {20, 21}, {21, 32}, {32, 32}, {33, 37}, {38, 48}, {49, 53}, {196, 197}} {
		if got := m.gemmCols(c[0]); got != c[1] {
			t.Errorf("gemmCols(%d) = %d, want %d", c[0], got, c[1])
		}
	}
	for _, l := range vgg16Layers {
		g := Square3x3(l.c, l.k, l.size, l.size)
		prev := map[string]float64{}
		for _, n := range []int{1, 2, 8} {
			est := map[string]float64{"im2col": m.im2col(g, n)}
			for _, tile := range []int{2, 4, 6} {
				est[fmt.Sprintf("F%d", tile)] = m.winograd(g, n, tile)
			}
			for k, v := range est {
				if !(v > prev[k]) {
					t.Errorf("%s %s: estimate %g at n=%d, not above %g at a smaller batch", l.name, k, v, n, prev[k])
				}
			}
			prev = est
		}
	}
	for _, c := range []struct {
		g      Geometry
		lo, hi float64 // ms
	}{
		{Square3x3(512, 512, 28, 28), 8, 11},
		{Square3x3(512, 512, 14, 14), 3.3, 4.7},
	} {
		if ms := 1e3 * m.winograd(c.g, 1, 4); ms < c.lo || ms > c.hi {
			t.Errorf("%v: F(4,3) estimate %.2f ms, measured %.1f–%.1f", c.g, ms, c.lo, c.hi)
		}
	}

	// AVX2: 16-wide slivers of two 8-lane vectors, no column kernel. Measured on
	// one thread, cold weights: conv4_2 F(4,3) 14.8–16.1 ms, im2col 38.8–39.9;
	// conv2_2 F(4,3) 16.2–16.6.
	m2 := costModel{gemm: 93e9, implicit: 88e9, transform: 0.55e-9, dram: 17e9, l3: 25e9, nr: 16, lanes: 8, threads: 1}
	for _, c := range [][2]int{{0, 0}, {1, 8}, {8, 8}, {9, 16}, {16, 16}, {17, 24}, {25, 32}, {49, 56}} {
		if got := m2.gemmCols(c[0]); got != c[1] {
			t.Errorf("AVX2 gemmCols(%d) = %d, want %d", c[0], got, c[1])
		}
	}
	for _, c := range []struct {
		g      Geometry
		tile   int // 0: im2col
		lo, hi float64
	}{
		{Square3x3(512, 512, 28, 28), 4, 13, 17.5},
		{Square3x3(512, 512, 28, 28), 0, 35, 44},
		{Square3x3(128, 128, 112, 112), 4, 14.5, 18},
	} {
		ms := 1e3 * m2.im2col(c.g, 1)
		if c.tile > 0 {
			ms = 1e3 * m2.winograd(c.g, 1, c.tile)
		}
		if ms < c.lo || ms > c.hi {
			t.Errorf("AVX2 %v tile %d: estimate %.2f ms, measured about %.1f–%.1f", c.g, c.tile, ms, c.lo, c.hi)
		}
	}
}

package conv

import (
	"fmt"
	"testing"

	"github.com/govgg/govgg/asm"
)

// TestChooseAVX512 checks the cost model's choices on the path it was calibrated
// on, at 1 and 2 threads.
func TestChooseAVX512(t *testing.T) {
	restore, err := asm.SetImpl(asm.AVX512)
	if err != nil {
		t.Skip("no AVX-512 here:", err)
	}
	defer restore()
	for _, th := range []int{1, 2} {
		prev := asm.SetThreads(th)
		for _, c := range []struct {
			g    Geometry
			n    int
			want Algorithm
		}{
			{Square3x3(3, 64, 224, 224), 1, Im2col},
			{Square3x3(64, 64, 224, 224), 1, WinogradF43},
			{Square3x3(128, 256, 56, 56), 1, WinogradF43},
			{Square3x3(512, 512, 28, 28), 1, WinogradF43},
			{Square3x3(512, 512, 14, 14), 1, WinogradF23}, // conv5_x: 16 tiles of 4×4
			{Square3x3(512, 512, 14, 14), 8, WinogradF43},
			{Square3x3(64, 64, 32, 32), 64, WinogradF43}, // CIFAR conv1_2
			{Square3x3(512, 512, 4, 4), 64, WinogradF43}, // CIFAR conv4_x
			{Square3x3(512, 512, 2, 2), 64, WinogradF23}, // CIFAR conv5_x
			{Square3x3(512, 512, 2, 2), 1, Im2col},       // weight-bound: the fewest bytes win
			{Geometry{C: 64, H: 56, W: 56, K: 64, R: 1, S: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}, 1, Im2col},
		} {
			if got := chooseAlgorithm(c.g, c.n); got != c.want {
				t.Errorf("threads=%d %v n=%d: chose %v, want %v", th, c.g, c.n, got, c.want)
			}
		}
		asm.SetThreads(prev)
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
// GEMM columns round to the micro-kernel's slivers, and F(4,3)'s estimate on a
// VGG-16 layer with cold weights is near the time measured in the model
// (conv4_2: 9.2–9.6 ms, conv5_1: 3.9–4.1 ms on one AVX-512 thread).
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
}

func TestChooseAlgorithm(t *testing.T) {
	for _, c := range []struct {
		g    Geometry
		n    int
		want Algorithm
	}{
		{Square3x3(3, 64, 224, 224), 1, Im2col},
		{Square3x3(64, 64, 224, 224), 1, WinogradF43},
		{Square3x3(256, 512, 28, 28), 1, WinogradF43},
		{Square3x3(512, 512, 14, 14), 1, WinogradF23},
		{Square3x3(512, 512, 14, 14), 8, WinogradF43},
		{Geometry{C: 64, H: 56, W: 56, K: 64, R: 1, S: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}, 1, Im2col},
	} {
		if got := chooseAlgorithm(c.g, c.n); got != c.want {
			t.Errorf("%v n=%d: chose %v, want %v", c.g, c.n, got, c.want)
		}
	}
}

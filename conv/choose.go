package conv

// chooseAlgorithm picks the algorithm for a geometry when the caller asked for Auto.
// Only algorithms with a registered kernel may be returned.
//
// The rules follow kernels.md §2 "Tile-size choice" and §8: Winograd only for 3×3
// stride-1 layers with enough channels to amortize its transforms (conv1_1's C=3 goes
// to implicit GEMM); F(4,3) for most layers; F(2,3) for small maps, where F(4,3)'s
// tiles would be mostly padding and its 36 GEMMs too narrow. F(6,3) is never chosen
// automatically (7× the rounding error of direct convolution, 7.1× the weights).
func chooseAlgorithm(g Geometry, n int) Algorithm {
	if !g.Is3x3s1() || g.C < 8 || g.K < 8 {
		return Im2col
	}
	oh, ow := g.OutH(), g.OutW()
	pick := WinogradF43
	if min(oh, ow) <= 16 {
		pick = WinogradF23
	}
	if min(oh, ow) < 4 && n < 8 {
		return Im2col
	}
	if winogradKernels[pick] == nil {
		return Im2col
	}
	return pick
}

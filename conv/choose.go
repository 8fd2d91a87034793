package conv

// chooseAlgorithm picks the algorithm for a geometry when the caller asked for Auto.
// Only algorithms with a registered kernel may be returned.
//
// The rules follow kernels.md §2 "Tile-size choice" and §8, with thresholds set from
// BenchmarkWinogradVGG16 on the development machine (AVX-512, 1 thread):
//   - Winograd only for 3×3 stride-1 layers with at least 8 input and output channels;
//     conv1_1 (C=3) goes to implicit GEMM.
//   - F(4,3) by default: it beat F(2,3) and implicit GEMM on every VGG-16 layer from
//     conv1_2 to conv4_3 at batch 1 and 8, and on conv5_x (14×14) at batch 8.
//   - F(2,3) when the batch has fewer than 40 F(4,3) tiles (conv5_x at batch 1: 16
//     tiles, where the 36 GEMMs are too narrow to amortize streaming U, 37.7 MB).
//   - F(6,3) never automatically: it was faster on conv2_x (C ≤ 128), but its error is
//     about 7× direct convolution's and a Plan does not know whether it is training.
//     WithAlgorithm(WinogradF63) selects it for inference.
func chooseAlgorithm(g Geometry, n int) Algorithm {
	if !g.Is3x3s1() || g.C < 8 || g.K < 8 {
		return Im2col
	}
	tiles43 := n * ((g.OutH() + 3) / 4) * ((g.OutW() + 3) / 4)
	pick := WinogradF43
	if tiles43 < 40 {
		pick = WinogradF23
	}
	if winogradKernels[pick] == nil {
		return Im2col
	}
	return pick
}

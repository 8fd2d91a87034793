// Package conv implements 2-D convolution for govgg: a float64 direct reference for
// tests, implicit GEMM (im2col panels built inside the GEMM's packing) for any kernel
// size, stride, padding and dilation, and Winograd F(2×2,3×3), F(4×4,3×3) and
// F(6×6,3×3) for 3×3 stride-1 layers; forward, backward-data and backward-filter
// passes; and a per-layer Plan that chooses an algorithm by shape and caches the
// weights in that algorithm's form, so that no call allocates once the plan is made.
//
// Tensors are NCHW float32 (x: N×C×H×W, weights: K×C×R×S, y: N×K×OutH×OutW), and
// the convolution is PyTorch's Conv2d (a cross-correlation).
//
// # Plan
//
//	p, err := conv.NewPlan(conv.Square3x3(64, 128, 56, 56), conv.WithReLU(true))
//	err = p.SetWeights(w, b)          // again after every optimizer step
//	err = p.Forward(y, x, n)          // y = ReLU(conv(x) + b)
//	err = p.BackwardData(dx, dy, n)   // dy already masked by the ReLU
//	err = p.BackwardFilter(dw, db, x, dy, n)
//
// With Auto (the default) the algorithm is chosen per batch size; WithAutotune
// times the candidates once instead. WithMaxWeightBytes bounds the prepared weights
// (Winograd's transformed weights are 1.8–7× larger than the weights themselves).
//
// # Implicit GEMM
//
// Forward is Y (K × N·P·Q) = W (K × C·R·S) · col(X): the weights are packed once
// (asm.PackA) and the GEMM driver's B panels are written straight from a zero-padded
// copy of the input band each GEMM block reads, so the C·R·S × N·P·Q im2col matrix
// (110 MiB for VGG16's conv1_2 at 224²) never exists. Large maps get GEMMs per
// image, small ones are folded into wide GEMMs over the batch. Bias and the fused
// ReLU run on each ~1 MiB output block while it is in cache.
//
// Backward data, for stride 1, is a forward convolution of dY with the weights
// rotated by 180° and C and K swapped, on a kernel of its own (so Winograd can serve
// it); otherwise it is Wᵀ·dY followed by col2im in ~1 MiB column blocks. Backward
// filter accumulates 6×64 tiles of dW per kernel tap with asm.GradW, from dY read in
// place and a padded channels-last copy of X (im2col rows for first layers; a GEMM
// over col(X)ᵀ for few channels); it never uses Winograd.
//
// # Testing helpers
//
// ReferenceForward, ReferenceBackwardData and ReferenceBackwardFilter are direct
// float64 loops; Compare, ErrorStats, Abs and CheckBound measure a float32 result
// against them with the tolerances of kernels.md §2 (relL2 ≤ 1e-5 and
// max|err|/max|y| ≤ 2e-5 for implicit GEMM, and per element |err| ≤ tol·Σ|x||w|).
package conv

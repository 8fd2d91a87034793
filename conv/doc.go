// Package conv implements 2-D convolution for govgg: a float64 direct reference for
// tests, implicit GEMM (im2col panels built inside the GEMM's packing) for any kernel
// size, stride, padding and dilation, and Winograd F(2×2,3×3), F(4×4,3×3) and
// F(6×6,3×3) for 3×3 stride-1 layers; forward, backward-data and backward-filter
// passes; and a per-layer Plan that chooses an algorithm by shape and caches the
// weights in that algorithm's form, so that no call allocates once the plan is made.
package conv

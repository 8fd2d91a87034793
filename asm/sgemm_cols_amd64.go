//go:build amd64 && gc && !noasm && !purego

package asm

// sgemmColsAVX512 is the microKernel of the AVX-512 path (MR=12) for tiles of at
// most 4 columns: the ragged end of a product whose n is just past a vector (a
// Winograd layer of 49 tiles: 32 + 16 + 1 columns). It spends one FMA per column
// and k step where the micro-kernel spends one per row and vector.
//
//	for i := 0; i < mr; i++ {
//		for j := 0; j < nr; j++ {
//			var acc float32
//			for p := 0; p < kc; p++ {
//				acc += a[p*12+i] * b[p*ldb+j] // even and odd p in two sums, then added
//			}
//			v := alpha * acc
//			if beta != 0 {
//				v += beta * c[i*ldc+j] // fused
//			}
//			c[i*ldc+j] = v
//		}
//	}
//
// b[p*ldb+j] is read for j < 4 whatever nr; 1 ≤ mr ≤ 12, 1 ≤ nr ≤ 4, kc ≥ 1,
// mr·ldc < 2³¹ (C's rows are addressed by 32-bit offsets).
//
//go:noescape
func sgemmColsAVX512(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, mr, nr int)

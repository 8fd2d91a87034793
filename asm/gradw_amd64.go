//go:build amd64 && gc && !noasm && !purego

package asm

// gradwAVX512 and gradwAVX2 compute GradW on operands it has checked, for n ≥ 1
// pixels whose b offsets are off[0:n] (a, b and acc as arrays of float32), with
// one fused multiply-add a term:
//
//	for i := 0; i < GradWRows; i++ {
//		for j := 0; j < GradWCols; j++ {
//			s := acc[i*ldacc+j]
//			if zero {
//				s = 0
//			}
//			for p := 0; p < n; p++ {
//				s += a[i*lda+p] * b[off[p]+j]
//			}
//			acc[i*ldacc+j] = s
//		}
//	}
//
// AVX-512 keeps the 6×64 tile in 24 zmm registers for the whole call; AVX2 makes
// four passes of 6×16 columns (12 ymm).
//
//go:noescape
func gradwAVX512(acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool)

//go:noescape
func gradwAVX2(acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool)

var _ = registerKernels(func(isa ISA) {
	switch isa {
	case AVX512:
		gradwImpl = gradwAVX512
	case AVX2:
		gradwImpl = gradwAVX2
	default:
		gradwImpl = gradwGeneric
	}
})

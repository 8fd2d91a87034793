//go:build amd64 && gc && !noasm && !purego

package asm

// gradwAVX512 and gradwAVX2 compute, on operands checked by GradW (rows ≥ 1,
// cols ≥ 1), with one fused multiply-add a term:
//
//	for r := 0; r < rows; r++ {
//		ao, bo := aOff[r], bOff[r] // aOff, bOff: arrays of rows ints
//		for x := 0; x < cols; x++ {
//			for i := 0; i < GradWRows; i++ {
//				for j := 0; j < GradWCols; j++ {
//					acc[i*ldacc+j] += a[ao+i*lda+x] * b[bo+x*bStep+j]
//				}
//			}
//		}
//	}
//
// AVX-512 keeps the 6×64 tile in 24 zmm registers for the whole call; AVX2 makes
// four passes of 6×16 columns (12 ymm).
//
//go:noescape
func gradwAVX512(acc *float32, ldacc int, a *float32, lda int, aOff *int, b *float32, bStep int, bOff *int, rows, cols int)

//go:noescape
func gradwAVX2(acc *float32, ldacc int, a *float32, lda int, aOff *int, b *float32, bStep int, bOff *int, rows, cols int)

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

//go:build amd64 && gc && !noasm && !purego

package asm

// gradwAVX512 and gradwAVX2 compute GradW on operands it has checked, for n ≥ 1
// pixels whose b offsets are off[0:n] (a, b and acc as arrays of float32), with
// one fused multiply-add a term:
//
//	for i := 0; i < GradWRows; i++ {
//		for j := 0; j < GradWCols; j++ {
//			var s float32
//			for p := 0; p < n; p++ {
//				s += a[i*lda+p] * b[off[p]+j]
//			}
//			if zero {
//				acc[i*ldacc+j] = s
//			} else {
//				acc[i*ldacc+j] += s
//			}
//		}
//	}
//
// AVX-512 keeps the 6×64 tile's sum in 24 zmm registers for the whole call; AVX2 makes
// four passes of 6×16 columns (12 ymm).
//
//go:noescape
func gradwAVX512(acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool)

//go:noescape
func gradwAVX2(acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool)

// gradw32AVX512 and gradw32AVX2 are gradwAVX512 and gradwAVX2 for the narrow tile,
// GradWRows × GradWNarrowCols, on operands checked by GradWNarrow:
//
//	for i := 0; i < GradWRows; i++ {
//		for j := 0; j < GradWNarrowCols; j++ {
//			var s float32
//			for p := 0; p < n; p++ {
//				s += a[i*lda+p] * b[off[p]+j]
//			}
//			if zero {
//				acc[i*ldacc+j] = s
//			} else {
//				acc[i*ldacc+j] += s
//			}
//		}
//	}
//
// AVX-512 keeps the sum in 12 zmm registers; AVX2 makes two passes of 16 columns.
//
//go:noescape
func gradw32AVX512(acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool)

//go:noescape
func gradw32AVX2(acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool)

// gradwSumsAVX512 and gradwSumsAVX2 compute GradWSums on operands it has checked,
// for n ≥ 1 pixels (a as an array of float32), in float32 lanes of 16 and 8 pixels
// summed at the end (results, not an array, so that nothing escapes):
//
//	var s [GradWRows]float32
//	for i := 0; i < GradWRows; i++ {
//		for p := 0; p < n; p++ {
//			s[i] += a[i*lda+p]
//		}
//	}
//	return s[0], s[1], s[2], s[3], s[4], s[5]
//
//go:noescape
func gradwSumsAVX512(a *float32, lda, n int) (s0, s1, s2, s3, s4, s5 float32)

//go:noescape
func gradwSumsAVX2(a *float32, lda, n int) (s0, s1, s2, s3, s4, s5 float32)

// interleave16AVX512 computes, on operands checked by Interleave16 (n ≥ 1), with
// one 16-lane gather a pixel:
//
//	for j := 0; j < n; j++ {
//		for i := 0; i < 16; i++ {
//			dst[j*step+i] = src[i*plane+j]
//		}
//	}
//
//go:noescape
func interleave16AVX512(dst *float32, step int, src *float32, plane, n int)

// gather16AVX512 computes, on operands checked by Gather16 (nv, periods ≥ 1), with
// one 16-lane gather a vector:
//
//	for p := 0; p < periods; p++ {
//		for v := 0; v < nv; v++ {
//			for l := 0; l < 16; l++ {
//				dst[(p*nv+v)*16+l] = src[p*adv+idx[v*16+l]]
//			}
//		}
//	}
//
//go:noescape
func gather16AVX512(dst, src *float32, idx *int32, nv, adv, periods int)

var _ = registerKernels(func(isa ISA) {
	// AVX2 interleaves and gathers in Go: its 8-lane gathers are no faster than
	// scalar moves.
	interleave16Impl, gather16Impl = interleave16Generic, gather16Generic
	switch isa {
	case AVX512:
		gradwImpl, gradw32Impl, gradwSumsImpl = gradwAVX512, gradw32AVX512, gradwSumsAVX512
		interleave16Impl, gather16Impl = interleave16AVX512, gather16AVX512
	case AVX2:
		gradwImpl, gradw32Impl, gradwSumsImpl = gradwAVX2, gradw32AVX2, gradwSumsAVX2
	default:
		gradwImpl, gradw32Impl, gradwSumsImpl = gradwGeneric, gradw32Generic, gradwSumsGeneric
	}
})

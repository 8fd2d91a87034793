//go:build amd64 && gc && !noasm && !purego

package asm

// scaleShiftAVX512 and scaleShiftAVX2 compute, with len(dst) == len(src):
//
//	for i, v := range src {
//		dst[i] = (v-m)*a + b // a subtraction, then one fused multiply-add
//	}
//
//go:noescape
func scaleShiftAVX512(dst, src []float32, m, a, b float32)

//go:noescape
func scaleShiftAVX2(dst, src []float32, m, a, b float32)

// sumSqAVX512 and sumSqAVX2 compute, in float64 with several partial sums (so the
// order of additions differs from the loop):
//
//	for _, v := range x {
//		sum += float64(v)
//		sumSq += float64(v) * float64(v)
//	}
//
//go:noescape
func sumSqAVX512(x []float32) (sum, sumSq float64)

//go:noescape
func sumSqAVX2(x []float32) (sum, sumSq float64)

// sumDotAVX512 and sumDotAVX2 compute, with len(dy) == len(x), in float64 with
// several partial sums:
//
//	for i, v := range x {
//		sumDy += float64(dy[i])
//		sumDyX += float64(dy[i]) * float64(v)
//	}
//
//go:noescape
func sumDotAVX512(dy, x []float32) (sumDy, sumDyX float64)

//go:noescape
func sumDotAVX2(dy, x []float32) (sumDy, sumDyX float64)

// axpbycAVX512 and axpbycAVX2 compute, with len(dst) == len(dy) == len(x):
//
//	for i, v := range x {
//		dst[i] = a*dy[i] + (b*(v-m) + c) // a subtraction, two fused multiply-adds
//	}
//
//go:noescape
func axpbycAVX512(dst, dy, x []float32, m, a, b, c float32)

//go:noescape
func axpbycAVX2(dst, dy, x []float32, m, a, b, c float32)

var _ = registerKernels(func(isa ISA) {
	switch isa {
	case AVX512:
		scaleShiftKernel, sumSqKernel, sumDotKernel, axpbycKernel = scaleShiftAVX512, sumSqAVX512, sumDotAVX512, axpbycAVX512
	case AVX2:
		scaleShiftKernel, sumSqKernel, sumDotKernel, axpbycKernel = scaleShiftAVX2, sumSqAVX2, sumDotAVX2, axpbycAVX2
	default:
		scaleShiftKernel, sumSqKernel, sumDotKernel, axpbycKernel = scaleShiftGeneric, sumSqGeneric, sumDotGeneric, axpbycGeneric
	}
})

//go:build amd64 && gc && !noasm && !purego

package asm

// axpyAVX512 and axpyAVX2 compute, with len(y) == len(x):
//
//	for i, v := range x {
//		y[i] += alpha * v // one fused multiply-add
//	}
//
//go:noescape
func axpyAVX512(alpha float32, x, y []float32)

//go:noescape
func axpyAVX2(alpha float32, x, y []float32)

// axpbyAVX512 and axpbyAVX2 compute, with len(y) == len(x):
//
//	for i, v := range x {
//		y[i] = alpha*v + beta*y[i] // beta·y rounded, then one fused multiply-add
//	}
//
//go:noescape
func axpbyAVX512(alpha float32, x []float32, beta float32, y []float32)

//go:noescape
func axpbyAVX2(alpha float32, x []float32, beta float32, y []float32)

// scaleAVX512 and scaleAVX2 compute:
//
//	for i := range x {
//		x[i] *= alpha
//	}
//
//go:noescape
func scaleAVX512(alpha float32, x []float32)

//go:noescape
func scaleAVX2(alpha float32, x []float32)

// sumSquaresAVX512 and sumSquaresAVX2 compute, in float64 with several partial sums
// (so the order of additions differs from the loop):
//
//	var s float64
//	for _, v := range x {
//		s += float64(v) * float64(v)
//	}
//	return s
//
//go:noescape
func sumSquaresAVX512(x []float32) float64

//go:noescape
func sumSquaresAVX2(x []float32) float64

var _ = registerKernels(func(isa ISA) {
	switch isa {
	case AVX512:
		axpyImpl, axpbyImpl, scaleImpl, sumSqImpl = axpyAVX512, axpbyAVX512, scaleAVX512, sumSquaresAVX512
	case AVX2:
		axpyImpl, axpbyImpl, scaleImpl, sumSqImpl = axpyAVX2, axpbyAVX2, scaleAVX2, sumSquaresAVX2
	default:
		axpyImpl, axpbyImpl, scaleImpl, sumSqImpl = axpyGeneric, axpbyGeneric, scaleGeneric, sumSquaresGeneric
	}
})

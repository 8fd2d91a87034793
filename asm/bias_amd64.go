//go:build amd64 && gc && !noasm && !purego

package asm

// biasAVX512 and biasAVX2 compute:
//
//	for i := range x {
//		x[i] += b
//	}
//
//go:noescape
func biasAVX512(x []float32, b float32)

//go:noescape
func biasAVX2(x []float32, b float32)

// biasReLUAVX512 and biasReLUAVX2 compute (NaN kept, as MAXPS with the sum as the
// second source operand):
//
//	for i := range x {
//		v := x[i] + b
//		if v < 0 {
//			v = 0
//		}
//		x[i] = v
//	}
//
//go:noescape
func biasReLUAVX512(x []float32, b float32)

//go:noescape
func biasReLUAVX2(x []float32, b float32)

var _ = registerKernels(func(isa ISA) {
	switch isa {
	case AVX512:
		biasKernel, biasReLUKernel = biasAVX512, biasReLUAVX512
	case AVX2:
		biasKernel, biasReLUKernel = biasAVX2, biasReLUAVX2
	default:
		biasKernel, biasReLUKernel = biasGeneric, biasReLUGeneric
	}
})

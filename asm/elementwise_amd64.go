//go:build amd64 && gc && !noasm && !purego

package asm

// dotAVX512 and dotAVX2 compute, with len(b) == len(a), in float32 with several
// partial sums (so the order of additions differs from the loop):
//
//	var s float32
//	for i, v := range a {
//		s += v * b[i]
//	}
//	return s
//
//go:noescape
func dotAVX512(a, b []float32) float32

//go:noescape
func dotAVX2(a, b []float32) float32

var _ = registerKernels(func(isa ISA) {
	switch isa {
	case AVX512:
		dotKernel = dotAVX512
	case AVX2:
		dotKernel = dotAVX2
	default:
		dotKernel = dotGeneric
	}
})

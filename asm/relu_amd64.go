//go:build amd64 && gc && !noasm && !purego

package asm

// reluAVX512 and reluAVX2 compute, with len(dst) == len(src):
//
//	for i, v := range src {
//		if v < 0 {
//			v = 0
//		}
//		dst[i] = v
//	}
//
// as MAXPS with src as the second source operand, which returns it when it is NaN
// (or when both are zero, keeping -0).
//
//go:noescape
func reluAVX512(dst, src []float32)

//go:noescape
func reluAVX2(dst, src []float32)

// reluBackwardAVX512 and reluBackwardAVX2 compute, with len(dx) == len(dy) == len(y):
//
//	for i, v := range y {
//		if v <= 0 {
//			dx[i] = 0
//		} else {
//			dx[i] = dy[i]
//		}
//	}
//
//go:noescape
func reluBackwardAVX512(dx, dy, y []float32)

//go:noescape
func reluBackwardAVX2(dx, dy, y []float32)

var _ = registerKernels(func(isa ISA) {
	switch isa {
	case AVX512:
		reluKernel, reluBackKernel = reluAVX512, reluBackwardAVX512
	case AVX2:
		reluKernel, reluBackKernel = reluAVX2, reluBackwardAVX2
	default:
		reluKernel, reluBackKernel = reluGeneric, reluBackwardGeneric
	}
})

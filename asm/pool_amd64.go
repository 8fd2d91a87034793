//go:build amd64 && gc && !noasm && !purego

package asm

// maxPool2x2AVX512 computes, for rows output rows of ow outputs (x has row
// stride w; base is the plane index of x[0]):
//
//	for r := 0; r < rows; r++ {
//		r0, r1 := x[2*r*w:], x[(2*r+1)*w:]
//		i0 := base + int32(2*r*w)
//		for j := 0; j < ow; j++ {
//			m, k := r0[2*j], i0+int32(2*j)
//			if v := r0[2*j+1]; v > m || v != v {
//				m, k = v, i0+int32(2*j+1)
//			}
//			if v := r1[2*j]; v > m || v != v {
//				m, k = v, i0+int32(w+2*j)
//			}
//			if v := r1[2*j+1]; v > m || v != v {
//				m, k = v, i0+int32(w+2*j+1)
//			}
//			y[r*ow+j], idx[r*ow+j] = m, k
//		}
//	}
//
// 16 outputs a step, the last step of a row masked.
//
//go:noescape
func maxPool2x2AVX512(y []float32, idx []int32, x []float32, base int32, w, rows, ow int)

// maxPool2x2AVX2 is the loop of maxPool2x2AVX512 for the first ow8 (a multiple of
// 8) outputs of each row, 8 a step; y and idx still have row stride ow.
//
//go:noescape
func maxPool2x2AVX2(y []float32, idx []int32, x []float32, base int32, w, rows, ow, ow8 int)

// maxPool2x2AVX2Go runs maxPool2x2AVX2 on whole 8-output blocks and the Go twin on
// each row's remaining columns.
func maxPool2x2AVX2Go(y []float32, idx []int32, x []float32, base int32, w, rows, ow int) {
	ow8 := ow &^ 7
	if ow8 > 0 {
		maxPool2x2AVX2(y, idx, x, base, w, rows, ow, ow8)
	}
	if ow8 < ow {
		maxPool2x2Cols(y, idx, x, base, w, rows, ow, ow8)
	}
}

// maxPool2x2BackwardAVX512 computes, for rows output rows of ow outputs (dx has
// row stride w; base is the plane index of dx[0]; y is empty, or the pool's
// output with dy's layout, whose values ≤ 0 mask dy):
//
//	for r := 0; r < rows; r++ {
//		d0, d1 := dx[2*r*w:], dx[(2*r+1)*w:]
//		i0 := base + int32(2*r*w)
//		for j := 0; j < ow; j++ {
//			g, k := dy[r*ow+j], idx[r*ow+j]-i0-int32(2*j)
//			if len(y) != 0 && y[r*ow+j] <= 0 {
//				g = 0
//			}
//			d0[2*j], d0[2*j+1], d1[2*j], d1[2*j+1] = 0, 0, 0, 0
//			switch k { // the one of the four that the forward pass chose
//			case 0:
//				d0[2*j] = g
//			case 1:
//				d0[2*j+1] = g
//			case int32(w):
//				d1[2*j] = g
//			case int32(w) + 1:
//				d1[2*j+1] = g
//			}
//		}
//	}
//
//go:noescape
func maxPool2x2BackwardAVX512(dx []float32, idx []int32, dy, y []float32, base int32, w, rows, ow int)

// maxPool2x2BackwardAVX2 is the loop of maxPool2x2BackwardAVX512 for the first
// ow8 (a multiple of 8) outputs of each row, 8 a step; dy, y and idx still have
// row stride ow.
//
//go:noescape
func maxPool2x2BackwardAVX2(dx []float32, idx []int32, dy, y []float32, base int32, w, rows, ow, ow8 int)

// maxPool2x2BackwardAVX2Go runs maxPool2x2BackwardAVX2 on whole 8-output blocks and
// the Go twin on each row's remaining columns.
func maxPool2x2BackwardAVX2Go(dx []float32, idx []int32, dy, y []float32, base int32, w, rows, ow int) {
	ow8 := ow &^ 7
	if ow8 > 0 {
		maxPool2x2BackwardAVX2(dx, idx, dy, y, base, w, rows, ow, ow8)
	}
	if ow8 < ow {
		maxPool2x2BackwardCols(dx, idx, dy, y, base, w, rows, ow, ow8)
	}
}

var _ = registerKernels(func(isa ISA) {
	switch isa {
	case AVX512:
		maxPool2x2Kernel, maxPool2x2BackKernel = maxPool2x2AVX512, maxPool2x2BackwardAVX512
	case AVX2:
		maxPool2x2Kernel, maxPool2x2BackKernel = maxPool2x2AVX2Go, maxPool2x2BackwardAVX2Go
	default:
		maxPool2x2Kernel, maxPool2x2BackKernel = maxPool2x2Generic, maxPool2x2BackwardGeneric
	}
})

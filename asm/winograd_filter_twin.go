package asm

import "unsafe"

// winogradFilterGo is the twin of the filter-transform kernels: for count
// positions p and rows i < rows of an MR-row sliver, U = G·g·Gᵀ (α×α) of the 3×3
// filter g at w[i·wrow + p·wcol] (taps row-major, contiguous), stored at column p,
// row i of each U[ξ] (columns mr floats apart, the U[ξ] dstride floats apart).
// It runs in two passes with the same order of operations as the assembly (which
// fuses its multiply-adds; only that rounding differs):
//
//	for p := 0; p < count; p++ {
//		for i := 0; i < rows; i++ {
//			g := w[i*wrow+p*wcol:]
//			for a := 0; a < α; a++ {
//				var h [3]float32
//				for j := 0; j < 3; j++ {
//					h[j] = gm[a*3]*g[j] + gm[a*3+1]*g[3+j] + gm[a*3+2]*g[6+j]
//				}
//				for b := 0; b < α; b++ {
//					dst[(a*α+b)*dstride+p*mr+i] = h[0]*gm[b*3] + h[1]*gm[b*3+1] + h[2]*gm[b*3+2]
//				}
//			}
//		}
//	}
func winogradFilterGo(dst *float32, dstride int, gm *float32, alpha int, w *float32, wrow, wcol, count, rows, mr int) {
	if count <= 0 || rows <= 0 || alpha <= 0 {
		return
	}
	gg := unsafe.Slice(gm, alpha*3)
	ww := unsafe.Slice(w, (rows-1)*wrow+(count-1)*wcol+9)
	dd := unsafe.Slice(dst, (alpha*alpha-1)*dstride+(count-1)*mr+rows)
	for p := 0; p < count; p++ {
		for i := 0; i < rows; i++ {
			g := ww[i*wrow+p*wcol:][:9]
			for a := 0; a < alpha; a++ {
				ga := gg[a*3 : a*3+3]
				var h [3]float32
				for j := range h {
					h[j] = ga[0]*g[j] + ga[1]*g[3+j] + ga[2]*g[6+j]
				}
				for b := 0; b < alpha; b++ {
					gb := gg[b*3 : b*3+3]
					dd[(a*alpha+b)*dstride+p*mr+i] = h[0]*gb[0] + h[1]*gb[1] + h[2]*gb[2]
				}
			}
		}
	}
}

// winogradFilterTwin is winogradFilterGo as the generic path's kernel: slivers of
// the active geometry's MR rows, no non-temporal stores.
func winogradFilterTwin(dst *float32, dstride int, gm *float32, alpha int, w *float32, wrow, wcol, count, rows int, _ bool) {
	winogradFilterGo(dst, dstride, gm, alpha, w, wrow, wcol, count, rows, curGeom.mr)
}

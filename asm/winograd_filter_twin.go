package asm

import "unsafe"

// winogradFilterGo is the twin of the filter-transform kernels: for count
// positions p and lanes i, U = G·g·Gᵀ (α×α) of the 3×3 filter g at
// w[p·wstep + i·wlane] (taps row-major, contiguous), in two passes with the same
// order of operations as the assembly (which fuses its multiply-adds; only that
// rounding differs):
//
//	for p := 0; p < count; p++ {
//		for i := 0; i < lanes; i++ {
//			g := w[p*wstep+i*wlane:]
//			for a := 0; a < α; a++ {
//				var h [3]float32
//				for j := 0; j < 3; j++ {
//					h[j] = gm[a*3]*g[j] + gm[a*3+1]*g[3+j] + gm[a*3+2]*g[6+j]
//				}
//				for b := 0; b < α; b++ {
//					dst[(a*α+b)*dstride+p*dstep+i] = h[0]*gm[b*3] + h[1]*gm[b*3+1] + h[2]*gm[b*3+2]
//				}
//			}
//		}
//	}
func winogradFilterGo(dst *float32, dstride, dstep int, gm *float32, alpha int, w *float32, wlane, wstep, count, lanes int) {
	if count <= 0 || alpha <= 0 {
		return
	}
	gg := unsafe.Slice(gm, alpha*3)
	ww := unsafe.Slice(w, (count-1)*wstep+(lanes-1)*wlane+9)
	dd := unsafe.Slice(dst, (alpha*alpha-1)*dstride+(count-1)*dstep+lanes)
	for p := 0; p < count; p++ {
		for i := 0; i < lanes; i++ {
			g := ww[p*wstep+i*wlane:][:9]
			for a := 0; a < alpha; a++ {
				ga := gg[a*3 : a*3+3]
				var h [3]float32
				for j := range h {
					h[j] = ga[0]*g[j] + ga[1]*g[3+j] + ga[2]*g[6+j]
				}
				for b := 0; b < alpha; b++ {
					gb := gg[b*3 : b*3+3]
					dd[(a*alpha+b)*dstride+p*dstep+i] = h[0]*gb[0] + h[1]*gb[1] + h[2]*gb[2]
				}
			}
		}
	}
}

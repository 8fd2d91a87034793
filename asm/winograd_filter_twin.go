package asm

import "unsafe"

// winogradFilterGo is the twin of the filter-transform kernels: for count
// positions p and lanes i, the α² (n2) outputs of the 3×3 filter at
// w[p·wstep + i·wlane] (taps contiguous), each a 9-term sum in tap order (the
// assembly fuses its multiply-adds; only that rounding differs):
//
//	for p := 0; p < count; p++ {
//		for x := 0; x < n2; x++ {
//			for i := 0; i < lanes; i++ {
//				s := t[x*9] * w[p*wstep+i*wlane]
//				for j := 1; j < 9; j++ {
//					s += t[x*9+j] * w[p*wstep+i*wlane+j]
//				}
//				dst[x*dstride+p*dstep+i] = s
//			}
//		}
//	}
func winogradFilterGo(dst *float32, dstride, dstep int, t *float32, n2 int, w *float32, wlane, wstep, count, lanes int) {
	tt := unsafe.Slice(t, n2*9)
	ww := unsafe.Slice(w, (count-1)*wstep+(lanes-1)*wlane+9)
	dd := unsafe.Slice(dst, (n2-1)*dstride+(count-1)*dstep+lanes)
	for p := 0; p < count; p++ {
		for i := 0; i < lanes; i++ {
			g := ww[p*wstep+i*wlane:][:9]
			for x := 0; x < n2; x++ {
				c := tt[x*9 : x*9+9]
				s := c[0] * g[0]
				for j := 1; j < 9; j++ {
					s += c[j] * g[j]
				}
				dd[x*dstride+p*dstep+i] = s
			}
		}
	}
}

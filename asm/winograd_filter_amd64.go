//go:build amd64 && gc && !noasm && !purego

package asm

var _ = registerKernels(func(isa ISA) {
	switch isa {
	case AVX512:
		winogradFilterImpl, winogradFilterLanes = winogradFilterAVX512, 16
	case AVX2:
		winogradFilterImpl, winogradFilterLanes = winogradFilterAVX2, 8
	default:
		winogradFilterImpl, winogradFilterLanes = winogradFilterGo, 16
	}
})

// winogradFilterAVX512 is the filter transform of WinogradFilter, lane-parallel over
// up to 16 filters (gathered at stride wlane), K-masked to lanes ≤ 16. With
// multiply-adds fused:
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
//
//go:noescape
func winogradFilterAVX512(dst *float32, dstride, dstep int, gm *float32, alpha int, w *float32, wlane, wstep, count, lanes int)

// winogradFilterAVX2 is winogradFilterAVX512 on ymm registers: lanes ≤ 8.
//
//go:noescape
func winogradFilterAVX2(dst *float32, dstride, dstep int, gm *float32, alpha int, w *float32, wlane, wstep, count, lanes int)

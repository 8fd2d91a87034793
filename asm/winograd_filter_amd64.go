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
// up to 16 filters (gathered at stride wlane), K-masked to lanes ≤ 16:
//
//	for p := 0; p < count; p++ {
//		for x := 0; x < n2; x++ {
//			for i := 0; i < lanes; i++ {
//				s := t[x*9] * w[p*wstep+i*wlane]
//				for j := 1; j < 9; j++ {
//					s += t[x*9+j] * w[p*wstep+i*wlane+j] // fused multiply-add
//				}
//				dst[x*dstride+p*dstep+i] = s
//			}
//		}
//	}
//
//go:noescape
func winogradFilterAVX512(dst *float32, dstride, dstep int, t *float32, n2 int, w *float32, wlane, wstep, count, lanes int)

// winogradFilterAVX2 is winogradFilterAVX512 on ymm registers: lanes ≤ 8.
//
//go:noescape
func winogradFilterAVX2(dst *float32, dstride, dstep int, t *float32, n2 int, w *float32, wlane, wstep, count, lanes int)

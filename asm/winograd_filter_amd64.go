//go:build amd64 && gc && !noasm && !purego

package asm

import "unsafe"

var _ = registerKernels(func(isa ISA) {
	switch isa {
	case AVX512:
		winogradFilterImpl = winogradFilter512
	case AVX2:
		winogradFilterImpl = winogradFilter256
	default:
		winogradFilterImpl = winogradFilterTwin
	}
})

// wf512Rows and wf512Group are the AVX-512 geometry's MR and the positions of a
// group: 4 columns of 12 rows are three full vectors.
const (
	wf512Rows  = 12
	wf512Group = 4
)

// winogradFilter512 is winogradFilterGo (mr = 12) on AVX-512: it lays out the
// gather offsets and lane masks of a group for winogradFilterAVX512, and gives it
// the whole groups alone when they can take non-temporal stores (nt, all 12 rows,
// dst on a cache line, dstride whole cache lines).
func winogradFilter512(dst *float32, dstride int, gm *float32, alpha int, w *float32, wrow, wcol, count, rows int, nt bool) {
	if count <= 0 || rows <= 0 {
		return
	}
	if (rows-1)*wrow+wf512Group*wcol >= 1<<31 { // offsets past int32
		winogradFilterGo(dst, dstride, gm, alpha, w, wrow, wcol, count, rows, wf512Rows)
		return
	}
	// Lane f of a group's vectors (f < 48) is row f%12 of position f/12.
	var idx [wf512Rows * wf512Group]int32
	var lanes uint64
	for f := range idx {
		if i := f % wf512Rows; i < rows {
			idx[f] = int32(i*wrow + f/wf512Rows*wcol)
			lanes |= 1 << f
		}
	}
	nt = nt && rows == wf512Rows && uintptr(unsafe.Pointer(dst))%64 == 0 && dstride%16 == 0
	if full := count / wf512Group * wf512Group; nt && full > 0 {
		winogradFilterAVX512(dst, dstride, gm, alpha, w, &idx[0], wf512Group*wcol, full, lanes, lanes, true)
		if full == count {
			return
		}
		dst = (*float32)(unsafe.Add(unsafe.Pointer(dst), 4*full*wf512Rows))
		w = (*float32)(unsafe.Add(unsafe.Pointer(w), 4*full*wcol))
		count -= full
	}
	tail := count - (count-1)/wf512Group*wf512Group // positions in the last group, 1…4
	last := lanes & (1<<(wf512Rows*tail) - 1)
	winogradFilterAVX512(dst, dstride, gm, alpha, w, &idx[0], wf512Group*wcol, count, lanes, last, false)
}

// winogradFilterAVX512 computes winogradFilterGo's U (mr = 12) in groups of 4
// positions, each three vectors of 16 lanes: lane f of the group's 48 is row f%12
// of position f/12, its filter at w + idx[f] (+ g·wgroup for group g), enabled by
// bit f of lanes (of last, for the last group). A disabled lane is not read or
// written. nt stores whole vectors non-temporally: every lane must be enabled,
// count a multiple of 4, dst 64-byte aligned and dstride a multiple of 16. With
// multiply-adds fused:
//
//	for g := 0; g < (count+3)/4; g++ {
//		for f := 0; f < 48; f++ {
//			if (g < (count-1)/4 && lanes&(1<<f) == 0) || (g == (count-1)/4 && last&(1<<f) == 0) {
//				continue
//			}
//			t := w[g*wgroup+idx[f]:]
//			for a := 0; a < α; a++ {
//				var h [3]float32
//				for j := 0; j < 3; j++ {
//					h[j] = gm[a*3]*t[j] + gm[a*3+1]*t[3+j] + gm[a*3+2]*t[6+j]
//				}
//				for b := 0; b < α; b++ {
//					dst[(a*α+b)*dstride+g*48+f] = h[0]*gm[b*3] + h[1]*gm[b*3+1] + h[2]*gm[b*3+2]
//				}
//			}
//		}
//	}
//
//go:noescape
func winogradFilterAVX512(dst *float32, dstride int, gm *float32, alpha int, w *float32, idx *int32, wgroup, count int, lanes, last uint64, nt bool)

// winogradFilter256 is winogradFilterGo (mr = 6) on AVX2.
func winogradFilter256(dst *float32, dstride int, gm *float32, alpha int, w *float32, wrow, wcol, count, rows int, _ bool) {
	winogradFilterAVX2(dst, dstride, 6, gm, alpha, w, wrow, wcol, count, rows)
}

// winogradFilterAVX2 is the filter transform lane-parallel over up to 8 filters
// (gathered at stride wlane), masked to lanes ≤ 8. With multiply-adds fused:
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
func winogradFilterAVX2(dst *float32, dstride, dstep int, gm *float32, alpha int, w *float32, wlane, wstep, count, lanes int)

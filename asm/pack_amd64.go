//go:build amd64 && gc && !noasm && !purego

package asm

// The packing kernels (see packFunc), for w ≤ W ≤ 32 (AVX-512) or 16 (AVX2):
//
//	packCopy:  for p < rows: dst[p*W+j] = src[p*ld+j] for j < w, 0 for w ≤ j < W
//	packTrans: for p < rows: dst[p*W+j] = src[j*ld+p] for j < w, 0 for w ≤ j < W
//
// The transposing kernels gather with int32 offsets: (w-1)·ld must be below 2³¹/4.

//go:noescape
func packCopyAVX512(dst, src *float32, ld, rows, w, W int)

//go:noescape
func packTransAVX512(dst, src *float32, ld, rows, w, W int)

//go:noescape
func packTransAVX2(dst, src *float32, ld, rows, w, W int)

//go:noescape
func packCopyAVX2(dst, src *float32, ld, rows, w, W int)

// The panel packing kernels pack a kc×nc block of a row-major B into slivers of NR
// (32 for AVX-512, 16 for AVX2) columns, the last one zero-padded:
//
//	for p < kc, j < ceil(nc/NR)·NR:
//		dst[(j/NR)*kc*NR + p*NR + j%NR] = src[p*ld+j] if j < nc, else 0

//go:noescape
func packPanelAVX512(dst, src *float32, ld, kc, nc int)

//go:noescape
func packPanelAVX2(dst, src *float32, ld, kc, nc int)

// packTransGather512 and packTransGather2 use the gather kernels while their
// int32 offsets cannot overflow.
func packTransGather512(dst, src *float32, ld, rows, w, W int) {
	if (w-1)*ld >= 1<<29 {
		packTransGo(dst, src, ld, rows, w, W)
		return
	}
	packTransAVX512(dst, src, ld, rows, w, W)
}

func packTransGather2(dst, src *float32, ld, rows, w, W int) {
	if (w-1)*ld >= 1<<29 {
		packTransGo(dst, src, ld, rows, w, W)
		return
	}
	packTransAVX2(dst, src, ld, rows, w, W)
}

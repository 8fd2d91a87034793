//go:build amd64 && gc && !noasm && !purego

package asm

import "unsafe"

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

// packTrans12AVX512 and packTrans32AVX512 are packTrans for w = W = 12 (a full
// A sliver) and w = W = 32 (a full B sliver), over blocks·16 rows, transposing
// 16×16 tiles in registers:
//
//	for p < 16·blocks, j < W: dst[p*W+j] = src[j*ld+p]
//
//go:noescape
func packTrans12AVX512(dst, src *float32, ld, blocks int)

//go:noescape
func packTrans32AVX512(dst, src *float32, ld, blocks int)

// packTransFast512 transposes full A and B slivers in registers and the rest
// with gathers, while the gathers' int32 offsets cannot overflow.
func packTransFast512(dst, src *float32, ld, rows, w, W int) {
	if (w-1)*ld >= 1<<29 {
		packTransGo(dst, src, ld, rows, w, W)
		return
	}
	if blocks := rows / 16; blocks > 0 && w == W && (W == 12 || W == 32) {
		if W == 12 {
			packTrans12AVX512(dst, src, ld, blocks)
		} else {
			packTrans32AVX512(dst, src, ld, blocks)
		}
		done := 16 * blocks
		if done == rows {
			return
		}
		dst = (*float32)(unsafe.Add(unsafe.Pointer(dst), 4*done*W))
		src = (*float32)(unsafe.Add(unsafe.Pointer(src), 4*done))
		rows -= done
	}
	packTransAVX512(dst, src, ld, rows, w, W)
}

// packTransGather2 uses the gather kernel while its int32 offsets cannot overflow.

func packTransGather2(dst, src *float32, ld, rows, w, W int) {
	if (w-1)*ld >= 1<<29 {
		packTransGo(dst, src, ld, rows, w, W)
		return
	}
	packTransAVX2(dst, src, ld, rows, w, W)
}

// dot4x4AVX512 computes 16 dot products of length k, 4 rows of A by 4 rows of B:
//
//	for i < 4, r < 4: out[i*4+r] = Σ_{p<k} a[i*lda+p] * b[r*ldb+p]
//
//go:noescape
func dot4x4AVX512(a *float32, lda int, b *float32, ldb, k int, out *float32)

// dot4x4AVX2 is dot4x4AVX512 for AVX2.
//
//go:noescape
func dot4x4AVX2(a *float32, lda int, b *float32, ldb, k int, out *float32)

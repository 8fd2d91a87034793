//go:build amd64 && gc && !noasm && !purego

package asm

// The micro-kernels compute one MR×NR tile of C (see microKernel):
//
//	for i := 0; i < mr; i++ {
//		for j := 0; j < nr; j++ {
//			var acc float32
//			for p := 0; p < kc; p++ {
//				acc += a[p*MR+i] * b[p*ldb+j] // fused multiply-add
//			}
//			v := alpha * acc
//			if beta != 0 {
//				v += beta * c[i*ldc+j] // fused
//			}
//			c[i*ldc+j] = v
//		}
//	}
//
// a holds MR·kc floats, b kc rows of NR floats (all NR are read, whatever nr),
// c mr rows of nr floats at stride ldc; 1 ≤ mr ≤ MR, 1 ≤ nr ≤ NR, kc ≥ 1.

// sgemmKernelAVX512 is the microKernel with MR=12, NR=32.
//
//go:noescape
func sgemmKernelAVX512(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, mr, nr int)

// sgemmKernelAVX2 is the microKernel with MR=6, NR=16.
//
//go:noescape
func sgemmKernelAVX2(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, mr, nr int)

// The packing kernels (see packFunc), for w ≤ W ≤ 32 (AVX-512) or 16 (AVX2):
//
//	packCopy:  for p < rows: dst[p*W+j] = src[p*ld+j] for j < w, 0 for w ≤ j < W
//	packTrans: for p < rows: dst[p*W+j] = src[j*ld+p] for j < w, 0 for w ≤ j < W
//
// packTransAVX512 gathers with int32 offsets: (w-1)·ld must be below 2³¹/4.

//go:noescape
func packCopyAVX512(dst, src *float32, ld, rows, w, W int)

//go:noescape
func packTransAVX512(dst, src *float32, ld, rows, w, W int)

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

var avx512Geom = func() *gemmGeom {
	g := &gemmGeom{isa: AVX512, mr: 12, nr: 32, kernel: sgemmKernelAVX512,
		packCopy: packCopyAVX512, packTrans: packTransGather512, maxPackW: 32,
		packPanel: packPanelAVX512}
	g.kcMax, g.ncMax = cacheBlocking(g.mr, g.nr, 512)
	return g
}()

var avx2Geom = func() *gemmGeom {
	g := &gemmGeom{isa: AVX2, mr: 6, nr: 16, kernel: sgemmKernelAVX2,
		packCopy: packCopyAVX2, packTrans: packTransGo, maxPackW: 16,
		packPanel: packPanelAVX2}
	g.kcMax, g.ncMax = cacheBlocking(g.mr, g.nr, 256)
	return g
}()

// packTransGather512 uses the gather kernel while its int32 offsets cannot overflow.
func packTransGather512(dst, src *float32, ld, rows, w, W int) {
	if (w-1)*ld >= 1<<29 {
		packTransGo(dst, src, ld, rows, w, W)
		return
	}
	packTransAVX512(dst, src, ld, rows, w, W)
}

func geomFor(isa ISA) *gemmGeom {
	switch isa {
	case AVX512:
		return avx512Geom
	case AVX2:
		return avx2Geom
	}
	return genericGeom
}

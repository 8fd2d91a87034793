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

var avx512Geom = func() *gemmGeom {
	g := &gemmGeom{isa: AVX512, mr: 12, nr: 32, kernel: sgemmKernelAVX512,
		packCopy: packCopyAVX512, packTrans: packTransFast512, maxPackW: 32,
		packPanel: packPanelAVX512, dot4x4: dot4x4AVX512, cols: sgemmColsAVX512, colsMax: 4}
	g.kcMax, g.ncMax = cacheBlocking(g.mr, g.nr, 512)
	return g
}()

var avx2Geom = func() *gemmGeom {
	g := &gemmGeom{isa: AVX2, mr: 6, nr: 16, kernel: sgemmKernelAVX2,
		packCopy: packCopyAVX2, packTrans: packTransGather2, maxPackW: 16,
		packPanel: packPanelAVX2, dot4x4: dot4x4AVX2}
	g.kcMax, g.ncMax = cacheBlocking(g.mr, g.nr, 256)
	return g
}()

func geomFor(isa ISA) *gemmGeom {
	switch isa {
	case AVX512:
		return avx512Geom
	case AVX2:
		return avx2Geom
	}
	return genericGeom
}

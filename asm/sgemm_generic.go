package asm

import "unsafe"

// The pure-Go SGEMM path: a 4×4 micro-kernel and scalar packing. It is the
// generic path on every build (and the only one under -tags noasm or purego).

var genericGeom = func() *gemmGeom {
	g := &gemmGeom{isa: Generic, mr: 4, nr: 4, kernel: sgemmKernelGo,
		packCopy: packCopyGo, packTrans: packTransGo, maxPackW: 1 << 30,
		packPanel: packPanelGo4}
	g.kcMax, g.ncMax = cacheBlocking(g.mr, g.nr, 256)
	return g
}()

// sgemmKernelGo is the 4×4 microKernel:
//
//	for i < mr, j < nr:
//		acc := Σ_{p<kc} a[p*4+i]*b[p*ldb+j]
//		v := alpha*acc
//		if beta != 0 { v += beta*c[i*ldc+j] }
//		c[i*ldc+j] = v
func sgemmKernelGo(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, mr, nr int) {
	as := unsafe.Slice(a, 4*kc)
	bs := unsafe.Slice(b, (kc-1)*ldb+4)
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < kc; p++ {
		ap := as[4*p : 4*p+4 : 4*p+4]
		bp := bs[p*ldb : p*ldb+4 : p*ldb+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0 := ap[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := ap[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := ap[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := ap[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	acc := [16]float32{c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33}
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	for i := 0; i < mr; i++ {
		row := cs[i*ldc : i*ldc+nr]
		for j := range row {
			v := alpha * acc[i*4+j]
			if beta != 0 {
				v += beta * row[j]
			}
			row[j] = v
		}
	}
}

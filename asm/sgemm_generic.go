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

// packCopyGo is the packFunc that copies rows:
//
//	for p < rows: dst[p*W+j] = src[p*ld+j] for j < w, 0 for w ≤ j < W
func packCopyGo(dst, src *float32, ld, rows, w, W int) {
	d := unsafe.Slice(dst, rows*W)
	s := unsafe.Slice(src, (rows-1)*ld+w)
	for p := 0; p < rows; p++ {
		row := d[p*W : p*W+W]
		copy(row, s[p*ld:p*ld+w])
		clear(row[w:])
	}
}

// packTransGo is the packFunc that transposes:
//
//	for p < rows: dst[p*W+j] = src[j*ld+p] for j < w, 0 for w ≤ j < W
func packTransGo(dst, src *float32, ld, rows, w, W int) {
	d := unsafe.Slice(dst, rows*W)
	s := unsafe.Slice(src, (w-1)*ld+rows)
	if w < W {
		for p := 0; p < rows; p++ {
			clear(d[p*W+w : p*W+W])
		}
	}
	for j := 0; j < w; j++ {
		col := s[j*ld : j*ld+rows]
		for p, v := range col {
			d[p*W+j] = v
		}
	}
}

// packPanelGo4 is the panelFunc for NR = 4.
func packPanelGo4(dst, src *float32, ld, kc, nc int) { packPanelGo(dst, src, ld, kc, nc, 4) }

// packPanelGo is the panelFunc for a given NR:
//
//	for p < kc, j < ceil(nc/NR)·NR:
//		dst[(j/NR)*kc*NR + p*NR + j%NR] = src[p*ld+j] if j < nc, else 0
func packPanelGo(dst, src *float32, ld, kc, nc, nr int) {
	for j := 0; j < nc; j += nr {
		w := min(nr, nc-j)
		d := (*float32)(unsafe.Add(unsafe.Pointer(dst), 4*(j/nr)*kc*nr))
		s := (*float32)(unsafe.Add(unsafe.Pointer(src), 4*j))
		packCopyGo(d, s, ld, kc, w, nr)
	}
}

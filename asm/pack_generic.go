package asm

import "unsafe"

// The pure-Go packing kernels: the generic path's, and the twins the vector
// kernels are tested against.

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

// packPanelGo is the panelFunc for a given NR, reading B row by row:
//
//	for p < kc, j < ceil(nc/NR)·NR:
//		dst[(j/NR)*kc*NR + p*NR + j%NR] = src[p*ld+j] if j < nc, else 0
func packPanelGo(dst, src *float32, ld, kc, nc, nr int) {
	d := unsafe.Slice(dst, (nc+nr-1)/nr*kc*nr)
	s := unsafe.Slice(src, (kc-1)*ld+nc)
	for p := 0; p < kc; p++ {
		row := s[p*ld : p*ld+nc]
		for j := 0; j < nc; j += nr {
			sl := d[(j/nr)*kc*nr+p*nr:][:nr]
			clear(sl[copy(sl, row[j:min(j+nr, nc)]):])
		}
	}
}

package asm

import "unsafe"

// gradwGeneric is the pure-Go twin of the gradw kernels: GradW on operands it has
// checked, n ≥ 1 pixels whose b offsets are off[0:n].
func gradwGeneric(acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool) {
	offs := unsafe.Slice(off, n)
	as := unsafe.Slice(a, (GradWRows-1)*lda+n)
	cs := unsafe.Slice(acc, (GradWRows-1)*ldacc+GradWCols)
	var top int32
	for _, o := range offs {
		top = max(top, o)
	}
	bs := unsafe.Slice(b, int(top)+GradWCols)
	var t [GradWRows][GradWCols]float32
	if !zero {
		for i := range t {
			copy(t[i][:], cs[i*ldacc:])
		}
	}
	for p, o := range offs {
		bv := (*[GradWCols]float32)(bs[o:])
		for i := range t {
			av := as[i*lda+p]
			row := &t[i]
			for j, v := range bv {
				row[j] += av * v
			}
		}
	}
	for i := range t {
		copy(cs[i*ldacc:i*ldacc+GradWCols], t[i][:])
	}
}

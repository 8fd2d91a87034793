package asm

import "unsafe"

// gradwGeneric is the pure-Go twin of the gradw kernels (see GradW), on operands
// already checked by GradW.
func gradwGeneric(acc *float32, ldacc int, a *float32, lda int, aOff *int, b *float32, bStep int, bOff *int, rows, cols int) {
	ao, bo := unsafe.Slice(aOff, rows), unsafe.Slice(bOff, rows)
	aMax, bMax := 0, 0
	for r := range ao {
		aMax, bMax = max(aMax, ao[r]), max(bMax, bo[r])
	}
	as := unsafe.Slice(a, aMax+(GradWRows-1)*lda+cols)
	bs := unsafe.Slice(b, bMax+(cols-1)*bStep+GradWCols)
	cs := unsafe.Slice(acc, (GradWRows-1)*ldacc+GradWCols)
	var t [GradWRows][GradWCols]float32
	for i := range t {
		copy(t[i][:], cs[i*ldacc:])
	}
	for r := range ao {
		for x := 0; x < cols; x++ {
			bv := (*[GradWCols]float32)(bs[bo[r]+x*bStep:])
			for i := range t {
				av := as[ao[r]+i*lda+x]
				row := &t[i]
				for j, v := range bv {
					row[j] += av * v
				}
			}
		}
	}
	for i := range t {
		copy(cs[i*ldacc:i*ldacc+GradWCols], t[i][:])
	}
}

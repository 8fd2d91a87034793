package asm

import "unsafe"

// gradwGeneric is the pure-Go twin of the gradw kernels: GradW on operands it has
// checked, n ≥ 1 pixels whose b offsets are off[0:n].
func gradwGeneric(acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool) {
	gradwCols(GradWCols, acc, ldacc, a, lda, b, off, n, zero)
}

// gradw32Generic is the pure-Go twin of the gradw32 kernels: GradWNarrow on
// operands it has checked, n ≥ 1 pixels whose b offsets are off[0:n].
func gradw32Generic(acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool) {
	gradwCols(GradWNarrowCols, acc, ldacc, a, lda, b, off, n, zero)
}

// gradwCols is the twins' loop for a tile of GradWRows × cols (cols ≤ GradWCols).
func gradwCols(cols int, acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool) {
	offs := unsafe.Slice(off, n)
	as := unsafe.Slice(a, (GradWRows-1)*lda+n)
	cs := unsafe.Slice(acc, (GradWRows-1)*ldacc+cols)
	var top int32
	for _, o := range offs {
		top = max(top, o)
	}
	bs := unsafe.Slice(b, int(top)+cols)
	var t [GradWRows][GradWCols]float32
	for p, o := range offs {
		bv := bs[int(o) : int(o)+cols]
		for i := range t {
			av := as[i*lda+p]
			row := t[i][:cols]
			for j, v := range bv {
				row[j] += av * v
			}
		}
	}
	for i := range t {
		row := cs[i*ldacc : i*ldacc+cols]
		if zero {
			copy(row, t[i][:cols])
			continue
		}
		for j, v := range t[i][:cols] {
			row[j] += v
		}
	}
}

// gradwSumsGeneric is the pure-Go twin of the gradwSums kernels: GradWSums on
// operands it has checked, n ≥ 1 pixels, summed in float32.
func gradwSumsGeneric(a *float32, lda, n int) (s0, s1, s2, s3, s4, s5 float32) {
	as := unsafe.Slice(a, (GradWRows-1)*lda+n)
	var s [GradWRows]float32
	for i := range s {
		for _, v := range as[i*lda : i*lda+n] {
			s[i] += v
		}
	}
	return s[0], s[1], s[2], s[3], s[4], s[5]
}

// interleave16Generic is the pure-Go twin of the interleave16 kernels: Interleave16
// on operands it has checked, n ≥ 1.
func interleave16Generic(dst *float32, step int, src *float32, plane, n int) {
	d := unsafe.Slice(dst, (n-1)*step+16)
	s := unsafe.Slice(src, 15*plane+n)
	for i := 0; i < 16; i++ {
		for j, v := range s[i*plane : i*plane+n] {
			d[j*step+i] = v
		}
	}
}

// gather16Generic is the pure-Go twin of the gather16 kernels: Gather16 on
// operands it has checked, nv ≥ 1 vectors and periods ≥ 1.
func gather16Generic(dst, src *float32, idx *int32, nv, adv, periods int) {
	ix := unsafe.Slice(idx, nv*16)
	var hi int32
	for _, i := range ix {
		hi = max(hi, i)
	}
	d := unsafe.Slice(dst, periods*nv*16)
	s := unsafe.Slice(src, int(hi)+(periods-1)*adv+1)
	for p := 0; p < periods; p++ {
		sp := s[p*adv:]
		dp := d[p*nv*16 : (p+1)*nv*16]
		for k, i := range ix {
			dp[k] = sp[i]
		}
	}
}

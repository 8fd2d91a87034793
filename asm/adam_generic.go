package asm

import "math"

// adamWGeneric is the pure-Go twin of the AdamW kernel, built on every platform
// (see axpy_generic.go).
func adamWGeneric(w, g, m, v []float32, decay, b1, c1, b2, c2, negStep, bc2Sqrt, eps float32) {
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i, x := range w {
		x *= decay
		gi := g[i]
		mi := b1*m[i] + c1*gi
		vi := b2*v[i] + (c2*gi)*gi
		m[i], v[i] = mi, vi
		denom := float32(math.Sqrt(float64(vi)))/bc2Sqrt + eps
		w[i] = x + (negStep*mi)/denom
	}
}

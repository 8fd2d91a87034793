package asm

// Pure-Go twins of the SGD family, built on every platform (see axpy_generic.go).
// Each product is rounded to float32 before the addition; the assembly fuses some
// of them, so results agree to a few ulps, not bit for bit.

func sgdGeneric(w, g []float32, negLR, wd float32) {
	g = g[:len(w)]
	for i, x := range w {
		d := g[i] + wd*x
		w[i] = x + negLR*d
	}
}

func sgdMomentumGeneric(w, g, v []float32, negLR, wd, mu, c float32) {
	g, v = g[:len(w)], v[:len(w)]
	for i, x := range w {
		d := g[i] + wd*x
		m := mu*v[i] + c*d
		v[i] = m
		w[i] = x + negLR*m
	}
}

func sgdNesterovGeneric(w, g, v []float32, negLR, wd, mu, c float32) {
	g, v = g[:len(w)], v[:len(w)]
	for i, x := range w {
		d := g[i] + wd*x
		m := mu*v[i] + c*d
		v[i] = m
		w[i] = x + negLR*(d+mu*m)
	}
}

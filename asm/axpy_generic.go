package asm

// Pure-Go twins of the axpy family. They are built on every platform: they are the
// fallback without assembly and the Generic path that SetImpl selects on amd64.

func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func axpbyGeneric(alpha float32, x []float32, beta float32, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = alpha*v + beta*y[i]
	}
}

func scaleGeneric(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

func sumSquaresGeneric(x []float32) float64 {
	var s float64
	for _, v := range x {
		d := float64(v)
		s += d * d
	}
	return s
}

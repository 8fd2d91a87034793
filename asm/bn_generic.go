package asm

// scaleShiftGeneric is the pure-Go twin of the scale-shift kernels:
// dst[i] = (src[i]-m)*a + b.
func scaleShiftGeneric(dst, src []float32, m, a, b float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = (v-m)*a + b
	}
}

// sumSqGeneric is the pure-Go twin of the sum / sum-of-squares kernels.
func sumSqGeneric(x []float32) (sum, sumSq float64) {
	for _, v := range x {
		d := float64(v)
		sum += d
		sumSq += d * d
	}
	return sum, sumSq
}

// sumDotGeneric is the pure-Go twin of the Σdy / Σdy·x kernels.
func sumDotGeneric(dy, x []float32) (sumDy, sumDyX float64) {
	dy = dy[:len(x)]
	for i, v := range x {
		d := float64(dy[i])
		sumDy += d
		sumDyX += d * float64(v)
	}
	return sumDy, sumDyX
}

// axpbycGeneric is the pure-Go twin of the a·dy + b·(x−m) + c kernels.
func axpbycGeneric(dst, dy, x []float32, m, a, b, c float32) {
	dst, dy = dst[:len(x)], dy[:len(x)]
	for i, v := range x {
		dst[i] = a*dy[i] + (b*(v-m) + c)
	}
}

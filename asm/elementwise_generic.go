package asm

// dotGeneric is the pure-Go twin of the dot kernels, with the same eight partial
// sums (lane i mod 8) as the AVX2 path.
func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var acc [8]float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		for l := range acc {
			acc[l] += a[i+l] * b[i+l]
		}
	}
	var s float32
	for ; i < len(a); i++ {
		s += a[i] * b[i]
	}
	for _, v := range acc {
		s += v
	}
	return s
}

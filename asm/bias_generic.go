package asm

// biasGeneric is the pure-Go twin of the bias kernels: x[i] += b.
func biasGeneric(x []float32, b float32) {
	for i := range x {
		x[i] += b
	}
}

// biasReLUGeneric is the pure-Go twin of the fused bias+ReLU kernels:
// x[i] = max(x[i]+b, 0), NaN kept.
func biasReLUGeneric(x []float32, b float32) {
	for i := range x {
		v := x[i] + b
		if v < 0 {
			v = 0
		}
		x[i] = v
	}
}

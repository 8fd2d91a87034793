package asm

// reluGeneric is the pure-Go twin of the ReLU kernels: dst[i] = max(src[i], 0),
// keeping NaN and -0 like VMAXPS with src as the second source.
func reluGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		if v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

// reluBackwardGeneric is the pure-Go twin of the ReLU backward kernels:
// dx[i] = dy[i] unless y[i] <= 0.
func reluBackwardGeneric(dx, dy, y []float32) {
	dx, dy = dx[:len(y)], dy[:len(y)]
	for i, v := range y {
		if v <= 0 {
			dx[i] = 0
		} else {
			dx[i] = dy[i]
		}
	}
}

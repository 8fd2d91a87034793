package asm

var (
	reluKernel     = reluGeneric
	reluBackKernel = reluBackwardGeneric
)

// ReLU sets dst[i] = max(src[i], 0) for i < len(src). NaN stays NaN (as in PyTorch)
// and -0 stays -0. dst may be src (in place); len(dst) must be ≥ len(src).
func ReLU(dst, src []float32) {
	n := len(src)
	dst = dst[:n]
	ewRead(src)
	ewWrite(dst)
	for lo := 0; lo < n; lo += ewChunk {
		hi := min(n, lo+ewChunk)
		reluKernel(dst[lo:hi], src[lo:hi])
	}
}

// ReLUBackward sets dx[i] = dy[i] where y[i] > 0 or y[i] is NaN, else 0, for
// i < len(y): the gradient of ReLU taken from its output y, as PyTorch's
// threshold_backward does. dx may be dy (in place).
func ReLUBackward(dx, dy, y []float32) {
	n := len(y)
	dx, dy = dx[:n], dy[:n]
	ewRead(dy)
	ewRead(y)
	ewWrite(dx)
	for lo := 0; lo < n; lo += ewChunk {
		hi := min(n, lo+ewChunk)
		reluBackKernel(dx[lo:hi], dy[lo:hi], y[lo:hi])
	}
}

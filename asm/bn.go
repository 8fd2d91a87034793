package asm

var (
	scaleShiftKernel = scaleShiftGeneric
	sumSqKernel      = sumSqGeneric
	sumDotKernel     = sumDotGeneric
	axpbycKernel     = axpbycGeneric
)

// ScaleShift sets dst[i] = (src[i] − m)·a + b for i < len(src) (a subtraction and
// one fused multiply-add on the SIMD paths): batch norm's normalize pass for one
// channel. Centring first, as PyTorch does, keeps full precision when the mean is
// large against the spread. dst may be src.
func ScaleShift(dst, src []float32, m, a, b float32) {
	n := len(src)
	dst = dst[:n]
	ewRead(src)
	ewWrite(dst)
	for lo := 0; lo < n; lo += ewChunk {
		hi := min(n, lo+ewChunk)
		scaleShiftKernel(dst[lo:hi], src[lo:hi], m, a, b)
	}
}

// SumSq returns Σx[i] and Σx[i]², accumulated in float64 so that the batch-norm
// variance E[x²]−E[x]² of a large channel keeps float32 accuracy.
func SumSq(x []float32) (sum, sumSq float64) {
	ewRead(x)
	for lo := 0; lo < len(x); lo += ewChunk {
		s, q := sumSqKernel(x[lo:min(len(x), lo+ewChunk)])
		sum += s
		sumSq += q
	}
	return sum, sumSq
}

// SumDot returns Σdy[i] and Σdy[i]·x[i] over i < len(x), accumulated in float64:
// batch norm's backward reductions for one channel.
func SumDot(dy, x []float32) (sumDy, sumDyX float64) {
	n := len(x)
	dy = dy[:n]
	ewRead(dy)
	ewRead(x)
	for lo := 0; lo < n; lo += ewChunk {
		hi := min(n, lo+ewChunk)
		s, d := sumDotKernel(dy[lo:hi], x[lo:hi])
		sumDy += s
		sumDyX += d
	}
	return sumDy, sumDyX
}

// AxpByC sets dst[i] = a·dy[i] + b·(x[i] − m) + c for i < len(x): batch norm's
// backward input gradient for one channel. dst may be dy or x.
func AxpByC(dst, dy, x []float32, m, a, b, c float32) {
	n := len(x)
	dst, dy = dst[:n], dy[:n]
	ewRead(dy)
	ewRead(x)
	ewWrite(dst)
	for lo := 0; lo < n; lo += ewChunk {
		hi := min(n, lo+ewChunk)
		axpbycKernel(dst[lo:hi], dy[lo:hi], x[lo:hi], m, a, b, c)
	}
}

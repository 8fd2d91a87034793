package asm

import "fmt"

// The vector kernels below work on slices of any length. Each exported function
// splits its work into chunks of at most vecChunk elements, so that a single
// assembly call stays far below a millisecond (the Go runtime cannot preempt it).
const vecChunk = 1 << 15

// Kernel variables of the axpy family, pointed at one ISA path by setKernels.
var (
	axpyImpl  = axpyGeneric
	axpbyImpl = axpbyGeneric
	scaleImpl = scaleGeneric
	sumSqImpl = sumSquaresGeneric
)

// checkVecLen panics if y is shorter than x. A length mismatch here is a bug in the
// calling package, never user input: callers validate tensor shapes first.
func checkVecLen(kernel, name string, nx, ny int) {
	if ny < nx {
		panic(fmt.Sprintf("asm.%s: len(%s)=%d is less than len(x)=%d", kernel, name, ny, nx))
	}
}

// Axpy computes y[i] += alpha·x[i] for i < len(x). y must be at least as long as x.
func Axpy(alpha float32, x, y []float32) {
	checkVecLen("Axpy", "y", len(x), len(y))
	raceReadVec(x)
	raceWriteVec(y[:len(x)])
	for len(x) > 0 {
		n := min(len(x), vecChunk)
		axpyImpl(alpha, x[:n], y[:n])
		x, y = x[n:], y[n:]
	}
}

// Axpby computes y[i] = alpha·x[i] + beta·y[i] for i < len(x). y must be at least as
// long as x. An exponential moving average is Axpby(1-d, w, d, ema).
func Axpby(alpha float32, x []float32, beta float32, y []float32) {
	checkVecLen("Axpby", "y", len(x), len(y))
	raceReadVec(x)
	raceWriteVec(y[:len(x)])
	for len(x) > 0 {
		n := min(len(x), vecChunk)
		axpbyImpl(alpha, x[:n], beta, y[:n])
		x, y = x[n:], y[n:]
	}
}

// Scale computes x[i] *= alpha.
func Scale(alpha float32, x []float32) {
	raceWriteVec(x)
	for len(x) > 0 {
		n := min(len(x), vecChunk)
		scaleImpl(alpha, x[:n])
		x = x[n:]
	}
}

// SumSquares returns Σ x[i]², accumulated in float64 so that the sum over a whole
// network's gradients (10⁸ elements) keeps float32 precision. NaN and Inf propagate.
func SumSquares(x []float32) float64 {
	raceReadVec(x)
	var s float64
	for len(x) > 0 {
		n := min(len(x), vecChunk)
		s += sumSqImpl(x[:n])
		x = x[n:]
	}
	return s
}

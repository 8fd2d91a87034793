package conv

import "fmt"

// Algorithm names a way to compute a convolution.
type Algorithm int

const (
	Auto        Algorithm = iota // chosen per shape by the planner
	Im2col                       // implicit GEMM: im2col panels built inside the GEMM's packing
	WinogradF23                  // Winograd F(2×2,3×3)
	WinogradF43                  // Winograd F(4×4,3×3), points {0, ±√2, ±√2/2, ∞}
	WinogradF63                  // Winograd F(6×6,3×3)
)

var algorithmNames = [...]string{"auto", "im2col", "winograd-f23", "winograd-f43", "winograd-f63"}

func (a Algorithm) String() string {
	if a >= 0 && int(a) < len(algorithmNames) {
		return algorithmNames[a]
	}
	return fmt.Sprintf("Algorithm(%d)", int(a))
}

// ParseAlgorithm maps a name such as "im2col" or "winograd-f43" to an Algorithm.
func ParseAlgorithm(s string) (Algorithm, error) {
	for i, n := range algorithmNames {
		if n == s {
			return Algorithm(i), nil
		}
	}
	return Auto, fmt.Errorf("conv: unknown algorithm %q (want one of %v)", s, algorithmNames)
}

// kernel is one algorithm's implementation of a forward convolution for a fixed
// geometry. A Plan owns one (and a second on the transposed, rotated weights for the
// backward-data pass where the algorithm allows it).
type kernel interface {
	// setWeights prepares the algorithm's form of w (K×C×R×S) and bias (K, or nil):
	// packed panels, transformed tiles. It is called again after every optimizer step.
	setWeights(w, bias []float32)
	// forward computes y = conv(x) + bias for a batch of n, optionally followed by
	// ReLU; it allocates nothing after the first call with the same n.
	forward(y, x []float32, n int, relu bool)
	// weightBytes is the memory held by the prepared weights.
	weightBytes() int
}

// winogradKernels builds the Winograd kernels, keyed by algorithm; the Winograd
// files register their constructors here.
var winogradKernels = map[Algorithm]func(g Geometry) (kernel, error){}

package asm

var (
	biasKernel     = biasGeneric
	biasReLUKernel = biasReLUGeneric
)

// AddBias adds b[c] to the c-th of len(b) consecutive planes of hw elements of x
// (an NCHW image's channels), in place, and then applies ReLU (NaN kept) when relu
// is set. len(x) must be ≥ len(b)·hw.
func AddBias(x, b []float32, hw int, relu bool) {
	ewRead(b)
	ewWrite(x[:len(b)*hw])
	k := biasKernel
	if relu {
		k = biasReLUKernel
	}
	for c, bc := range b {
		plane := x[c*hw : (c+1)*hw]
		for lo := 0; lo < hw; lo += ewChunk {
			k(plane[lo:min(hw, lo+ewChunk)], bc)
		}
	}
}

package asm

var (
	maxPool2x2Kernel     = maxPool2x2Generic
	maxPool2x2BackKernel = maxPool2x2BackwardGeneric
)

// MaxPool2x2 is the 2×2, stride-2 max pooling of one h×w plane x into the
// (h/2)×(w/2) plane y (floor mode: an odd last row or column is dropped). idx[o]
// receives the index in x (row·w + col) of the element chosen for y[o]. The window
// is scanned row by row; a later element replaces the maximum when it is greater or
// NaN, so ties keep the first and NaN propagates, exactly like PyTorch.
func MaxPool2x2(y []float32, idx []int32, x []float32, h, w int) {
	oh, ow := h/2, w/2
	if oh == 0 || ow == 0 {
		return
	}
	ewRead(x[:h*w])
	ewWrite(y[:oh*ow])
	ewWriteIdx(idx[:oh*ow])
	// A band of rows keeps each asm call bounded.
	rows := max(1, ewChunk/(4*ow))
	for r := 0; r < oh; r += rows {
		e := min(oh, r+rows)
		maxPool2x2Kernel(y[r*ow:e*ow], idx[r*ow:e*ow], x[2*r*w:], int32(2*r*w), w, e-r, ow)
	}
}

// MaxPool2x2Backward writes the gradient of MaxPool2x2 for one plane: dx[idx[o]] =
// dy[o], and 0 everywhere else in the h×w plane dx (including an odd last row or
// column). The 2×2 windows do not overlap, so every dx element gets at most one dy.
// idx must come from MaxPool2x2 with the same h and w.
func MaxPool2x2Backward(dx []float32, idx []int32, dy []float32, h, w int) {
	maxPool2x2Backward(dx, idx, dy, nil, h, w)
}

// MaxPool2x2BackwardMasked is MaxPool2x2Backward through a ReLU before the pool: y
// is MaxPool2x2's output (the chosen input of each window), and dx[idx[o]] = dy[o]
// where y[o] > 0 or is NaN, 0 where y[o] ≤ 0. Since y[o] is the pool input at
// idx[o], that is bit for bit ReLUBackward(dx, dx, x) after MaxPool2x2Backward,
// with x the pool's input, in one pass that reads a quarter of x's size.
func MaxPool2x2BackwardMasked(dx []float32, idx []int32, dy, y []float32, h, w int) {
	maxPool2x2Backward(dx, idx, dy, y[:(h/2)*(w/2)], h, w)
}

// maxPool2x2Backward is MaxPool2x2Backward, masked by y unless y is nil.
func maxPool2x2Backward(dx []float32, idx []int32, dy, y []float32, h, w int) {
	oh, ow := h/2, w/2
	_ = dx[:h*w]
	if oh == 0 || ow == 0 {
		clear(dx[:h*w])
		return
	}
	ewReadIdx(idx[:oh*ow])
	ewRead(dy[:oh*ow])
	if y != nil {
		ewRead(y[:oh*ow])
	}
	ewWrite(dx[:h*w])
	rows := max(1, ewChunk/(4*ow))
	for r := 0; r < oh; r += rows {
		e := min(oh, r+rows)
		var yr []float32
		if y != nil {
			yr = y[r*ow : e*ow]
		}
		maxPool2x2BackKernel(dx[2*r*w:], idx[r*ow:e*ow], dy[r*ow:e*ow], yr, int32(2*r*w), w, e-r, ow)
	}
	if w&1 != 0 {
		for r := 0; r < 2*oh; r++ {
			dx[r*w+w-1] = 0
		}
	}
	if h&1 != 0 {
		clear(dx[(h-1)*w : h*w])
	}
}

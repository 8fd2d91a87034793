package asm

// maxPool2x2Generic is the pure-Go twin of the 2×2/2 max-pool kernels. It pools
// rows output rows of ow outputs: output row r reads input rows 2r and 2r+1 of x
// (row stride w); base is the plane index of x[0], added to the recorded indices.
func maxPool2x2Generic(y []float32, idx []int32, x []float32, base int32, w, rows, ow int) {
	maxPool2x2Cols(y, idx, x, base, w, rows, ow, 0)
}

// maxPool2x2Cols is maxPool2x2Generic for output columns j0 … ow−1 only.
func maxPool2x2Cols(y []float32, idx []int32, x []float32, base int32, w, rows, ow, j0 int) {
	for r := 0; r < rows; r++ {
		r0 := x[2*r*w : 2*r*w+2*ow]
		r1 := x[(2*r+1)*w : (2*r+1)*w+2*ow]
		i0 := base + int32(2*r*w)
		yr, ir := y[r*ow:(r+1)*ow], idx[r*ow:(r+1)*ow]
		for j := j0; j < ow; j++ {
			m, k := r0[2*j], i0+int32(2*j)
			if v := r0[2*j+1]; v > m || v != v {
				m, k = v, i0+int32(2*j+1)
			}
			if v := r1[2*j]; v > m || v != v {
				m, k = v, i0+int32(w+2*j)
			}
			if v := r1[2*j+1]; v > m || v != v {
				m, k = v, i0+int32(w+2*j+1)
			}
			yr[j], ir[j] = m, k
		}
	}
}

// maxPool2x2BackwardGeneric is the pure-Go twin of the 2×2/2 max-pool backward
// kernels: for rows output rows it writes the 2 input rows of dx under them (the
// first 2·ow columns), dy where idx points and 0 elsewhere; with y (the pool's
// output, row stride ow) non-empty, dy only where y > 0 or is NaN. base is the
// plane index of dx[0].
func maxPool2x2BackwardGeneric(dx []float32, idx []int32, dy, y []float32, base int32, w, rows, ow int) {
	maxPool2x2BackwardCols(dx, idx, dy, y, base, w, rows, ow, 0)
}

// maxPool2x2BackwardCols is maxPool2x2BackwardGeneric for output columns j0 … ow−1
// only.
func maxPool2x2BackwardCols(dx []float32, idx []int32, dy, y []float32, base int32, w, rows, ow, j0 int) {
	for r := 0; r < rows; r++ {
		d0 := dx[2*r*w : 2*r*w+2*ow]
		d1 := dx[(2*r+1)*w : (2*r+1)*w+2*ow]
		i0 := base + int32(2*r*w)
		for j := j0; j < ow; j++ {
			g, k := dy[r*ow+j], idx[r*ow+j]-i0-int32(2*j)
			if len(y) != 0 && y[r*ow+j] <= 0 {
				g = 0
			}
			d0[2*j], d0[2*j+1], d1[2*j], d1[2*j+1] = 0, 0, 0, 0
			switch k {
			case 0:
				d0[2*j] = g
			case 1:
				d0[2*j+1] = g
			case int32(w):
				d1[2*j] = g
			case int32(w) + 1:
				d1[2*j+1] = g
			}
		}
	}
}

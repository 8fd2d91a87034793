package asm

import "fmt"

// GradWRows × GradWCols is the tile of a convolution's weight gradient that GradW
// accumulates: GradWRows output channels (broadcast, read from NCHW planes) by
// GradWCols input channels (vectors, read from a channels-last image).
const (
	GradWRows = 6
	GradWCols = 64
)

// gradwMaxPixels bounds one assembly call to about 10 µs of work.
const gradwMaxPixels = 4096

var gradwImpl = gradwGeneric

// GradW accumulates one GradWRows×GradWCols tile of a weight gradient, a sum of
// outer products over pixels that both operands stream without any transpose:
//
//	for r := range aOff {
//		for x := 0; x < cols; x++ {
//			for i := 0; i < GradWRows; i++ {
//				for j := 0; j < GradWCols; j++ {
//					acc[i*ldacc+j] += a[aOff[r]+i*lda+x] * b[bOff[r]+x*bStep+j]
//				}
//			}
//		}
//	}
//
// In a convolution's dW = Σ dY·col(X)ᵀ, a is dY in NCHW (lda is the plane size, row r
// of the reduction an output row of cols pixels) and b is a zero-padded
// channels-last copy of X, bOff[r] the start of the input row that output row reads
// for one kernel tap and bStep the stride between its pixels. Each acc element is
// summed over r then x, one fused multiply-add a term on the AVX paths (so AVX2 and
// AVX-512 agree bit for bit). Operands out of range are a bug in the caller and
// panic with a message naming them.
func GradW(acc []float32, ldacc int, a []float32, lda int, aOff []int, b []float32, bStep int, bOff []int, cols int) {
	if err := checkGradW(len(acc), ldacc, len(a), lda, aOff, len(b), bStep, bOff, cols); err != nil {
		panic(err)
	}
	if len(aOff) == 0 || cols == 0 {
		return
	}
	if raceEnabled {
		raceGradW(acc, ldacc, a, lda, aOff, b, bStep, bOff, cols)
	}
	step := max(1, gradwMaxPixels/cols)
	for r := 0; r < len(aOff); r += step {
		n := min(step, len(aOff)-r)
		gradwImpl(&acc[0], ldacc, &a[0], lda, &aOff[r], &b[0], bStep, &bOff[r], n, cols)
	}
}

func checkGradW(lacc, ldacc, la, lda int, aOff []int, lb, bStep int, bOff []int, cols int) error {
	switch {
	case len(aOff) != len(bOff):
		return fmt.Errorf("asm.GradW: %d a row offsets but %d b row offsets", len(aOff), len(bOff))
	case cols < 0 || lda < 0 || bStep < 0 || ldacc < GradWCols:
		return fmt.Errorf("asm.GradW: bad strides cols=%d lda=%d bStep=%d ldacc=%d", cols, lda, bStep, ldacc)
	case lacc < (GradWRows-1)*ldacc+GradWCols:
		return fmt.Errorf("asm.GradW: acc has %d elements, needs %d for %d rows of stride %d", lacc, (GradWRows-1)*ldacc+GradWCols, GradWRows, ldacc)
	}
	if len(aOff) == 0 || cols == 0 {
		return nil
	}
	aSpan, bSpan := (GradWRows-1)*lda+cols, (cols-1)*bStep+GradWCols
	for r, ao := range aOff {
		if bo := bOff[r]; ao < 0 || ao+aSpan > la || bo < 0 || bo+bSpan > lb {
			return fmt.Errorf("asm.GradW: row %d reads a[%d:%d] (len %d) and b[%d:%d] (len %d)", r, ao, ao+aSpan, la, bo, bo+bSpan, lb)
		}
	}
	return nil
}

package asm

import (
	"fmt"
	"math"
)

// GradWRows × GradWCols is the tile of a convolution's weight gradient that GradW
// accumulates: GradWRows output channels (broadcast, read from NCHW planes) by
// GradWCols input channels (vectors, read from a channels-last image).
const (
	GradWRows = 6
	GradWCols = 64
)

// GradWNarrowCols is the width of GradWNarrow's tile.
const GradWNarrowCols = 32

// gradwMaxPixels bounds one assembly call to about 10 µs of work.
const gradwMaxPixels = 4096

var gradwImpl, gradw32Impl = gradwGeneric, gradw32Generic

// GradWTable lists where each pixel of a reduction reads its GradWCols floats of
// the b operand of GradW. It is checked once, when made, so that GradW's checks
// do not grow with the pixels of a call.
type GradWTable struct {
	off []int32
	max int
}

// NewGradWTable copies off, the offset into b of each pixel.
func NewGradWTable(off []int) (*GradWTable, error) {
	t := &GradWTable{off: make([]int32, len(off))}
	for p, o := range off {
		if o < 0 || o > math.MaxInt32 {
			return nil, fmt.Errorf("asm.NewGradWTable: pixel %d has offset %d, outside [0, 2³¹)", p, o)
		}
		t.off[p] = int32(o)
		t.max = max(t.max, o)
	}
	return t, nil
}

// Len returns the number of pixels in t.
func (t *GradWTable) Len() int { return len(t.off) }

// GradW accumulates one GradWRows×GradWCols tile of a weight gradient over pixels
// [lo, hi) of tab, a sum of outer products that both operands stream without any
// transpose:
//
//	for i := 0; i < GradWRows; i++ {
//		for j := 0; j < GradWCols; j++ {
//			var s float32
//			for p := lo; p < hi; p++ {
//				s += a[i*lda+p-lo] * b[tab.off[p]+j]
//			}
//			if zero {
//				acc[i*ldacc+j] = s
//			} else {
//				acc[i*ldacc+j] += s
//			}
//		}
//	}
//
// In a convolution's dW = Σ dY·col(X)ᵀ, a is dY in NCHW (six planes lda apart,
// contiguous along the pixels), and b a zero-padded channels-last copy of X seen
// from one kernel tap, tab.off[p] the input pixel that output pixel p reads. The
// AVX paths add one fused multiply-add a term, in the loop's order, so AVX2 and
// AVX-512 agree bit for bit. The sum starts from zero and is added to acc once, as
// a GEMM sums a k-block: a reduction split into calls of a few hundred pixels is
// summed blockwise, with a float32 error that grows with the block and the number
// of blocks rather than with the whole reduction. (A call longer than 4096
// pixels is split into such blocks.) Operands out of range are a bug in the
// caller and panic with a message naming them.
func GradW(acc []float32, ldacc int, a []float32, lda int, b []float32, tab *GradWTable, lo, hi int, zero bool) {
	gradw("GradW", GradWCols, gradwImpl, acc, ldacc, a, lda, b, tab, lo, hi, zero)
}

// GradWNarrow is GradW for a tile of GradWRows × GradWNarrowCols, reading
// GradWNarrowCols floats a pixel of b, at twice GradW's pixel rate: for reductions
// of at most 32 columns, such as a first layer's 3×3×3 taps. Its sums are GradW's
// first 32 columns, bit for bit.
func GradWNarrow(acc []float32, ldacc int, a []float32, lda int, b []float32, tab *GradWTable, lo, hi int, zero bool) {
	gradw("GradWNarrow", GradWNarrowCols, gradw32Impl, acc, ldacc, a, lda, b, tab, lo, hi, zero)
}

// gradw checks the operands of a tile of GradWRows × cols and runs impl on them.
func gradw(name string, cols int, impl func(acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool),
	acc []float32, ldacc int, a []float32, lda int, b []float32, tab *GradWTable, lo, hi int, zero bool) {
	n := hi - lo
	switch {
	case lo < 0 || lo > hi || hi > len(tab.off):
		panic(fmt.Sprintf("asm.%s: pixels [%d, %d) outside the table's %d", name, lo, hi, len(tab.off)))
	case ldacc < cols || len(acc) < (GradWRows-1)*ldacc+cols:
		panic(fmt.Sprintf("asm.%s: acc has %d elements, needs %d rows of stride %d ≥ %d", name, len(acc), GradWRows, ldacc, cols))
	case n > 0 && (lda < 0 || len(a) < (GradWRows-1)*lda+n):
		panic(fmt.Sprintf("asm.%s: a has %d elements, needs %d planes of stride %d holding %d pixels", name, len(a), GradWRows, lda, n))
	case n > 0 && len(b) < tab.max+cols:
		panic(fmt.Sprintf("asm.%s: b has %d elements, the table reads up to %d", name, len(b), tab.max+cols))
	}
	if raceEnabled {
		raceGradW(cols, acc, ldacc, a, lda, b, tab, lo, hi)
	}
	if n == 0 {
		if zero {
			for i := 0; i < GradWRows; i++ {
				clear(acc[i*ldacc : i*ldacc+cols])
			}
		}
		return
	}
	for p := lo; p < hi; p += gradwMaxPixels {
		m := min(gradwMaxPixels, hi-p)
		impl(&acc[0], ldacc, &a[p-lo], lda, &b[0], &tab.off[p], m, zero)
		zero = false
	}
}

var gradwSumsImpl = gradwSumsGeneric

// GradWSums returns the sum of each of the GradWRows planes of a GradW call's a
// operand over n pixels,
//
//	for i := 0; i < GradWRows; i++ {
//		for p := 0; p < n; p++ {
//			s[i] += a[i*lda+p]
//		}
//	}
//
// a convolution's bias gradient, taken right after GradW while the planes are in
// L1. Each block of up to 4096 pixels is summed in float32 vector lanes (an error
// that grows with the block, as GradW's), the blocks in float64. Operands out of
// range are a bug in the caller and panic with a message naming them.
func GradWSums(a []float32, lda, n int) (s [GradWRows]float64) {
	if n <= 0 {
		return s
	}
	if lda < 0 || len(a) < (GradWRows-1)*lda+n {
		panic(fmt.Sprintf("asm.GradWSums: a has %d elements, needs %d planes of stride %d holding %d pixels", len(a), GradWRows, lda, n))
	}
	if raceEnabled {
		for i := 0; i < GradWRows; i++ {
			raceReadVec(a[i*lda : i*lda+n])
		}
	}
	for p := 0; p < n; p += gradwMaxPixels {
		s0, s1, s2, s3, s4, s5 := gradwSumsImpl(&a[p], lda, min(gradwMaxPixels, n-p))
		s[0], s[1], s[2] = s[0]+float64(s0), s[1]+float64(s1), s[2]+float64(s2)
		s[3], s[4], s[5] = s[3]+float64(s3), s[4]+float64(s4), s[5]+float64(s5)
	}
	return s
}

var interleave16Impl = interleave16Generic

// Interleave16 copies 16 planes into pixels of 16 channels, a piece of a
// channels-last copy of an NCHW image:
//
//	for j := 0; j < n; j++ {
//		for i := 0; i < 16; i++ {
//			dst[j*step+i] = src[i*plane+j]
//		}
//	}
//
// Operands out of range are a bug in the caller and panic with a message naming
// them.
func Interleave16(dst []float32, step int, src []float32, plane, n int) {
	switch {
	case n <= 0:
		return
	case step < 16 || len(dst) < (n-1)*step+16:
		panic(fmt.Sprintf("asm.Interleave16: dst has %d elements, needs %d pixels of step %d ≥ 16", len(dst), n, step))
	case plane < 0 || plane > math.MaxInt32/16 || len(src) < 15*plane+n:
		panic(fmt.Sprintf("asm.Interleave16: src has %d elements, needs 16 planes of %d floats %d apart", len(src), n, plane))
	}
	if raceEnabled {
		raceInterleave16(dst, step, src, plane, n)
	}
	for j := 0; j < n; j += vecChunk {
		m := min(vecChunk, n-j)
		interleave16Impl(&dst[j*step], step, &src[j], plane, m)
	}
}

var gather16Impl = gather16Generic

// Gather16Table holds the index vectors of Gather16, checked once when made.
type Gather16Table struct {
	idx []int32
	max int
}

// NewGather16Table copies idx, whose length must be a positive multiple of 16 and
// whose entries must be non-negative.
func NewGather16Table(idx []int32) (*Gather16Table, error) {
	if len(idx) == 0 || len(idx)%16 != 0 {
		return nil, fmt.Errorf("asm.NewGather16Table: %d indices, not a positive multiple of 16", len(idx))
	}
	t := &Gather16Table{idx: append([]int32(nil), idx...)}
	for k, i := range idx {
		if i < 0 {
			return nil, fmt.Errorf("asm.NewGather16Table: index %d is negative (%d)", k, i)
		}
		t.max = max(t.max, int(i))
	}
	return t, nil
}

// Gather16 copies src into dst through the index vectors of t, repeated with a
// shift: dst is periods runs of len(idx) floats, and run p reads src shifted by
// p·adv,
//
//	nv := len(idx) / 16
//	for p := 0; p < periods; p++ {
//		for v := 0; v < nv; v++ {
//			for l := 0; l < 16; l++ {
//				dst[(p*nv+v)*16+l] = src[p*adv+idx[v*16+l]]
//			}
//		}
//	}
//
// A backward-filter's final transpose of each filter's [tap][c] partial into
// PyTorch's [c][tap] is one such call. Operands out of range are a bug in the
// caller and panic with a message naming them.
func Gather16(dst, src []float32, t *Gather16Table, adv, periods int) {
	if periods <= 0 {
		return
	}
	n := len(t.idx)
	switch {
	case adv < 0 || len(src) <= t.max+(periods-1)*adv:
		panic(fmt.Sprintf("asm.Gather16: src has %d elements, reads up to %d", len(src), t.max+(periods-1)*adv))
	case len(dst) < periods*n:
		panic(fmt.Sprintf("asm.Gather16: dst has %d elements, needs %d", len(dst), periods*n))
	}
	if raceEnabled {
		raceReadVec(src[:t.max+(periods-1)*adv+1])
		raceWriteVec(dst[:periods*n])
	}
	// About vecChunk floats an assembly call.
	step := max(1, vecChunk/n)
	for p := 0; p < periods; p += step {
		gather16Impl(&dst[p*n], &src[p*adv], &t.idx[0], n/16, adv, min(step, periods-p))
	}
}

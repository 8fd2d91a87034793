package asm

import (
	"fmt"
	"unsafe"
)

// winogradFilterImpl is the active path's filter-transform kernel: winogradFilterGo
// with mr the active geometry's MR, rows ≤ mr. nt asks for non-temporal stores
// where the path has them and the layout allows.
var winogradFilterImpl func(dst *float32, dstride int, gm *float32, alpha int, w *float32, wrow, wcol, count, rows int, nt bool)

// WinogradFilter holds the weight transform U = G·g·Gᵀ of a Winograd F(m×m, 3×3)
// convolution as α² matrices U[ξ] (ξ = a·α+b, α = m+2), each packed as the left
// operand of one of the convolution's GEMMs.
//
// For filters w (K×C×3×3), U[ξ] is K×C: U[ξ][k][c] = (G·w[k][c]·Gᵀ)[a][b]. A
// transposed filter holds instead the U of the backward-data convolution, whose
// filters are w's rotated by 180° with C and K swapped: U[ξ] is C×K,
// U[ξ][c][k] = (G·rot180(w[k][c])·Gᵀ)[a][b]. Both are computed straight from w.
//
// Set writes the transform into the GEMM's panel layout directly, lane-parallel
// over a panel's rows, with no intermediate matrix and no repacking: training
// sets new weights every step, and the α² matrices are α²/9 times w's size. Each
// filter is transformed in two passes, H = G·g then U = H·Gᵀ (3α² + 9α
// multiply-adds, about half the 9α² of a 9-term sum per element), with G rounded
// to float32. Matrices larger than a core's L2 are written with non-temporal
// stores where the path has them: in a training step the previous Set's U has
// left the cache, and ordinary stores would first read every line back from
// memory (on the development VM, VGG-16's 470 MB of U per step went from 8–9 to
// about 12 GB/s on one core). Smaller ones stay in L2 for the GEMM that follows.
type WinogradFilter struct {
	alpha      int
	k, c       int // of the filters w
	rows, cols int // of each U[ξ]
	transposed bool
	gm         []float32 // G (α×3) in float32; G·J (columns reversed) when transposed
	u          []*PackedA
	panels     []*aPanels // u's panels, all in buf
	buf        []float32
	stride     int  // floats between the panels of consecutive ξ in buf
	nt         bool // write buf with non-temporal stores

	w []float32 // the filters while Set runs
}

// NewWinogradFilter returns the (zero) transformed weights of F(m×m, 3×3) for K×C
// filters, or of its transposed convolution. m is 2, 4 or 6.
func NewWinogradFilter(m, k, c int, transposed bool) (*WinogradFilter, error) {
	_, gm, _, err := WinogradMatrices(m)
	if err != nil {
		return nil, err
	}
	if k <= 0 || c <= 0 {
		return nil, fmt.Errorf("asm: NewWinogradFilter: %d×%d filters (want K, C ≥ 1)", k, c)
	}
	a := m + 2
	f := &WinogradFilter{alpha: a, k: k, c: c, rows: k, cols: c, transposed: transposed}
	if transposed {
		f.rows, f.cols = c, k
	}
	// G·rot180(g)·Gᵀ = (G·J)·g·(G·J)ᵀ, J reversing the 3 taps.
	f.gm = make([]float32, a*3)
	for r, row := range gm {
		for j, v := range row {
			if transposed {
				j = 2 - j
			}
			f.gm[r*3+j] = float32(v)
		}
	}
	f.u = make([]*PackedA, a*a)
	f.panels = make([]*aPanels, a*a)
	for xi := range f.u {
		f.u[xi] = &PackedA{m: f.rows, k: f.cols}
	}
	f.layout(curGeom)
	return f, nil
}

// layout (re)allocates the panels for geometry g: α² panel sets one after another,
// each padded by a cache line so that the α² streams Set writes side by side do
// not share L1 sets.
func (f *WinogradFilter) layout(g *gemmGeom) {
	mPad := (f.rows + g.mr - 1) / g.mr * g.mr
	need := mPad * f.cols
	f.stride = (need+15)/16*16 + 16
	f.buf = alignedFloats(len(f.u) * f.stride)
	f.nt = 4*len(f.buf) > cpuidL2()
	for xi, p := range f.u {
		ap := &aPanels{g: g, m: f.rows, k: f.cols, kc: kBlocks(f.cols, g.kcMax), mPad: mPad,
			data: f.buf[xi*f.stride : xi*f.stride+need : xi*f.stride+need]}
		f.panels[xi] = ap
		p.panels.Store(ap)
	}
}

// U returns the α² packed matrices, U[ξ] for ξ = a·α+b. They are valid until the
// next Set, which refills them in place.
func (f *WinogradFilter) U() []*PackedA { return f.u }

// Bytes returns the memory the packed matrices hold.
func (f *WinogradFilter) Bytes() int { return 4 * len(f.buf) }

// Set transforms the filters w (K×C×3×3, row-major) into the packed U[ξ]. It runs
// on up to Threads() goroutines and, unless the active ISA changed since the last
// call, allocates nothing. It must not run while a Gemm is using the matrices.
func (f *WinogradFilter) Set(w []float32) error {
	if want := f.k * f.c * 9; len(w) != want {
		return fmt.Errorf("asm: WinogradFilter.Set: %d weights, want %d (%d×%d×3×3)", len(w), want, f.k, f.c)
	}
	g := curGeom
	if !f.panels[0].g.sameA(g) {
		f.layout(g)
	}
	for xi, p := range f.u { // a Gemm after an ISA change may have swapped them
		p.panels.Store(f.panels[xi])
	}
	if raceEnabled {
		winogradRaceRead(unsafe.Pointer(&w[0]), 4*len(w))
		winogradRaceWrite(unsafe.Pointer(&f.buf[0]), 4*len(f.buf))
	}
	f.w = w
	ap := f.panels[0]
	slivers := ap.mPad / g.mr
	blocks := (f.cols + ap.kc - 1) / ap.kc
	// A task is one sliver of one k-block: kc·MR·α² floats written; hand off
	// chunks of about 64 K floats (~15 µs), so that a 128×128 layer's 11 slivers
	// split evenly over two threads.
	parallelRun(blocks*slivers, max(1, (1<<16)/(ap.kc*g.mr*len(f.u))), f)
	f.w = nil
	return nil
}

// run transforms tasks [lo, hi) (the chunkRunner of Set): task i is sliver
// i%slivers of k-block i/slivers. It writes the layout aPanels.run packs (k-blocks
// of kc columns, MR-row slivers stored column by column); TestWinogradFilter reads
// the result back through Gemm, so a change of that layout fails it.
func (f *WinogradFilter) run(lo, hi int) {
	ap := f.panels[0]
	mr := ap.g.mr
	slivers := ap.mPad / mr
	// Element (i, j) of U[ξ] is filter (i, j)'s (K×C) or filter (j, i)'s (C×K).
	ri, cj := f.c*9, 9
	if f.transposed {
		ri, cj = 9, f.c*9
	}
	for task := lo; task < hi; task++ {
		k0 := task / slivers * ap.kc
		kc := min(ap.kc, f.cols-k0)
		i0 := task % slivers * mr
		winogradFilterImpl(&ap.data[k0*ap.mPad+i0*kc], f.stride, &f.gm[0], f.alpha, &f.w[i0*ri+k0*cj], ri, cj, kc, min(mr, f.rows-i0), f.nt)
	}
}

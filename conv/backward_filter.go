package conv

import "github.com/govgg/govgg/asm"

// backwardFilter computes dW = Σ dY·col(X)ᵀ and the bias gradient, reducing over
// every output pixel of the batch. It has three schemes and picks one per geometry:
//
// Tiles (every layer with enough channels): for each kernel tap (r,s),
// dW[:, :, r, s] = Σ_pixels dY[k, pixel] · X[c, pixel shifted by (r,s)]. X is copied
// into a zero-padded channels-last image in blocks of 64 channels
// ([C/64][image][row][column][64]), so the shift is a pointer offset and a tile's
// 64 channels of all pixels are one contiguous stream; dY is read in place, its
// NCHW planes contiguous along pixels (small maps are first regrouped as
// [K][image][pixel], so that a block of rows spanning images is one stream a
// plane). Maps that are neither regrouped nor large (e.g. 32×32 and 16×16) are
// streamed: each pixel range copies its images one at a time, right before their
// tiles, into a copy of its own that stays in L2; the others are copied whole (or
// an image at a time, when large) before the tiles. asm.GradW accumulates a 6 (k)
// × 64 (c) tile of one tap over a block of up to tilePixels output pixels with the
// tile in registers: no im2col matrix, no transpose, no packing. Tiles accumulate
// into partials laid out [k][tap][c], and each 6×64 block is permuted into dw
// (K×C×R×S) by a gather kernel right after its last call, while in L1. The bias
// gradient sums the dY planes of each tile's first channel block right after its
// calls, while they are in L1. Threads split the pixels (each range with its own
// partial, summed at the end) when there are few tiles or the images are
// streamed, and the tiles otherwise.
//
// Rows (a first layer: R·S·C ≤ 64, e.g. 3×3×3): the same tiles, but GradW's 64
// columns are the R·S·C taps of an im2col row, built a block of pixels at a time
// per pixel range, so that one call covers every tap. Rows of at most 32 taps are
// padded to 32 floats and take asm.GradWNarrow's 6×32 tile, at twice the pixel
// rate.
//
// GEMM (few input channels otherwise, or fewer than 6 output channels): the
// reduction runs a block of L pixels at a time over col(X)ᵀ built pixel-major,
// an L × R·S·C matrix with the taps in (r,s,c) order whose rows are R·S copies of
// C contiguous floats from the same padded channels-last image. One GEMM per
// block accumulates dW' (K × R·S·C) += dY (K × L) · col(X)ᵀ, reading dY in place
// when the block lies in one image; asm.Sgemm packs into pooled buffers, so
// nothing is allocated per call. dW' is permuted into dw at the end.
type backwardFilter struct {
	g        Geometry
	hp, wp   int   // padded height and width of the channels-last copy
	cb       int   // channels a block of the copy: C, or asm.GradWCols for tiles
	rsOff    []int // per tap (r,s): (r·DilH·wp + s·DilW)·cb
	scheme   bfScheme
	perImage bool // convert and reduce one image at a time
	stream   bool // tiles: each pixel range converts its images one by one
	cl       []float32
	clr      [][]float32 // stream: per pixel range, the copy of one image
	clBlock  int         // floats between channel blocks in cl (and clr)
	clPadded int         // the images of cl's layout whose zero padding is written
	clPad    bool        // write cl's zero padding in this load

	// GEMM scheme.
	chunk     int // pixels per block
	blockCols int
	colT      []float32 // chunk × R·S·C
	dyScr     []float32 // K × chunk, dY of a block that spans images
	dwr       []float32 // K × R·S·C

	// Tile and rows schemes.
	kt, ct  int             // tiles along K (asm.GradWRows) and along C (asm.GradWCols)
	cp, ldp int             // partial: kt·GradWRows rows of ldp = R·S·cp floats
	part    [][]float32     // per pixel range: kt·GradWRows rows of ldp
	scratch [][]float32     // per work item: GradWRows rows of ldp
	rowBuf  [][]float32     // rows scheme, per pixel range: a block's im2col rows
	rowLen  int             // floats between the im2col rows of rowBuf
	narrow  bool            // rows of at most 32 floats: asm.GradWNarrow's tile
	tab     *asm.GradWTable // per output pixel of the loaded images: its input pixel
	segs    []int           // boundaries of the blocks of pixels a GradW call takes
	fold    bool            // regroup dY as [K][image][pixel] into dyF
	dyF     []float32
	split   struct{ ranges, groups int }
	dbPart  [][]float64        // per pixel range: its share of the bias gradient
	gidx    *asm.Gather16Table // finish's: [c][tap] ← [tap][c]
	gadv    int                // input channels a period of gidx covers

	// Work shared with the parallel helpers. The funcs are methods bound once, so
	// that the parallel regions allocate nothing.
	rowsFn, clFn, tileFn, sumFn, finishFn, foldFn, gatherFn, streamFn func(lo, hi int)
	cur                                                               struct {
		x, dy, dw, db []float32
		dyIn          []float32 // dY as given, while folding or gathering it
		n             int
		c0, l         int  // the GEMM block's columns
		first, last   bool // the first and last images of the batch are loaded
	}
}

// bfScheme names a backward-filter scheme (see backwardFilter).
type bfScheme int

const (
	bfGEMM bfScheme = iota
	bfTiles
	bfRows
)

func (s bfScheme) String() string { return [...]string{"gemm", "tiles", "rows"}[s] }

// tilePixels is the most output pixels a tile accumulates per GradW call: the X
// rows they read (times 64 channels, ≤ ~600 KB) stay in L2 across the taps and
// tiles that reuse them, and each call's float32 sum is one block of the
// reduction, as a GEMM sums k-blocks. A reduction of up to tilePixels (4×4 maps
// at batch 64) is a single block and needs no partial.
const tilePixels = 1024

func (b *backwardFilter) init(g Geometry) {
	// Tiles need whole 6-channel planes of dY; with few input channels much of each
	// 64-wide tile would be wasted (measured: the GEMM is faster at C = 16 and 32,
	// tiles from C = 48), unless the taps fill it too.
	s := bfGEMM
	switch {
	case g.K < asm.GradWRows:
	case g.C > 32:
		s = bfTiles
	case g.R*g.S*g.C <= asm.GradWCols:
		s = bfRows
	}
	b.setup(g, s)
}

// applies reports whether scheme s can compute g.
func (s bfScheme) applies(g Geometry) bool {
	switch s {
	case bfTiles:
		return g.K >= asm.GradWRows
	case bfRows:
		return g.K >= asm.GradWRows && g.R*g.S*g.C <= asm.GradWCols
	}
	return true
}

// setup prepares scheme sch for g (sch must apply).
func (b *backwardFilter) setup(g Geometry, sch bfScheme) {
	*b = backwardFilter{g: g, scheme: sch}
	b.hp, b.wp = g.H+2*g.PadH, g.W+2*g.PadW
	b.rowsFn, b.clFn, b.tileFn, b.sumFn, b.finishFn, b.foldFn, b.gatherFn = b.colRows, b.toChannelsLast, b.tileItems, b.sumBias, b.finishAll, b.foldDY, b.gatherDY
	b.streamFn = b.streamItems
	if sch == bfRows {
		b.tileFn = b.rowItems
	}
	pq := g.OutH() * g.OutW()
	b.cb = g.C
	if sch == bfTiles {
		b.cb = asm.GradWCols
	}
	for r := 0; r < g.R; r++ {
		for s := 0; s < g.S; s++ {
			b.rsOff = append(b.rsOff, (r*g.DilH*b.wp+s*g.DilW)*b.cb)
		}
	}
	if sch != bfGEMM {
		rs := g.R * g.S
		b.kt = (g.K + asm.GradWRows - 1) / asm.GradWRows
		b.ct = (g.C + asm.GradWCols - 1) / asm.GradWCols
		b.cp = b.ct * asm.GradWCols
		b.ldp = rs * b.cp
		if sch == bfRows { // a partial row is one im2col row: [tap][c]
			b.ct, b.cp, b.ldp, b.rowLen = 1, g.C, asm.GradWCols, rs*g.C
			if b.narrow = rs*g.C <= asm.GradWNarrowCols; b.narrow {
				// Rows padded to whole vectors, which the narrow tile loads
				// aligned.
				b.ldp, b.rowLen = asm.GradWNarrowCols, asm.GradWNarrowCols
			}
		}
		// Whole images when their padded copy is small (rows of several images
		// then share the threads), one at a time when large.
		b.perImage = b.hp*b.wp*b.ct*b.cb > 1<<20
		b.fold = sch == bfTiles && !b.perImage && pq < 256
		// Otherwise small images are converted one at a time right before their
		// tiles, into a copy per pixel range that stays in L2 (its padding written
		// once a call), rather than all at once into a copy read back from L3.
		b.stream = sch == bfTiles && !b.perImage && !b.fold
		// Output o = c·rs + tap of a filter; the pattern repeats every
		// lcm(rs, 16) outputs, gadv channels further on.
		b.gadv = 16 / gcd(rs, 16)
		idx := make([]int32, rs*b.gadv)
		for o := range idx {
			idx[o] = int32(o%rs*b.cp + o/rs)
		}
		var err error
		if b.gidx, err = asm.NewGather16Table(idx); err != nil {
			panic(err) // rs·gadv is a multiple of 16 and the indices are ≥ 0
		}
		return
	}
	rsc := g.R * g.S * g.C
	// Up to 4 MiB of col(X)ᵀ a block: the GEMMs reduce over enough pixels to be
	// worth their fork-join.
	b.chunk = chunkCols(rsc, 1<<20)
	if b.perImage = pq >= b.chunk; b.perImage {
		b.blockCols = balancedBlocks(pq, b.chunk)
	}
}

func (b *backwardFilter) run(dw, db, x, dy []float32, n int) {
	g := b.g
	pq := g.OutH() * g.OutW()
	if b.scheme == bfGEMM {
		if db != nil {
			b.cur.db, b.cur.dy, b.cur.n = db, dy, n
			asm.ParallelFor(g.K, max(1, (1<<16)/(n*pq)), b.sumFn)
		}
		b.runGEMM(dw, x, dy, n)
	} else {
		b.runTiles(dw, db, x, dy, n)
	}
	b.cur.x, b.cur.dy, b.cur.dw, b.cur.db, b.cur.dyIn = nil, nil, nil, nil, nil
}

// runTiles is the tile scheme (see backwardFilter).
func (b *backwardFilter) runTiles(dw, db, x, dy []float32, n int) {
	g := b.g
	p, q := g.OutH(), g.OutW()
	pq, chw, kpq := p*q, g.C*g.H*g.W, g.K*p*q
	imgs := n
	if b.perImage || b.stream {
		imgs = 1
	}
	// Channels C…cp of the last block are never written: the tiles compute their
	// columns and finish drops them.
	b.clBlock = imgs * b.hp * b.wp * b.cb
	if l := b.ct * b.clBlock; !b.stream && len(b.cl) < l {
		b.cl, b.clPadded = make([]float32, l), 0
	}
	if b.tab == nil || b.tab.Len() != imgs*pq {
		b.makeTable(imgs)
	}
	b.planSplit(imgs, n)
	for b.stream && len(b.clr) < b.split.ranges {
		b.clr = append(b.clr, make([]float32, b.ct*b.clBlock))
	}
	if len(b.part) < b.split.ranges {
		b.part = append(b.part, make([][]float32, b.split.ranges-len(b.part))...)
	}
	for i := range b.part[:b.split.ranges] {
		if len(b.part[i]) == 0 {
			b.part[i] = make([]float32, b.kt*asm.GradWRows*b.ldp)
		}
	}
	for len(b.scratch) < b.split.ranges*b.split.groups {
		b.scratch = append(b.scratch, make([]float32, asm.GradWRows*b.ldp))
	}
	b.cur.db = db
	for len(b.dbPart) < b.split.ranges {
		b.dbPart = append(b.dbPart, make([]float64, g.K))
	}
	if db != nil {
		for _, s := range b.dbPart[:b.split.ranges] {
			clear(s)
		}
	}
	for b.scheme == bfRows && len(b.rowBuf) < b.split.ranges {
		// GradW reads 64 floats a pixel: slack after the last row.
		b.rowBuf = append(b.rowBuf, make([]float32, tilePixels*b.rowLen+asm.GradWCols))
	}
	b.cur.n, b.cur.dw = n, dw
	if b.fold {
		if len(b.dyF) < n*kpq {
			b.dyF = make([]float32, n*kpq)
		}
		b.cur.dyIn = dy
		asm.ParallelFor(g.K, max(1, (1<<16)/(n*pq)), b.foldFn)
		b.cur.dyIn = nil
	}
	if b.stream {
		b.cur.x, b.cur.dy = x, dy
		asm.ParallelFor(b.split.ranges, 1, b.streamFn)
	}
	for img := 0; img < n && !b.stream; img += imgs {
		b.cur.first, b.cur.last = img == 0, img+imgs == n
		b.cur.x = x[img*chw : (img+imgs)*chw]
		b.cur.dy = dy[img*kpq : (img+imgs)*kpq]
		if b.fold {
			b.cur.dy = b.dyF[:n*kpq]
		}
		b.load(imgs)
		asm.ParallelFor(b.split.ranges*b.split.groups, 1, b.tileFn)
	}
	if b.split.ranges > 1 || b.scheme == bfRows {
		asm.ParallelFor(b.kt, 1, b.finishFn)
	}
	if db != nil {
		for k := range db {
			var s float64
			for _, p := range b.dbPart[:b.split.ranges] {
				s += p[k]
			}
			db[k] = float32(s)
		}
	}
}

// makeTable splits the output pixels of imgs loaded images into blocks of about
// tilePixels, each inside one image unless dY is folded, and lists for each pixel
// the input pixel its tap (0,0) reads in a 64-channel block of cl (tiles), or its
// im2col row in its block (rows).
func (b *backwardFilter) makeTable(imgs int) {
	g := &b.g
	p, q := g.OutH(), g.OutW()
	b.segs = b.segs[:0]
	span, pieces := p*q, imgs
	if b.fold {
		span, pieces = imgs*p*q, 1
	}
	per := (span + tilePixels - 1) / tilePixels
	for i := 0; i < pieces; i++ {
		for j := 0; j < per; j++ {
			b.segs = append(b.segs, i*span+j*span/per)
		}
	}
	b.segs = append(b.segs, imgs*p*q)
	off := make([]int, 0, imgs*p*q)
	if b.scheme == bfRows {
		for sg := 0; sg+1 < len(b.segs); sg++ {
			for i := 0; i < b.segs[sg+1]-b.segs[sg]; i++ {
				off = append(off, i*b.rowLen)
			}
		}
	} else {
		for img := 0; img < imgs; img++ {
			for y := 0; y < p; y++ {
				for x := 0; x < q; x++ {
					off = append(off, ((img*b.hp+y*g.StrideH)*b.wp+x*g.StrideW)*b.cb)
				}
			}
		}
	}
	var err error
	if b.tab, err = asm.NewGradWTable(off); err != nil {
		panic(err) // every offset lies in a buffer of ours; an error here is a bug
	}
}

// planSplit chooses how the threads share the tiles' work, for imgs loaded images
// of n. Every group of K-tiles reads all of X (from L3, for X larger than L2), and
// every pixel range needs a partial of its own, written and summed at the end; so
// split the pixels when that moves fewer bytes, the K-tiles otherwise, into about
// 4 items a thread (dynamic balance on a shared machine), and not at all on one.
// Streamed images are split by image only: a range converts its own.
func (b *backwardFilter) planSplit(imgs, n int) {
	t := asm.Threads()
	s := &b.split
	nseg := len(b.segs) - 1
	s.ranges, s.groups = 1, 1
	switch {
	case b.scheme == bfRows: // a range builds its im2col rows once for all tiles
		s.ranges = min(t, nseg)
	case t == 1:
	case b.stream:
		partFloats := b.kt * asm.GradWRows * b.ldp
		s.ranges = min(n, 4*t, max(1, (32<<20)/4/partFloats))
	default:
		xFloats := imgs * b.hp * b.wp * b.ct * b.cb
		partFloats := b.kt * asm.GradWRows * b.ldp
		r := min(nseg, 4*t, max(1, (32<<20)/4/partFloats)) // partials ≤ 32 MiB
		g := min(b.kt, max(1, 4*t/r))
		if r > 1 && 3*r*partFloats+g*xFloats < 4*t*xFloats {
			s.ranges, s.groups = r, g
		} else {
			s.groups = min(b.kt, 4*t)
		}
	}
}

// tileItems runs work items [lo, hi): item i accumulates the pixel blocks of range
// i/groups of the loaded images into that range's partial, for K-tile group
// i%groups. With a single range, it also writes each tile's block of dw after the
// tile's last pixel block.
func (b *backwardFilter) tileItems(lo, hi int) {
	g := &b.g
	s := &b.split
	pq := g.OutH() * g.OutW()
	// dY planes: lda apart, an image's imgStride apart.
	lda, imgStride := pq, g.K*pq
	if b.fold {
		lda, imgStride = b.cur.n*pq, pq
	}
	nseg := len(b.segs) - 1
	for it := lo; it < hi; it++ {
		r, grp := it/s.groups, it%s.groups
		s0, s1 := r*nseg/s.ranges, (r+1)*nseg/s.ranges
		t0, t1 := grp*b.kt/s.groups, (grp+1)*b.kt/s.groups
		part := b.part[r]
		// A single range of one block, in one load, needs no partial: each tile is
		// complete after one call per tap, and goes to dw from a small scratch.
		direct := s.ranges == 1 && s1-s0 == 1 && b.cur.first && b.cur.last
		if direct {
			part = b.scratch[it]
		}
		for sg := s0; sg < s1; sg++ {
			p0, p1 := b.segs[sg], b.segs[sg+1]
			img := p0 / pq
			zero := b.cur.first && sg == s0
			// With a single range, a tile is complete after its last block and
			// writes its block of dw while it is still in cache.
			final := s.ranges == 1 && b.cur.last && sg == s1-1
			dy := b.cur.dy[img*imgStride+p0-img*pq:]
			b.tileBlock(part, b.cl, dy, lda, p0, p1, t0, t1, zero, final, direct, r)
		}
	}
}

// streamItems runs pixel ranges [lo, hi) of the streamed tiles: range r converts
// each of its images into its copy clr[r], then runs every tile over it into its
// partial.
func (b *backwardFilter) streamItems(lo, hi int) {
	g := &b.g
	pq := g.OutH() * g.OutW()
	chw, kpq := g.C*g.H*g.W, g.K*pq
	n, ranges := b.cur.n, b.split.ranges
	nseg := len(b.segs) - 1
	for r := lo; r < hi; r++ {
		cl := b.clr[r]
		i0, i1 := r*n/ranges, (r+1)*n/ranges
		for img := i0; img < i1; img++ {
			// The padding is the same for every image: written once a call.
			b.convertRows(cl, b.cur.x[img*chw:(img+1)*chw], 0, b.hp, img == i0)
			for sg := 0; sg < nseg; sg++ {
				p0, p1 := b.segs[sg], b.segs[sg+1]
				final := ranges == 1 && img == n-1 && sg == nseg-1
				b.tileBlock(b.part[r], cl, b.cur.dy[img*kpq+p0:], pq, p0, p1, 0, b.kt, img == i0 && sg == 0, final, false, r)
			}
		}
	}
}

// tileBlock accumulates K-tiles [t0, t1) over pixels [p0, p1) of the table, for
// every channel block of the copy cl, into the tiles' rows of part (or into part
// itself, a scratch, when direct). dy is dY at the block's first pixel, its planes
// lda apart. zero starts the sums; final writes each tile's block of dw after its
// last call, while in cache. The bias sums of the channels go to dbPart[r].
func (b *backwardFilter) tileBlock(part, cl, dy []float32, lda, p0, p1, t0, t1 int, zero, final, direct bool, r int) {
	g := &b.g
	const mr, nr = asm.GradWRows, asm.GradWCols
	for ch := 0; ch < b.cp; ch += nr {
		xb := cl[ch/nr*b.clBlock:]
		for t := t0; t < t1; t++ {
			// The last tile overlaps the one before when K is not a multiple of
			// 6; finish reads its rows accordingly.
			a := dy[min(t*mr, g.K-mr)*lda:]
			rows := part
			if !direct {
				rows = part[t*mr*b.ldp:]
			}
			for tap, off := range b.rsOff {
				asm.GradW(rows[tap*b.cp+ch:], b.ldp, a, lda, xb[off:], b.tab, p0, p1, zero)
			}
			if ch == 0 && b.cur.db != nil { // the planes are still in L1
				b.addBias(b.dbPart[r], t, a, lda, p1-p0)
			}
			if final {
				b.finish(t, ch, min(ch+nr, g.C), rows, nil)
			}
		}
	}
}

// rowItems runs the rows scheme's work items [lo, hi), one per pixel range: for
// each block of the range, its im2col rows, then every K-tile's GradW call.
func (b *backwardFilter) rowItems(lo, hi int) {
	g := &b.g
	pq := g.OutH() * g.OutW()
	nseg := len(b.segs) - 1
	const mr = asm.GradWRows
	gradw := asm.GradW
	if b.narrow {
		gradw = asm.GradWNarrow
	}
	for r := lo; r < hi; r++ {
		s0, s1 := r*nseg/b.split.ranges, (r+1)*nseg/b.split.ranges
		part, buf := b.part[r], b.rowBuf[r]
		for sg := s0; sg < s1; sg++ {
			p0, p1 := b.segs[sg], b.segs[sg+1]
			img := p0 / pq
			b.colPixels(buf, b.rowLen, p0, p1)
			for t := 0; t < b.kt; t++ {
				a := b.cur.dy[(img*g.K+min(t*mr, g.K-mr))*pq+p0-img*pq:]
				gradw(part[t*mr*b.ldp:], b.ldp, a, pq, buf, b.tab, p0, p1, b.cur.first && sg == s0)
				if b.cur.db != nil {
					b.addBias(b.dbPart[r], t, a, pq, p1-p0)
				}
			}
		}
	}
}

// finishAll writes dw for the K-tiles [lo, hi) from the sum of the partials.
func (b *backwardFilter) finishAll(lo, hi int) {
	const mr = asm.GradWRows
	for t := lo; t < hi; t++ {
		b.finish(t, 0, b.g.C, b.part[0][t*mr*b.ldp:], b.part[1:b.split.ranges])
	}
}

// finish writes dw[k][c][tap] for the channels k of K-tile t and c in [c0, c1)
// from rows, the tile's rows of a partial (plus, when others is not empty, the
// same rows of the other partials, summed into rows first): a permutation from
// [tap][c] to [c][tap] by asm.Gather16 (a period of its index table covers gadv
// input channels).
func (b *backwardFilter) finish(t, c0, c1 int, rows []float32, others [][]float32) {
	g := &b.g
	const mr = asm.GradWRows
	rs := g.R * g.S
	k0, first := b.tileRows(t)
	periods := (c1 - c0) / b.gadv
	for i := first; i < mr; i++ {
		row := rows[i*b.ldp : (i+1)*b.ldp]
		for _, p := range others {
			asm.Axpy(1, p[(t*mr+i)*b.ldp:(t*mr+i+1)*b.ldp], row)
		}
		k := k0 + i
		dst := b.cur.dw[(k*g.C+c0)*rs : (k*g.C+c1)*rs]
		asm.Gather16(dst, row[c0:], b.gidx, b.gadv, periods)
		for c := c0 + periods*b.gadv; c < c1; c++ {
			for tap := 0; tap < rs; tap++ {
				dst[(c-c0)*rs+tap] = row[tap*b.cp+c]
			}
		}
	}
}

// tileRows returns the output channel of K-tile t's first row, and the first of
// its rows not computed by another tile: the last tile overlaps the one before
// when K is not a multiple of 6, its row i holding channel K-6+i, of which only
// those from 6t on are new.
func (b *backwardFilter) tileRows(t int) (k0, first int) {
	const mr = asm.GradWRows
	if k := b.g.K; t == b.kt-1 && k%mr != 0 {
		return k - mr, t*mr - (k - mr)
	}
	return t * mr, 0
}

// addBias adds to sums[k], for the new channels k of K-tile t, the sum of n
// pixels of its plane of a (planes lda apart): the bias gradient, taken from the
// dY rows a tile has just read rather than in a pass of its own over dY.
func (b *backwardFilter) addBias(sums []float64, t int, a []float32, lda, n int) {
	k0, first := b.tileRows(t)
	s := asm.GradWSums(a, lda, n)
	for i := first; i < asm.GradWRows; i++ {
		sums[k0+i] += s[i]
	}
}

// runGEMM is the GEMM scheme (see backwardFilter).
func (b *backwardFilter) runGEMM(dw, x, dy []float32, n int) {
	g := b.g
	pq := g.OutH() * g.OutW()
	rsc := g.R * g.S * g.C
	chw := g.C * g.H * g.W
	imgs := n
	if b.perImage {
		imgs = 1
	}
	if l := imgs * b.hp * b.wp * g.C; len(b.cl) < l {
		b.cl, b.clPadded = make([]float32, l), 0
	}
	if b.colT == nil {
		b.colT = make([]float32, b.chunk*rsc)
		b.dyScr = make([]float32, g.K*b.chunk)
		b.dwr = make([]float32, g.K*rsc)
	}
	var beta float32
	block := func(c0, l int, dyb []float32, lda int) {
		b.cur.c0, b.cur.l = c0, l
		asm.ParallelFor(l, max(1, (1<<18)/rsc), b.rowsFn) // ~100 µs a chunk
		// Sizes are consistent by construction; an error here is a bug.
		if err := asm.Sgemm(false, false, g.K, rsc, l, 1, dyb, lda, b.colT, rsc, beta, b.dwr, rsc); err != nil {
			panic(err)
		}
		beta = 1
	}
	if b.perImage {
		// Blocks inside each image, dY read in place. (A band of rows per block,
		// as forward uses, would convert the halo rows twice.)
		for img := 0; img < n; img++ {
			b.cur.x = x[img*chw : (img+1)*chw]
			b.load(1)
			for p0 := 0; p0 < pq; p0 += b.blockCols {
				l := min(b.blockCols, pq-p0)
				block(p0, l, dy[img*g.K*pq+p0:], pq)
			}
		}
	} else {
		b.cur.x = x
		b.load(n)
		total := n * pq
		for c0 := 0; c0 < total; c0 += b.chunk {
			l := min(b.chunk, total-c0)
			b.cur.c0, b.cur.l, b.cur.dyIn = c0, l, dy
			asm.ParallelFor(g.K, max(1, (1<<16)/l), b.gatherFn)
			block(c0, l, b.dyScr, l)
		}
	}
	// K×(R·S)×C → K×C×(R·S).
	rs := g.R * g.S
	for k := 0; k < g.K; k++ {
		src := b.dwr[k*rsc : (k+1)*rsc]
		dst := dw[k*rsc : (k+1)*rsc]
		for t := 0; t < rs; t++ {
			for c, v := range src[t*g.C : (t+1)*g.C] {
				dst[c*rs+t] = v
			}
		}
	}
}

// gatherDY copies dY of the current GEMM block's columns, channels [lo, hi), into
// dyScr as K × l.
func (b *backwardFilter) gatherDY(lo, hi int) {
	g := &b.g
	pq := g.OutH() * g.OutW()
	c0, l := b.cur.c0, b.cur.l
	for k := lo; k < hi; k++ {
		for j := 0; j < l; {
			img, pix := (c0+j)/pq, (c0+j)%pq
			m := min(l-j, pq-pix)
			copy(b.dyScr[k*l+j:k*l+j+m], b.cur.dyIn[(img*g.K+k)*pq+pix:])
			j += m
		}
	}
}

// load converts the n images in cur.x into zero-padded channels-last form in cl.
//
// Only the pixels are rewritten once the padding of cl's layout for n images is
// there (nothing else writes cl): most of a small map's copy is padding.
func (b *backwardFilter) load(n int) {
	b.clPad = b.clPadded != n
	asm.ParallelFor(n*b.hp, max(1, (1<<17)/(b.wp*b.g.C)), b.clFn)
	b.clPadded = n
}

// toChannelsLast writes padded rows [lo, hi) (numbered over the images) of cur.x
// into cl.
func (b *backwardFilter) toChannelsLast(lo, hi int) {
	b.convertRows(b.cl, b.cur.x, lo, hi, b.clPad)
}

// convertRows writes padded rows [lo, hi) (numbered over the images) of x into cl
// as wp×cb rows, zero outside the image when pad (and left as they are
// otherwise): channel ch of a pixel goes to block ch/cb, clBlock floats a block
// (one block when cb = C).
func (b *backwardFilter) convertRows(cl, x []float32, lo, hi int, pad bool) {
	g := &b.g
	c, w, cb := g.C, g.W, b.cb
	nb := (c + cb - 1) / cb
	row, block := b.wp*cb, b.clBlock
	const tile = 64 // pixels: a tile's destination stays in L1
	for i := lo; i < hi; i++ {
		img, pr := i/b.hp, i%b.hp
		iy := pr - g.PadH
		for bk := 0; bk < nb && pad; bk++ {
			dst := cl[bk*block+i*row : bk*block+(i+1)*row]
			if iy < 0 || iy >= g.H {
				clear(dst)
				continue
			}
			clear(dst[:g.PadW*cb])
			clear(dst[(g.PadW+w)*cb:])
		}
		if iy < 0 || iy >= g.H {
			continue
		}
		x := x[img*c*g.H*w:]
		plane := g.H * w
		// Sixteen channels at a time, whole rows, by the vector kernel.
		ch0 := 0
		for ; ch0+16 <= c && (cb%16 == 0 || nb == 1); ch0 += 16 {
			asm.Interleave16(cl[ch0/cb*block+i*row+g.PadW*cb+ch0%cb:], cb, x[ch0*plane+iy*w:], plane, w)
		}
		for t0 := 0; t0 < w && ch0 < c; t0 += tile {
			t1 := min(w, t0+tile)
			ch := ch0
			// Eight channels at a time (never across blocks: cb is C or a multiple
			// of 8): one 32-byte group written per pixel.
			for ; ch+8 <= c && (cb%8 == 0 || nb == 1); ch += 8 {
				o := ch*plane + iy*w
				s0 := x[o+t0 : o+t1]
				n := len(s0)
				s1, s2, s3 := x[o+plane+t0:][:n], x[o+2*plane+t0:][:n], x[o+3*plane+t0:][:n]
				s4, s5, s6, s7 := x[o+4*plane+t0:][:n], x[o+5*plane+t0:][:n], x[o+6*plane+t0:][:n], x[o+7*plane+t0:][:n]
				dst := cl[ch/cb*block+i*row+(g.PadW+t0)*cb+ch%cb:]
				for j, v := range s0 {
					d := (*[8]float32)(dst[j*cb:])
					d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = v, s1[j], s2[j], s3[j], s4[j], s5[j], s6[j], s7[j]
				}
			}
			for ; ch+4 <= c && (cb%4 == 0 || nb == 1); ch += 4 {
				o := ch*plane + iy*w
				s0, s1 := x[o+t0:o+t1], x[o+plane+t0:o+plane+t1]
				s2, s3 := x[o+2*plane+t0:o+2*plane+t1], x[o+3*plane+t0:o+3*plane+t1]
				s1, s2, s3 = s1[:len(s0)], s2[:len(s0)], s3[:len(s0)]
				dst := cl[ch/cb*block+i*row+(g.PadW+t0)*cb+ch%cb:]
				for j, v := range s0 {
					d := (*[4]float32)(dst[j*cb:])
					d[0], d[1], d[2], d[3] = v, s1[j], s2[j], s3[j]
				}
			}
			for ; ch < c; ch++ {
				src := x[ch*plane+iy*w+t0 : ch*plane+iy*w+t1]
				d := cl[ch/cb*block+i*row+(g.PadW+t0)*cb+ch%cb:]
				for j, v := range src {
					d[j*cb] = v
				}
			}
		}
	}
}

// foldDY copies channels [lo, hi) of cur.dyIn (N×K×P·Q) into dyF as K×N×P·Q.
func (b *backwardFilter) foldDY(lo, hi int) {
	g := &b.g
	pq := g.OutH() * g.OutW()
	n := b.cur.n
	for k := lo; k < hi; k++ {
		dst := b.dyF[k*n*pq : (k+1)*n*pq]
		for img := 0; img < n; img++ {
			d, s := dst[img*pq:(img+1)*pq], b.cur.dyIn[(img*g.K+k)*pq:][:pq]
			if pq >= 64 {
				copy(d, s)
				continue
			}
			for i, v := range s { // shorter than copy's call
				d[i] = v
			}
		}
	}
}

// colRows writes rows [lo, hi) of the current GEMM block's col(X)ᵀ.
func (b *backwardFilter) colRows(lo, hi int) {
	rsc := b.g.R * b.g.S * b.g.C
	b.colPixels(b.colT[lo*rsc:], rsc, b.cur.c0+lo, b.cur.c0+hi)
}

// colPixels writes the im2col rows of output pixels [p0, p1) of the loaded images
// into dst, ld floats apart, each R·S·C floats: the R·S windows of C channels.
func (b *backwardFilter) colPixels(dst []float32, ld, p0, p1 int) {
	g := &b.g
	p, q := g.OutH(), g.OutW()
	pq := p * q
	c := g.C
	rsc := g.R * g.S * c
	for j := p0; j < p1; j++ {
		img, pix := j/pq, j%pq // img is 0 in per-image mode
		oy, ox := pix/q, pix%q
		base := ((img*b.hp+oy*g.StrideH)*b.wp + ox*g.StrideW) * c
		row := dst[(j-p0)*ld:][:rsc]
		if c < 8 && g.DilW == 1 {
			// A first layer: a kernel row's S windows are one run of S·C floats,
			// too short for copy's call.
			sc := g.S * c
			for r := 0; r < g.R; r++ {
				d, src := row[r*sc:(r+1)*sc], b.cl[base+b.rsOff[r*g.S]:][:sc]
				for i, v := range src {
					d[i] = v
				}
			}
			continue
		}
		for t, off := range b.rsOff {
			copy(row[t*c:(t+1)*c], b.cl[base+off:])
		}
	}
}

// sumBias sets db[k], for k in [lo, hi), to the sum of dy over images and pixels
// for channel k (the GEMM scheme's bias gradient), accumulated in float64 (asm.SumSq's vector sum; its sum of
// squares is unused).
func (b *backwardFilter) sumBias(lo, hi int) {
	g := &b.g
	pq := g.OutH() * g.OutW()
	for k := lo; k < hi; k++ {
		var s float64
		for i := 0; i < b.cur.n; i++ {
			v, _ := asm.SumSq(b.cur.dy[(i*g.K+k)*pq : (i*g.K+k+1)*pq])
			s += v
		}
		b.cur.db[k] = float32(s)
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

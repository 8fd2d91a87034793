package conv

import "github.com/govgg/govgg/asm"

// Implicit GEMM. A convolution of a batch is the product
//
//	Y (K × N·P·Q) = W (K × C·R·S) · col(X) (C·R·S × N·P·Q)
//
// where row (c,r,s) of col(X) holds, for every output pixel, the input pixel that
// tap (r,s) of channel c reads. The weights are packed once (asm.PackA); col(X) is
// never built: im2colSource writes the GEMM driver's B panels from the input, one
// sliver of nr output pixels at a time.
//
// The input is first copied with its zero padding made explicit (one pass over the
// input: about 1 ms a 224² image of conv1_2, 4% of its GEMM), so no tap ever needs a
// bounds test: a sliver's columns map to offsets in the padded images that are the
// same for every tap up to a constant, and with stride 1 the columns of one output
// row are contiguous. PackB therefore splits each sliver once into runs (one per
// output row it covers) and then, tap by tap, copies those runs; taps outermost so
// that the reads stream along the input rows. Maps narrower than 8 pixels, whose
// runs are too short to copy, gather through per-column offsets instead.
//
// Packing costs about 0.2–0.3 ns a float on one core (BenchmarkPackB): 6–9% of an
// ideal GEMM for 128+ output channels, but ~30% for conv1_2's 64, where each packed
// float feeds only 128 flops; a vector strided-copy kernel in asm would remove most
// of it.

// paddedGeometry describes a zero-padded copy of the input: for each image, C
// planes of hp×wp holding padded rows row0…row0+hp−1, and the offset of every tap
// (c,r,s) from its window's top-left pixel. It holds either whole images (a folded
// batch of small maps), or, for large maps, a band of rows: just those one GEMM
// block of columns reads, so the copy stays in L2 instead of doubling the input's
// trip through memory.
type paddedGeometry struct {
	g         Geometry
	hp, wp    int
	imgStride int // C·hp·wp
	taps      []int
	p, q      int
	band      bool
	row0      int // first padded input row held (band mode)
}

// newPaddedGeometry returns the geometry of whole padded images when blockCols is 0,
// else of a band for any blockCols consecutive output pixels of one image.
func newPaddedGeometry(g Geometry, blockCols int) paddedGeometry {
	pg := paddedGeometry{g: g, hp: g.H + 2*g.PadH, wp: g.W + 2*g.PadW, p: g.OutH(), q: g.OutW()}
	if blockCols > 0 && pg.padded() {
		outRows := min(pg.p, (blockCols-1)/pg.q+2)
		if rows := (outRows-1)*g.StrideH + (g.R-1)*g.DilH + 1; rows < pg.hp {
			pg.hp, pg.band = rows, true
		}
	}
	pg.imgStride = g.C * pg.hp * pg.wp
	pg.taps = make([]int, 0, g.C*g.R*g.S)
	for c := 0; c < g.C; c++ {
		for r := 0; r < g.R; r++ {
			for s := 0; s < g.S; s++ {
				pg.taps = append(pg.taps, c*pg.hp*pg.wp+r*g.DilH*pg.wp+s*g.DilW)
			}
		}
	}
	return pg
}

// padded reports whether the geometry needs a padded copy (with no padding the
// input itself has the padded layout).
func (pg *paddedGeometry) padded() bool { return pg.g.PadH != 0 || pg.g.PadW != 0 }

// bufLen returns the length of the buffer load needs for n images.
func (pg *paddedGeometry) bufLen(n int) int {
	if !pg.padded() {
		return 0
	}
	if pg.band {
		return pg.imgStride
	}
	return n * pg.imgStride
}

// load returns the padded input for columns c0…c0+nc of the n NCHW images x,
// written to dst (or x itself when there is no padding). In band mode n is 1 and
// only the rows those columns read are written.
func (pg *paddedGeometry) load(dst, x []float32, n, c0, nc int) []float32 {
	if !pg.padded() {
		return x
	}
	g := &pg.g
	first, rows := 0, pg.hp
	if pg.band {
		first = c0 / pg.q * g.StrideH
		rows = (c0+nc-1)/pg.q*g.StrideH + (g.R-1)*g.DilH + 1 - first
	}
	pg.row0 = first
	dst = dst[:pg.bufLen(n)]
	for pl := 0; pl < n*g.C; pl++ {
		src := x[pl*g.H*g.W : (pl+1)*g.H*g.W]
		out := dst[pl*pg.hp*pg.wp : (pl+1)*pg.hp*pg.wp]
		for pr := first; pr < first+rows; pr++ {
			o := out[(pr-first)*pg.wp : (pr-first+1)*pg.wp]
			iy := pr - g.PadH
			if iy < 0 || iy >= g.H {
				clear(o)
				continue
			}
			clear(o[:g.PadW])
			copy(o[g.PadW:g.PadW+g.W], src[iy*g.W:])
			clear(o[g.PadW+g.W:])
		}
	}
	return dst
}

// colOffset returns the offset in the padded buffer of the window of column j
// (image-major, then output row, then output column), and its output column.
func (pg *paddedGeometry) colOffset(j int) (off, ox int) {
	img, pix := j/(pg.p*pg.q), j%(pg.p*pg.q)
	oy, ox := pix/pg.q, pix%pg.q
	return img*pg.imgStride + (oy*pg.g.StrideH-pg.row0)*pg.wp + ox*pg.g.StrideW, ox
}

// copyStrided sets dst[i] = src[i·stride].
func copyStrided(dst, src []float32, stride int) {
	if stride == 1 {
		copy(dst, src)
		return
	}
	src = src[:(len(dst)-1)*stride+1]
	for i := range dst {
		dst[i] = src[i*stride]
	}
}

// im2colSource is the asm.BSource of col(X) for the padded images xp, its columns
// numbered over those images and offset by col0, so a GEMM over a column range
// starts at its first column. With a 1×1 geometry it also serves the backward-data
// pass as dY viewed as a K × N·P·Q matrix.
type im2colSource struct {
	pg   paddedGeometry
	xp   []float32
	col0 int
}

// newIm2colSource returns the source for g; blockCols is as for newPaddedGeometry.
func newIm2colSource(g Geometry, blockCols int) im2colSource {
	return im2colSource{pg: newPaddedGeometry(g, blockCols)}
}

// run is a piece of one sliver's columns inside one output row: panel positions
// dst…dst+l-1 of every tap row read xp[tap+src+i·StrideW].
type run struct{ dst, src, l int }

// PackB implements asm.BSource. Calls for disjoint panels may run concurrently:
// they share only read-only fields.
func (b *im2colSource) PackB(dst []float32, k0, kc, j0, nc, nr int) {
	pg := &b.pg
	taps := pg.taps[k0 : k0+kc]
	sw := pg.g.StrideW
	if pg.q < 8 {
		b.packGather(dst, taps, j0, nc, nr)
		return
	}
	// Slivers are handled in groups whose runs fit a stack buffer.
	var runs [512]run
	for s0 := 0; s0 < nc; {
		nrun, s1 := 0, s0
		for ; s1 < nc; s1 += nr {
			w := min(nr, nc-s1)
			// A sliver has at most one run per output row it touches; nr ≤ 512
			// keeps a lone sliver within the buffer.
			if nrun > 0 && nrun+min(w, (w-1)/pg.q+2) > len(runs) {
				break
			}
			base := (s1 / nr) * kc * nr
			off, ox := pg.colOffset(b.col0 + j0 + s1)
			for j := 0; j < w; {
				seg := min(w-j, pg.q-ox)
				runs[nrun] = run{dst: base + j, src: off, l: seg}
				nrun++
				j += seg
				off, ox = pg.colOffset(b.col0 + j0 + s1 + j)
			}
		}
		rs := runs[:nrun]
		if nrun == (s1-s0+nr-1)/nr && sw == 1 {
			// One run per sliver, the common case for wide maps.
			packSliverRuns(dst, b.xp, taps, rs, nr)
		} else {
			for p, t := range taps {
				for _, r := range rs {
					d := dst[r.dst+p*nr : r.dst+p*nr+r.l]
					src := b.xp[t+r.src:]
					if sw == 1 && r.l <= 8 {
						src = src[:len(d)]
						for i := range d {
							d[i] = src[i]
						}
						continue
					}
					copyStrided(d, src, sw)
				}
			}
		}
		if w := (s1 - s0) % nr; s1 == nc && w != 0 {
			// Zero the padding columns of the last, partial sliver.
			last := ((s1 - 1) / nr) * kc * nr
			for p := range taps {
				clear(dst[last+p*nr+w : last+p*nr+nr])
			}
		}
		s0 = s1
	}
}

// packGather is PackB for maps narrower than 8 pixels, whose runs would be too
// short to copy: each column's offset is computed once per group of slivers, and
// each tap row is a gather through them.
func (b *im2colSource) packGather(dst []float32, taps []int, j0, nc, nr int) {
	pg := &b.pg
	kc := len(taps)
	var offs [512]int
	group := max(1, len(offs)/nr) * nr
	for s0 := 0; s0 < nc; s0 += group {
		cols := min(group, nc-s0)
		for j := range cols {
			offs[j], _ = pg.colOffset(b.col0 + j0 + s0 + j)
		}
		for si := 0; si < cols; si += nr {
			w := min(nr, cols-si)
			panel := dst[(s0+si)/nr*kc*nr:]
			o := offs[si : si+w]
			for p, t := range taps {
				row := panel[p*nr : p*nr+nr]
				for j, off := range o {
					row[j] = b.xp[t+off]
				}
				clear(row[w:])
			}
		}
	}
}

// packSliverRuns copies, for every tap, each sliver's single run of up to nr
// contiguous input pixels; full runs use fixed-size array copies, which compile to a
// few vector moves with no call.
func packSliverRuns(dst, xp []float32, taps []int, rs []run, nr int) {
	for p, t := range taps {
		for _, r := range rs {
			d := dst[r.dst+p*nr:]
			s := xp[t+r.src:]
			switch {
			case r.l != nr:
				copy(d[:r.l], s)
			case nr == 32:
				*(*[32]float32)(d) = *(*[32]float32)(s)
			case nr == 16:
				*(*[16]float32)(d) = *(*[16]float32)(s)
			case nr == 12:
				*(*[12]float32)(d) = *(*[12]float32)(s)
			case nr == 8:
				*(*[8]float32)(d) = *(*[8]float32)(s)
			default:
				copy(d[:nr], s)
			}
		}
	}
}

// im2colKernel is the implicit-GEMM kernel for one geometry.
type im2colKernel struct {
	g    Geometry
	a    *asm.PackedA // W, K × C·R·S
	bias []float32    // nil, or the kernel's copy of the bias
	src  im2colSource
	// Columns per GEMM call, so that a call's output block (K × chunk) stays in
	// cache for the bias/ReLU epilogue. Images of at least chunk output pixels are
	// cut into balanced blocks of blockCols (the padded input then only needs a
	// band of rows per block); smaller ones are folded together, so that small
	// maps still make wide GEMMs.
	chunk     int
	perImage  bool
	blockCols int
	scratch   []float32 // K × chunk
	xpad      []float32 // the padded input band, or padded batch when folded
}

// chunkCols returns a column count, a multiple of 96 (so any micro-kernel width up
// to 32 divides it), for a block of rows×cols floats of about target floats.
func chunkCols(rows, target int) int {
	c := target / max(rows, 1) / 96 * 96
	return min(max(c, 384), 4608)
}

// balancedBlocks splits pq columns into equal blocks of at most chunk, rounded up
// to a multiple of 96.
func balancedBlocks(pq, chunk int) int {
	blocks := (pq + chunk - 1) / chunk
	return min(chunk, ((pq+blocks-1)/blocks+95)/96*96)
}

func newIm2colKernel(g Geometry) *im2colKernel {
	k := &im2colKernel{g: g, chunk: chunkCols(g.K, 1<<18)} // 1 MiB of output
	pq := g.OutH() * g.OutW()
	if k.perImage = pq >= k.chunk; k.perImage {
		k.blockCols = balancedBlocks(pq, k.chunk)
	}
	k.src = newIm2colSource(g, k.blockCols)
	return k
}

func (k *im2colKernel) setWeights(w, bias []float32) {
	crs := k.g.C * k.g.R * k.g.S
	repack(&k.a, false, k.g.K, crs, w, crs)
	if bias == nil {
		k.bias = nil
		return
	}
	k.bias = append(k.bias[:0], bias...)
}

func (k *im2colKernel) weightBytes() int {
	if k.a == nil {
		return 0
	}
	return k.a.Bytes() + 4*len(k.bias)
}

func (k *im2colKernel) forward(y, x []float32, n int, relu bool) {
	g := k.g
	pq := g.OutH() * g.OutW()
	chw := g.C * g.H * g.W
	pg := &k.src.pg
	if l := pg.bufLen(n); len(k.xpad) < l {
		k.xpad = make([]float32, l)
	}
	if k.scratch == nil {
		k.scratch = make([]float32, g.K*k.chunk)
	}
	defer func() { k.src.xp = nil }() // do not pin the caller's input
	if k.perImage {
		for img := 0; img < n; img++ {
			xi := x[img*chw : (img+1)*chw]
			for c0 := 0; c0 < pq; c0 += k.blockCols {
				nc := min(k.blockCols, pq-c0)
				k.src.xp = pg.load(k.xpad, xi, 1, c0, nc)
				k.block(y, img*pq, c0, nc, relu)
			}
		}
		return
	}
	k.src.xp = pg.load(k.xpad, x, n, 0, n*pq)
	for c0 := 0; c0 < n*pq; c0 += k.chunk {
		k.block(y, 0, c0, min(k.chunk, n*pq-c0), relu)
	}
}

// block computes columns c0…c0+nc of the padded images into scratch, applies bias
// and ReLU there (asm's vector kernels, on a block still in L2), and copies it out
// to y, whose columns are numbered from base. The GEMM never writes y directly:
// y's rows are P·Q apart, and for 224×224 maps that is a multiple of 4 KiB, so a
// block's rows would all fall in the same cache sets.
func (k *im2colKernel) block(y []float32, base, c0, nc int, relu bool) {
	g := k.g
	pq := g.OutH() * g.OutW()
	blk := k.scratch[:g.K*nc]
	k.src.col0 = c0
	k.a.Gemm(nc, 1, &k.src, 0, blk, nc)
	switch {
	case k.bias != nil:
		asm.AddBias(blk, k.bias, nc, relu)
	case relu:
		asm.ReLU(blk, blk)
	}
	for kk := 0; kk < g.K; kk++ {
		row := blk[kk*nc : kk*nc+nc]
		for j := 0; j < nc; {
			img, pix := (base+c0+j)/pq, (base+c0+j)%pq
			l := min(nc-j, pq-pix)
			copy(y[(img*g.K+kk)*pq+pix:(img*g.K+kk)*pq+pix+l], row[j:j+l])
			j += l
		}
	}
}

// repack packs op(w) (m×k) into *p, reusing its storage when *p already holds an
// m×k matrix: training re-sends the weights every step, and a fresh PackA would
// allocate their size again each time.
func repack(p **asm.PackedA, trans bool, m, k int, w []float32, ld int) {
	if *p != nil && (*p).Rows() == m && (*p).Cols() == k && (*p).Repack(trans, w, ld) == nil {
		return
	}
	*p = asm.PackA(trans, m, k, w, ld)
}

package conv

import (
	"slices"
	"sync"

	"github.com/govgg/govgg/asm"
)

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
//
// Its work is a list of column blocks. Images of at least chunk output pixels are
// cut into balanced blocks (the padded input then only needs a band of rows per
// block), and each block's GEMM writes its K rows straight into y, where bias and
// ReLU follow while the block is still in L2. Smaller images are folded together,
// so that small maps still make wide GEMMs; a folded block spans images, whose
// rows in y are not evenly spaced, so it goes through a scratch block and is
// copied out.
//
// A block whose GEMM asm's driver would run on one goroutine anyway (a network's
// first layer: K·C·R·S is 64·27 on VGG's conv1_1) is a task of its own: blocks
// run side by side, one per worker, each with its own padded band and scratch.
// Larger blocks run one after another, each GEMM split over the threads.
type im2colKernel struct {
	g    Geometry
	a    *asm.PackedA // W, K × C·R·S
	bias []float32    // nil, or the kernel's copy of the bias
	// Columns per GEMM call, so that a call's output block (K × chunk) stays in
	// cache for the bias/ReLU epilogue; blockCols is the widest per-image block.
	chunk     int
	perImage  bool
	blockCols int
	pg        paddedGeometry // of a band (per-image) or of whole images (folded)
	xpad      []float32      // the padded batch, when folded

	call  im2colCall       // the forward in progress, read by the workers
	runFn func(lo, hi int) // run, made once so that a parallel call allocates nothing
	mu    sync.Mutex
	free  []*im2colWorker // workers' state between calls
	made  int             // workers made (free's capacity stays at least that)
}

// im2colCall is one forward: its operands and its list of blocks.
type im2colCall struct {
	y, x     []float32
	mask     []float32 // nil, or y's ReLU-backward mask (forwardMasked)
	xp       []float32 // the padded batch (folded mode)
	relu     bool
	perBlock int // columns of every block but an image's (or the batch's) last
	perImage int // blocks per image (per-image mode)
	total    int // columns of the folded batch
}

// im2colWorker is one worker's state: the GEMM's B source (its padded band and
// column origin change per block) and a buffer for the padded band (per-image)
// or the scratch output block (folded).
type im2colWorker struct {
	src im2colSource
	buf []float32
}

// serialGemmFlops is the size below which asm's GEMM driver keeps a call on its
// caller's goroutine (it hands off tasks of about 20 MFLOP, ~100 µs): blocks this
// small are spread over the threads instead.
const serialGemmFlops = 40e6

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
	k.pg = newPaddedGeometry(g, k.blockCols)
	k.runFn = k.run
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
	k.compute(im2colCall{y: y, x: x, relu: relu}, n)
}

// forwardMasked computes y = conv(x) + bias where mask > 0 or is NaN, else 0: the
// epilogue masks each block while it is in cache (see maskedForward).
func (k *im2colKernel) forwardMasked(y, x, mask []float32, n int) {
	k.compute(im2colCall{y: y, x: x, mask: mask}, n)
}

// compute runs call, whose operands are set, on a batch of n.
func (k *im2colKernel) compute(call im2colCall, n int) {
	g := k.g
	pq := g.OutH() * g.OutW()
	k.call = call
	defer func() { k.call = im2colCall{} }() // do not pin the caller's buffers
	c := &k.call
	var blocks int
	if k.perImage {
		c.perImage = (pq + k.blockCols - 1) / k.blockCols
		c.perBlock = k.blockCols
		blocks = n * c.perImage
	} else {
		if l := k.pg.bufLen(n); len(k.xpad) < l {
			k.xpad = make([]float32, l)
		}
		c.xp = k.pg.load(k.xpad, c.x, n, 0, n*pq)
		c.total, c.perBlock = n*pq, k.chunk
		blocks = (c.total + k.chunk - 1) / k.chunk
	}
	t := asm.Threads()
	if t == 1 || 2*float64(g.K*g.C*g.R*g.S)*float64(c.perBlock) >= serialGemmFlops {
		k.run(0, blocks)
		return
	}
	if k.perImage && blocks < 16*t && blocks%t != 0 {
		// Few blocks: cut the images into a multiple of the threads, so that no
		// worker is left alone with the last one (VGG's conv1_1 on 2 threads: 14
		// blocks of 3584 columns, not 13 of 3936).
		nr := asm.NR()
		c.perImage = ((blocks+t-1)/t*t + n - 1) / n
		c.perBlock = min(k.blockCols, ((pq+c.perImage-1)/c.perImage+nr-1)/nr*nr)
		c.perImage = (pq + c.perBlock - 1) / c.perBlock
		blocks = n * c.perImage
	}
	asm.ParallelFor(blocks, 1, k.runFn)
}

// run computes blocks [lo, hi) of the call on one worker's state.
func (k *im2colKernel) run(lo, hi int) {
	w := k.worker()
	for b := lo; b < hi; b++ {
		if k.perImage {
			k.imageBlock(w, b)
		} else {
			k.foldedBlock(w, b)
		}
	}
	k.mu.Lock()
	k.free = append(k.free, w)
	k.mu.Unlock()
}

// worker takes a worker's state from the free list, making one the first time a
// call needs more than the kernel has.
func (k *im2colKernel) worker() *im2colWorker {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l := len(k.free); l > 0 {
		w := k.free[l-1]
		k.free = k.free[:l-1]
		return w
	}
	w := &im2colWorker{src: im2colSource{pg: k.pg}}
	if k.perImage {
		w.buf = make([]float32, k.pg.bufLen(1))
	} else {
		w.buf = make([]float32, k.g.K*k.chunk)
	}
	k.made++
	k.free = slices.Grow(k.free, k.made) // so that returning a worker never allocates
	return w
}

// imageBlock computes block b of the per-image list straight into y: the GEMM
// writes the block's K rows at y's row stride P·Q, then bias and ReLU (or the
// mask) run over them while they are in L2.
func (k *im2colKernel) imageBlock(w *im2colWorker, b int) {
	g, c := k.g, &k.call
	pq := g.OutH() * g.OutW()
	img, c0 := b/c.perImage, b%c.perImage*c.perBlock
	nc := min(c.perBlock, pq-c0)
	chw := g.C * g.H * g.W
	w.src.xp = w.src.pg.load(w.buf, c.x[img*chw:(img+1)*chw], 1, c0, nc)
	w.src.col0 = c0
	o := img*g.K*pq + c0
	y := c.y[o:]
	k.a.Gemm(nc, 1, &w.src, 0, y, pq)
	w.src.xp = nil
	for kk := 0; kk < g.K; kk++ {
		row := y[kk*pq : kk*pq+nc]
		k.epilogue(row, kk)
		if c.mask != nil {
			asm.ReLUBackward(row, row, c.mask[o+kk*pq:][:nc])
		}
	}
}

// foldedBlock computes block b of the folded batch into the worker's scratch,
// then, row by row, applies bias and ReLU and copies (or, with a mask, masks)
// the row's pieces out to their images in y.
func (k *im2colKernel) foldedBlock(w *im2colWorker, b int) {
	g, c := k.g, &k.call
	pq := g.OutH() * g.OutW()
	c0 := b * c.perBlock
	nc := min(c.perBlock, c.total-c0)
	blk := w.buf[:g.K*nc]
	w.src.xp, w.src.col0 = c.xp, c0
	k.a.Gemm(nc, 1, &w.src, 0, blk, nc)
	w.src.xp = nil
	for kk := 0; kk < g.K; kk++ {
		row := blk[kk*nc : kk*nc+nc]
		k.epilogue(row, kk)
		for j := 0; j < nc; {
			img, pix := (c0+j)/pq, (c0+j)%pq
			l := min(nc-j, pq-pix)
			o := (img*g.K+kk)*pq + pix
			if c.mask == nil {
				copy(c.y[o:o+l], row[j:j+l])
			} else {
				maskShort(c.y[o:o+l], row[j:j+l], c.mask[o:o+l])
			}
			j += l
		}
	}
}

// epilogue adds output channel kk's bias to row and applies the call's ReLU.
func (k *im2colKernel) epilogue(row []float32, kk int) {
	switch {
	case k.bias != nil:
		asm.AddBias(row, k.bias[kk:kk+1], len(row), k.call.relu)
	case k.call.relu:
		asm.ReLU(row, row)
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

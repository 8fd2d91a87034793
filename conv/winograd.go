package conv

import (
	"fmt"
	"math"
	"sync"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/tensor"
)

// Winograd F(m×m, 3×3) (Lavin & Gray, arXiv 1509.09308): for each α×α input tile
// d (α = m+2, tiles overlapping by 2) and each output channel,
//
//	Y = Aᵀ·[Σ_c U_c ⊙ V_c]·A,  U = G·g·Gᵀ (per k, c),  V = Bᵀ·d·B (per c, tile)
//
// which is α² independent GEMMs M[ξ] (K × tiles) = U[ξ] (K × C) · V[ξ] (C × tiles),
// one per tile element ξ, between an input and an output transform.
//
// The layer is cut into blocks of consecutive tiles (sized by blockTiles); a worker
// takes a block at a time and runs, without leaving it:
//
//  1. per input channel, copy the block's rows into a zero-padded region (after the
//     first channel only the pixels: the zeros stay, and the rows go as rectangles,
//     a whole image at a time) and run the input transform (asm.WinogradInput), which gathers 16 tiles
//     a vector and writes V straight in the GEMM's packed-B panel layout (slivers of
//     asm.NR() tiles);
//  2. the α² GEMMs on the pre-packed U[ξ] (asm.PackedA), whose B "packing" is then a
//     contiguous copy;
//  3. per output channel, the output transform (asm.WinogradOutput) with bias and
//     ReLU into an L1-resident output region, whose rows are then copied into y,
//     clipping the edge tiles. (Scattering straight into y measured slower: the
//     scattered partial-line writes miss; the copy streams whole lines. Small
//     maps of several tiles an image are the exception: see direct.) When the
//     kernel serves a backward-data pass that applies a ReLU's gradient
//     (maskedForward), the copy is masked, or for small maps the block's whole
//     images are masked in one pass after the stage (maskedRunMin).
//
// A block's last vector group may be partly unused: those lanes gather the block's
// last tile again (finite values for the GEMM's padding columns) and scatter their
// output into a trash area of the output region, so no lane needs masking.
//
// Nothing of V or M is materialized for the whole layer, and x and y stay NCHW.
// The regions, V and M of a worker are cut from a buffer of an arena that every
// Winograd kernel shares (takeArena), so consecutive layers reuse warm memory.
//
// Workers take whole blocks. When the layer is a single block (few tiles: conv4_x
// and conv5_x at batch 1) and several threads are allowed, the block's stages are
// split instead: input channels, then the α² GEMMs, then output channels.

func init() {
	for _, m := range []int{2, 4, 6} {
		a := map[int]Algorithm{2: WinogradF23, 4: WinogradF43, 6: WinogradF63}[m]
		winogradKernels[a] = func(g Geometry) (kernel, error) { return newWinograd(g, m) }
	}
}

// Block sizing. Every block streams all of U (α²·K·C floats) from L3 through the
// GEMMs, and its V and M (α²·(C+K) floats a tile) either stay in L2 or spill to L3
// and come back. blockTiles picks whichever costs less L3 traffic a tile: small
// blocks whose V and M fit winogradL2Bytes (few channels: U is small), or large ones
// of up to winogradMaxBlockBytes (many channels: U dominates). That is 113 vs 910
// tiles at C=K=64 with F(4,3) → small; at C=K=256, 28 tiles cost 336 KB a tile in U
// against 189 KB at 227 tiles → large.
const (
	winogradL2Bytes       = 2 << 20
	winogradMaxBlockBytes = 16 << 20
)

// blockTiles returns the tiles per block (before balancing over threads).
func (k *winograd) blockTiles() int {
	g := k.g
	a2 := k.alpha * k.alpha
	perTile := 4 * a2 * (g.C + g.K)
	uBytes := 4 * a2 * g.C * g.K
	small := max(winogradL2Bytes/perTile, asm.WinogradGroup)
	large := max(winogradMaxBlockBytes/perTile, small)
	if uBytes/small <= uBytes/large+2*perTile {
		return small
	}
	return large
}

// winograd is the kernel of one F(m×m, 3×3) geometry.
type winograd struct {
	g        Geometry
	m, alpha int
	oh, ow   int
	th, tw   int // tiles per column and per row of one image
	wp, wo   int // widths of the input and output regions: tw·m+2, tw·m

	filt       *asm.WinogradFilter
	transposed bool           // filt holds a backward-data convolution's U
	u          []*asm.PackedA // U[ξ], K×C, ξ = a·α+b (filt's)
	bias       []float32      // K

	mu    sync.Mutex
	st    *winoState     // layout for the last batch size
	free  []*winoScratch // idle scratch for st
	call  winoCall       // arguments of the running forward
	runFn func(lo, hi int)

	// The single-block split: its scratch (a region per channel) and stage functions.
	split                        *winoScratch
	splitIn, splitGemm, splitOut func(lo, hi int)
	splitMask                    func(lo, hi int)

	// maskAfter: a masked call masks a block's whole images in one pass after its
	// output stage, not row by row in the output copy (see maskedRun).
	maskAfter bool
}

// winoCall holds a forward call's arguments for the parallel workers.
type winoCall struct {
	y, x []float32
	mask []float32 // nil, or y's ReLU-backward mask (forwardMasked)
	relu bool
}

// winoState is the block layout for one batch size and panel width.
type winoState struct {
	n, w   int // batch size; panel width (asm.NR() when it is a multiple of 16, else 16)
	blocks []winoBlock
	maxPad int // largest block's tile count rounded up to w
	inLen  int // input region floats of one channel
	outLen int // output region floats of one channel (trash area included)
}

// winoBlock is a run of consecutive tiles (in image, tile-row, tile-column order).
type winoBlock struct {
	nt   int     // tiles
	pad  int     // nt rounded up to w (the V layout's width)
	idx  []int32 // per tile (pad of them): offset of its α×α patch in the input region
	oidx []int32 // per tile: offset of its m×m result in the output region
	// The copies into the input region and out of the output region, the same for
	// every channel: worked out once, as a channel of a small map is a few rows of a
	// few floats each (4×4 at CIFAR's conv4), where the bookkeeping cost more than
	// the copying.
	in, out []winoRow
	// Once a reused region holds its zeros, a channel needs only its pixels: the
	// in rows' pixels merged into rectangles (a whole image is one).
	rects []winoRect
	// The images wholly inside the block: [img0, img1).
	img0, img1 int
	// yidx, when set, replaces oidx and out: per tile, the offset of its m×m result
	// in y from image img0's plane of the output channel, rows ow apart (see direct).
	yidx []int32
}

// winoRect is a rectangle of h rows of w pixels from offset pix of image img's
// plane (rows W apart) to input region offset reg (rows wp apart).
type winoRect struct {
	img, reg, pix, w, h int
}

// winoRow is one row copy of a block: n floats between region offset reg and
// pixel offset pix of image img's plane, and for the input region z0 zeros before
// and z1 after them.
type winoRow struct {
	img, reg, pix, n, z0, z1 int32
}

// winoSeg is the part of a block inside one image: tiles [a, b) of that image.
type winoSeg struct {
	img, a, b int
	ty0, ty1  int // first and last tile row
	in, out   int // offsets of its rows in the input and output regions
}

// winoScratch is one worker's buffers. Their memory comes from the shared arena
// (takeArena) for the length of a call: between take and release.
type winoScratch struct {
	st      *winoState
	in, out []float32 // input and output regions
	// Distance between the regions of consecutive chunks of splitGrain channels:
	// 0 when one region serves every channel (a worker's own block), st.inLen and
	// st.outLen when the workers of the single-block split share the scratch.
	inStride, outStride int
	v, mm               []float32 // V (α² slots of slotStride(pad·C)) and M (of slotStride(K·pad))
	bsrc                []winoB   // per ξ, the GEMM's view of V[ξ]
	lens                [4]int    // floats of v, mm, in and out: whole cache lines
	buf                 []float32 // the arena buffer they are cut from
}

// winoB presents V[ξ] (C × tiles, stored as slivers [tile/w][c][w]) as a BSource.
type winoB struct {
	v    []float32
	c, w int
}

func newWinograd(g Geometry, m int) (*winograd, error) {
	if !g.Is3x3s1() {
		return nil, fmt.Errorf("conv: Winograd F(%d,3) needs a 3×3 kernel with stride 1 and dilation 1, not %v", m, g)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if _, _, _, err := asm.WinogradMatrices(m); err != nil {
		return nil, err
	}
	a := m + 2
	k := &winograd{g: g, m: m, alpha: a, oh: g.OutH(), ow: g.OutW()}
	k.th, k.tw = (k.oh+m-1)/m, (k.ow+m-1)/m
	k.wp, k.wo = k.tw*m+2, k.tw*m
	k.runFn = k.run
	k.splitIn = func(lo, hi int) { k.inputStage(&k.st.blocks[0], k.split, lo, hi) }
	k.splitGemm = func(lo, hi int) { k.gemmStage(&k.st.blocks[0], k.split, lo, hi) }
	k.splitOut = func(lo, hi int) { k.outputStage(&k.st.blocks[0], k.split, lo, hi) }
	k.splitMask = func(lo, hi int) {
		b := &k.st.blocks[0]
		k.maskImages(b.img0+lo, b.img0+hi)
	}
	k.maskAfter = k.maskedRun() < maskedRunMin
	return k, nil
}

// maskedRunMin is the shortest run of an output copy that a masked call masks as
// it copies. Shorter runs (small maps: whole 8×8 planes, CIFAR's conv3_x, and
// smaller) read their mask a short run at a time at a stride of K planes, which
// the prefetchers do not follow: masking them in the copy cost about twice the
// ReLU's own pass (BenchmarkBackwardDataMasked, batch 64, one thread: 0.97–1.2
// against 0.43–0.54 ms on conv3_2, 0.96–0.98 against 0.49–0.52 on conv4_2,
// 0.26–0.29 against 0.03–0.04 on conv5_2). Their blocks mask each whole image
// in one pass once the output stage is done, while it is still in cache
// (0.36–0.42, 0.20–0.25, 0.03–0.04 ms). Long runs (32×32 and 16×16 planes)
// stream the mask along with the copy, which beats that pass (1.04–1.12 against
// 1.40–1.56 ms on conv1_2, 0.39–0.41 against 0.67–0.69 on conv2_2, where the
// ReLU's own pass costs 2.0–2.3 and 0.95–1.1).
const maskedRunMin = 256

// maskedRun returns the length of an image's output copies: whole planes when the
// output region's rows are the map's (the width a multiple of m), else rows.
func (k *winograd) maskedRun() int {
	if k.wo == k.ow {
		return k.oh * k.ow
	}
	return k.ow
}

// direct reports whether the output transform writes straight into y rather than
// into the output region for a copy: small maps (those masked after the stage)
// whose tiles cover the image exactly, with at least 4 tiles an image (8×8 maps
// with F(4,3), 4×4 and 8×8 with F(2,3)). Their planes are a few cache lines, so
// the scattered writes hit the lines the copy would have written, and the copy
// is gone (out stage −15% on conv3_x, −33% on conv4_x with F(2,3)). With one tile
// an image (4×4 with F(4,3), 2×2 with F(2,3)) a group's 16 lanes write 16 planes
// K planes apart, often a multiple of 4 KiB: all in one L1 set of 12 ways, and
// the scatter ran 1.7–2.5× slower than region and copy. Blocks with padding
// lanes (whose results go to the trash area) or partial images keep the region.
func (k *winograd) direct() bool {
	return k.maskAfter && k.wo == k.ow && k.th*k.m == k.oh && k.th*k.tw >= 4
}

// maskImages masks the output of images [i0, i1) in place: y where mask > 0 or is
// NaN, else 0.
func (k *winograd) maskImages(i0, i1 int) {
	if i1 <= i0 {
		return
	}
	per := k.g.K * k.oh * k.ow
	y := k.call.y[i0*per : i1*per]
	asm.ReLUBackward(y, y, k.call.mask[i0*per:i1*per])
}

// setWeights computes U[ξ] = (G·g·Gᵀ)[ξ] for every filter (k, c) of w, straight
// into the GEMMs' packed layout (asm.WinogradFilter): training calls it every step.
func (k *winograd) setWeights(w, bias []float32) {
	k.setFilters(w, false)
	if k.bias == nil {
		k.bias = make([]float32, k.g.K)
	}
	if bias == nil {
		clear(k.bias)
	} else {
		copy(k.bias, bias)
	}
}

// setTransposedWeights prepares the kernel as the backward-data convolution of
// the convolution with weights w (its C×K×3×3, i.e. this kernel's K×C filters
// rotated by 180° and transposed), without a bias. Its U comes straight from w,
// with no rotated copy of the weights.
func (k *winograd) setTransposedWeights(w []float32) {
	k.setFilters(w, true)
	if k.bias == nil {
		k.bias = make([]float32, k.g.K)
	}
	clear(k.bias)
}

// setFilters fills U from w: K×C×3×3 filters, or C×K×3×3 ones when transposed.
func (k *winograd) setFilters(w []float32, transposed bool) {
	g := k.g
	if k.filt == nil || k.transposed != transposed {
		fk, fc := g.K, g.C
		if transposed {
			fk, fc = g.C, g.K
		}
		f, err := asm.NewWinogradFilter(k.m, fk, fc, transposed)
		if err != nil {
			panic("conv: winograd weight transform: " + err.Error()) // sizes are the plan's own
		}
		k.filt, k.transposed, k.u = f, transposed, f.U()
	}
	if err := k.filt.Set(w); err != nil {
		panic("conv: winograd weight transform: " + err.Error())
	}
}

func (k *winograd) weightBytes() int {
	b := 4 * len(k.bias)
	if k.filt != nil {
		b += k.filt.Bytes()
	}
	return b
}

// forward computes y = conv(x) + bias (then ReLU) for a batch of n.
func (k *winograd) forward(y, x []float32, n int, relu bool) {
	k.compute(winoCall{y: y, x: x, relu: relu}, n)
}

// forwardMasked computes y = conv(x) + bias where mask > 0 or is NaN, else 0: the
// output copy applies the mask (see maskedForward).
func (k *winograd) forwardMasked(y, x, mask []float32, n int) {
	k.compute(winoCall{y: y, x: x, mask: mask}, n)
}

// compute runs call on a batch of n.
func (k *winograd) compute(call winoCall, n int) {
	st := k.state(n)
	k.call = call
	if len(st.blocks) == 1 && asm.Threads() > 1 {
		if k.split == nil || k.split.st != st {
			k.split = k.newScratch(st, true)
		}
		// One GEMM (K×C×tiles) is more than a hand-off's worth.
		k.split.take()
		asm.ParallelFor(k.g.C, splitGrain, k.splitIn)
		asm.ParallelFor(k.alpha*k.alpha, 1, k.splitGemm)
		asm.ParallelFor(k.g.K, splitGrain, k.splitOut)
		if b := &st.blocks[0]; k.call.mask != nil && k.maskAfter {
			asm.ParallelFor(b.img1-b.img0, max(1, maskGrain/(k.g.K*k.oh*k.ow)), k.splitMask)
		}
		k.split.release()
	} else {
		asm.ParallelFor(len(st.blocks), 1, k.runFn)
	}
	k.call = winoCall{}
}

// splitGrain is the channels of the single-block split's smallest chunk: 32 are
// ~50–100 µs of transforms and copies. asm.ParallelFor's chunks are disjoint and
// all but the last hold at least splitGrain channels, so no two start within
// splitGrain of each other and chunk [c0, c1) can own the regions of index
// c0/splitGrain: a worker reuses one input and one output region, warm in L1 and
// with its zeros in place, for all its channels, as a block's worker does.
const splitGrain = 32

// run processes blocks [lo, hi) on one worker's scratch.
func (k *winograd) run(lo, hi int) {
	k.mu.Lock()
	st := k.st
	var sc *winoScratch
	if l := len(k.free); l > 0 {
		sc, k.free = k.free[l-1], k.free[:l-1]
	}
	k.mu.Unlock()
	if sc == nil {
		sc = k.newScratch(st, false)
	}
	sc.take()
	for b := lo; b < hi; b++ {
		k.block(&st.blocks[b], sc)
	}
	sc.release()
	k.mu.Lock()
	k.free = append(k.free, sc)
	k.mu.Unlock()
}

// state returns the block layout for batch n, building it when n or the GEMM's
// panel width changed.
func (k *winograd) state(n int) *winoState {
	w := asm.NR()
	if w%asm.WinogradGroup != 0 {
		w = asm.WinogradGroup
	}
	if st := k.st; st != nil && st.n == n && st.w == w {
		return st
	}
	perImg := k.th * k.tw
	total := n * perImg
	nt := max(k.blockTiles()/w*w, w)
	nb := (total + nt - 1) / nt
	// Give every thread a block when there is enough work to share.
	if t := asm.Threads(); nb < t && total >= 2*w*t {
		nb = t
	}
	// Whole transform groups (16 tiles) per block, not whole GEMM slivers (w):
	// the GEMM runs a half sliver's columns at about half the cost (its narrow
	// loop), so 196 tiles split 112 | 84 between two threads rather than 128 | 68.
	// The V layout still holds whole slivers (pad); see the top of the file.
	nt = (total + nb - 1) / nb
	nt = (nt + asm.WinogradGroup - 1) / asm.WinogradGroup * asm.WinogradGroup
	st := &winoState{n: n, w: w}
	for t0 := 0; t0 < total; t0 += nt {
		st.blocks = append(st.blocks, k.newBlock(st, t0, min(t0+nt, total)))
	}
	k.mu.Lock()
	k.st, k.free = st, nil
	k.mu.Unlock()
	return st
}

// newBlock lays out tiles [t0, t1) (batch-wide numbering).
func (k *winograd) newBlock(st *winoState, t0, t1 int) winoBlock {
	g, m, tw := k.g, k.m, k.tw
	perImg := k.th * tw
	b := winoBlock{nt: t1 - t0}
	b.pad = (b.nt + st.w - 1) / st.w * st.w
	b.idx = make([]int32, b.pad)
	b.oidx = make([]int32, b.pad)
	in, out := 0, m*k.wo // the output region starts with the trash area at 0
	for t := t0; t < t1; {
		img := t / perImg
		a, e := t-img*perImg, min(t1-img*perImg, perImg)
		s := winoSeg{img: img, a: a, b: e, ty0: a / tw, ty1: (e - 1) / tw, in: in, out: out}
		for i := a; i < e; i++ {
			ty, tx := i/tw, i%tw
			j := img*perImg + i - t0
			b.idx[j] = int32(s.in + (ty-s.ty0)*m*k.wp + tx*m)
			b.oidx[j] = int32(s.out + (ty-s.ty0)*m*k.wo + tx*m)
		}
		rows := s.ty1 - s.ty0 + 1
		in += (rows*m + 2) * k.wp
		out += rows * m * k.wo
		nin := len(b.in)
		b.in = k.inputRows(b.in, s)
		for _, r := range b.in[nin:] {
			if r.n == 0 {
				continue
			}
			reg := int(r.reg + r.z0)
			if l := len(b.rects) - 1; l >= 0 {
				if p := &b.rects[l]; p.img == img && p.w == int(r.n) && p.pix+p.h*g.W == int(r.pix) && p.reg+p.h*k.wp == reg {
					p.h++
					continue
				}
			}
			b.rects = append(b.rects, winoRect{img: img, reg: reg, pix: int(r.pix), w: int(r.n), h: 1})
		}
		b.out = k.outputRows(b.out, s)
		t = img*perImg + e
	}
	for j := b.nt; j < b.pad; j++ { // padding lanes: see the top of the file
		b.idx[j] = b.idx[b.nt-1]
	}
	b.img0, b.img1 = (t0+perImg-1)/perImg, t1/perImg
	b.img1 = max(b.img1, b.img0)
	if k.direct() && b.nt%asm.WinogradGroup == 0 && b.nt == (b.img1-b.img0)*perImg {
		b.yidx = make([]int32, b.nt)
		for j := range b.yidx {
			img, i := (t0+j)/perImg-b.img0, (t0+j)%perImg
			b.yidx[j] = int32(img*g.K*k.oh*k.ow + i/tw*m*k.ow + i%tw*m)
		}
		b.oidx, b.out = nil, nil
	}
	st.maxPad = max(st.maxPad, b.pad)
	st.inLen = max(st.inLen, in)
	st.outLen = max(st.outLen, out)
	return b
}

// newScratch sizes a worker's buffers; perChunk gives every chunk of splitGrain
// channels its own input and output region, so that chunks can be processed
// concurrently.
func (k *winograd) newScratch(st *winoState, perChunk bool) *winoScratch {
	g := k.g
	a2 := k.alpha * k.alpha
	sc := &winoScratch{st: st, bsrc: make([]winoB, a2)}
	nin, nout := 1, 1
	if perChunk {
		nin, nout = (g.C+splitGrain-1)/splitGrain, (g.K+splitGrain-1)/splitGrain
		sc.inStride, sc.outStride = st.inLen, st.outLen
	}
	line := func(n int) int { return (n + 15) / 16 * 16 }
	sc.lens = [4]int{a2 * slotStride(st.maxPad*g.C), a2 * slotStride(g.K*st.maxPad), line(nin * st.inLen), line(nout * st.outLen)}
	return sc
}

// take cuts the buffers from an arena buffer.
func (sc *winoScratch) take() {
	sc.buf = takeArena(sc.lens[0] + sc.lens[1] + sc.lens[2] + sc.lens[3])
	rest := sc.buf
	for i, p := range []*[]float32{&sc.v, &sc.mm, &sc.in, &sc.out} {
		*p, rest = rest[:sc.lens[i]:sc.lens[i]], rest[sc.lens[i]:]
	}
}

// release hands the arena buffer back.
func (sc *winoScratch) release() {
	putArena(sc.buf)
	sc.buf, sc.v, sc.mm, sc.in, sc.out = nil, nil, nil, nil, nil
	clear(sc.bsrc)
}

// The scratch memory of every Winograd kernel comes from one arena of buffers,
// taken for a call and handed back. Layers run one after another, so at batch 1 a
// layer finds its scratch warm in cache from the layer before (each kernel's own
// buffers started cold: 2–3 ms of VGG-16's convolutions on one thread), and the
// process holds buffers for its concurrent calls, not for every layer. Plans
// running at the same time take different buffers.
var winoArena struct {
	mu   sync.Mutex
	free [][]float32
}

// takeArena returns a buffer of at least n floats, 64-byte aligned: the largest
// free one, or a new one when that is too small (the small one is dropped, so
// the buffers grow to the largest layer's needs and then stop allocating).
func takeArena(n int) []float32 {
	a := &winoArena
	a.mu.Lock()
	var b []float32
	if l := len(a.free); l > 0 {
		i := 0
		for j := range a.free {
			if len(a.free[j]) > len(a.free[i]) {
				i = j
			}
		}
		b = a.free[i]
		a.free[i] = a.free[l-1]
		a.free[l-1] = nil
		a.free = a.free[:l-1]
	}
	a.mu.Unlock()
	if len(b) < n {
		b = tensor.Aligned(n)
	}
	return b
}

// putArena hands a buffer from takeArena back.
func putArena(b []float32) {
	a := &winoArena
	a.mu.Lock()
	a.free = append(a.free, b)
	a.mu.Unlock()
}

// block runs the three stages on one block of tiles.
func (k *winograd) block(b *winoBlock, sc *winoScratch) {
	k.inputStage(b, sc, 0, k.g.C)
	k.gemmStage(b, sc, 0, k.alpha*k.alpha)
	k.outputStage(b, sc, 0, k.g.K)
	if k.call.mask != nil && k.maskAfter {
		k.maskImages(b.img0, b.img1)
	}
}

// inputStage fills the regions of input channels [c0, c1) and transforms them into V.
func (k *winograd) inputStage(b *winoBlock, sc *winoScratch, c0, c1 int) {
	g := k.g
	w := sc.st.w
	x := k.call.x
	vstride := slotStride(b.pad * g.C)
	groups := b.pad / asm.WinogradGroup
	plane := g.H * g.W
	in := sc.in[c0/splitGrain*sc.inStride:][:sc.st.inLen]
	for c := c0; c < c1; c++ {
		if c == c0 {
			for _, r := range b.in {
				row := in[r.reg : r.reg+r.z0+r.n+r.z1]
				clearShort(row[:r.z0])
				clearShort(row[r.z0+r.n:])
				copyShort(row[r.z0:r.z0+r.n], x[(int(r.img)*g.C+c)*plane+int(r.pix):][:r.n])
			}
		} else {
			// The zeros are where they were for the previous channel when one
			// region serves channel after channel.
			copyRects(in, k.wp, x[c*plane:], g.W, g.C*plane, b.rects)
		}
		if w == asm.WinogradGroup {
			asm.WinogradInput(k.m, sc.v[c*w:], vstride, g.C*w, in, k.wp, b.idx, groups)
		} else {
			for s := 0; s < b.pad/w; s++ {
				asm.WinogradInput(k.m, sc.v[(s*g.C+c)*w:], vstride, asm.WinogradGroup, in, k.wp, b.idx[s*w:], w/asm.WinogradGroup)
			}
		}
	}
}

// gemmStage runs the GEMMs of ξ in [x0, x1): M[ξ] (K × nt, row stride pad) = U[ξ] · V[ξ].
func (k *winograd) gemmStage(b *winoBlock, sc *winoScratch, x0, x1 int) {
	g := k.g
	vstride := slotStride(b.pad * g.C)
	mstride := slotStride(g.K * b.pad)
	for xi := x0; xi < x1; xi++ {
		src := &sc.bsrc[xi]
		*src = winoB{v: sc.v[xi*vstride : xi*vstride+b.pad*g.C], c: g.C, w: sc.st.w}
		k.u[xi].Gemm(b.nt, 1, src, 0, sc.mm[xi*mstride:], b.pad)
	}
}

// outputStage runs the output transform, with bias and ReLU, of output channels
// [k0, k1) and copies them into y, masked when the call has a mask (except the
// block's whole images when those are masked afterwards: maskAfter).
func (k *winograd) outputStage(b *winoBlock, sc *winoScratch, k0, k1 int) {
	g := k.g
	y, mask := k.call.y, k.call.mask
	mstride := slotStride(g.K * b.pad)
	groups := (b.nt + asm.WinogradGroup - 1) / asm.WinogradGroup
	oplane := k.oh * k.ow
	a0, a1 := 0, 0 // images whose mask waits for the pass after the stage
	if k.maskAfter {
		a0, a1 = b.img0, b.img1
	}
	if b.yidx != nil {
		y := y[b.img0*g.K*oplane:]
		for ko := k0; ko < k1; ko++ {
			asm.WinogradOutput(k.m, y[ko*oplane:], k.ow, b.yidx, sc.mm[ko*b.pad:], mstride, groups, k.bias[ko], k.call.relu)
		}
		return
	}
	out := sc.out[k0/splitGrain*sc.outStride:][:sc.st.outLen]
	for ko := k0; ko < k1; ko++ {
		asm.WinogradOutput(k.m, out, k.wo, b.oidx, sc.mm[ko*b.pad:], mstride, groups, k.bias[ko], k.call.relu)
		for _, r := range b.out {
			o := (int(r.img)*g.K+ko)*oplane + int(r.pix)
			if img := int(r.img); mask == nil || img >= a0 && img < a1 {
				copyShort(y[o:][:r.n], out[r.reg:r.reg+r.n])
			} else {
				maskShort(y[o:][:r.n], out[r.reg:r.reg+r.n], mask[o:][:r.n])
			}
		}
	}
}

// slotStride returns the distance between the α² slots of V or M holding n floats:
// n rounded to a cache line plus one, so that the slots a transform touches together
// do not all map to the same L1 set (n·4 is often a multiple of 4 KiB).
func slotStride(n int) int {
	return (n+15)/16*16 + 16
}

// inputRows appends the row copies that fill the input region under segment s's
// tiles (rows of width wp), zero-padded: region row r, column q hold
// x[ty0·m+r−PadH][q−PadW]. Only the columns the segment's tiles read are written:
// a block often starts or ends in the middle of a tile row, and copying whole rows
// would double the traffic.
func (k *winograd) inputRows(ops []winoRow, s winoSeg) []winoRow {
	g := k.g
	m, tw := k.m, k.tw
	last := s.ty1 - s.ty0
	rows := (last+1)*m + 2
	y0 := s.ty0*m - g.PadH
	for r := 0; r < rows; r++ {
		// Tile rows j (from ty0) with j·m ≤ r < j·m+m+2 read this row; their tiles
		// [lo, hi) read columns [lo·m, hi·m+2).
		// Only tile row 0 starts late and only the last ends early.
		jlo, jhi := max(0, (r-2)/m), min(r/m, last)
		lo, hi := 0, tw
		if jhi == 0 {
			lo = s.a % tw
		}
		if jlo == last {
			hi = (s.b-1)%tw + 1
		}
		c0, c1 := lo*m, hi*m+2
		op := winoRow{img: int32(s.img), reg: int32(s.in + r*k.wp + c0), z0: int32(c1 - c0)}
		// Input columns [c0−PadW, c1−PadW) ∩ [0, W) go to region columns +PadW.
		iy := y0 + r
		if x0, x1 := max(c0-g.PadW, 0), min(c1-g.PadW, g.W); iy >= 0 && iy < g.H && x0 < x1 {
			op.pix, op.n = int32(iy*g.W+x0), int32(x1-x0)
			op.z0, op.z1 = int32(x0+g.PadW-c0), int32(c1-g.PadW-x1)
		}
		ops = append(ops, op)
	}
	return ops
}

// outputRows appends the row copies of segment s's results from the output region
// (rows of width wo) into the output planes, clipping partial tiles at the right
// and bottom edges. Rows contiguous in both (whole rows of a map whose width is a
// multiple of m) are merged into one copy.
func (k *winograd) outputRows(ops []winoRow, s winoSeg) []winoRow {
	m, tw := k.m, k.tw
	for ty := s.ty0; ty <= s.ty1; ty++ {
		lo, hi := 0, tw
		if ty == s.ty0 {
			lo = s.a % tw
		}
		if ty == s.ty1 {
			hi = (s.b-1)%tw + 1
		}
		c0, c1 := lo*m, min(hi*m, k.ow)
		for i := 0; i < m; i++ {
			oy := ty*m + i
			if oy >= k.oh {
				break
			}
			op := winoRow{img: int32(s.img), reg: int32(s.out + ((ty-s.ty0)*m+i)*k.wo + c0), pix: int32(oy*k.ow + c0), n: int32(c1 - c0)}
			if l := len(ops) - 1; l >= 0 && ops[l].img == op.img && ops[l].reg+ops[l].n == op.reg && ops[l].pix+ops[l].n == op.pix {
				ops[l].n += op.n
				continue
			}
			ops = append(ops, op)
		}
	}
	return ops
}

// copyShort is copy for the rows of small maps (CIFAR's 2×2 to 8×8 in training
// give rows of 2–10 floats), where a loop beats a call to memmove, and a whole
// 4×4 plane is one fixed-size move. (As one move, the 2×2 planes of F(2,3) ran
// slower than the loop: their 16-byte loads read 4 floats the transform's
// scatter has just stored one by one, which store forwarding cannot combine.)
func copyShort(dst, src []float32) {
	if len(src) == 16 { // four 16-byte moves: a [16]float32 move calls memmove
		dst := dst[:16]
		*(*[4]float32)(dst) = [4]float32(src)
		*(*[4]float32)(dst[4:]) = [4]float32(src[4:])
		*(*[4]float32)(dst[8:]) = [4]float32(src[8:])
		*(*[4]float32)(dst[12:]) = [4]float32(src[12:])
		return
	}
	if len(src) > 16 {
		copy(dst, src)
		return
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v
	}
}

// maskShort sets dst[i] = src[i] where mask[i] > 0 or is NaN, else 0: a masked
// copyShort, asm.ReLUBackward's rule. Rows of 8 floats or more (whole 4×4 planes
// of CIFAR's conv4_x) go to the vector kernel, whose call costs less than 8
// elements of the loop (1.1 against 1.4 ns a float, 2.5× less at 16); the loop
// has no branch on the mask: a ReLU's signs are random, and a branch on them
// mispredicted half the time (+30% on conv4_2's whole backward data).
func maskShort(dst, src, mask []float32) {
	if len(src) >= 8 {
		asm.ReLUBackward(dst, src, mask)
		return
	}
	dst, mask = dst[:len(src)], mask[:len(src)]
	for i, v := range src {
		dst[i] = math.Float32frombits(math.Float32bits(v) & keepBits(mask[i]))
	}
}

// keepBits returns all ones where m > 0 or is NaN, and 0 where m ≤ 0 (±0 and −Inf
// included), without a branch.
func keepBits(m float32) uint32 {
	b := math.Float32bits(m)
	pos := -int64(int32(b)) >> 63                   // all ones iff int32(b) > 0: m > 0, or a NaN with the sign clear
	nan := (0x7f800000 - int64(b&0x7fffffff)) >> 63 // all ones iff |m| is a NaN
	return uint32(pos | nan)
}

// copyRects copies each rectangle r, h rows of w floats sld apart from
// src[r.img·istride+r.pix:], to rows ld apart from dst[r.reg:]: parts of images or
// whole ones into their input region, with fixed-size moves for the widths of
// CIFAR-style maps. One call for all of a block's rectangles, as a call for each
// cost more than its copy on small maps (a 4×4 image is 4 moves).
func copyRects(dst []float32, ld int, src []float32, sld, istride int, rects []winoRect) {
	for _, r := range rects {
		h, w := r.h, r.w
		s, d := src[r.img*istride+r.pix:][:(h-1)*sld+w], dst[r.reg:][:(h-1)*ld+w]
		switch w {
		case 2:
			for y := range h {
				*(*[2]float32)(d[y*ld:]) = [2]float32(s[y*sld:])
			}
		case 4:
			for y := range h {
				*(*[4]float32)(d[y*ld:]) = [4]float32(s[y*sld:])
			}
		case 8:
			for y := range h {
				d, s := d[y*ld:][:8], s[y*sld:][:8] // not one [8] move: that calls memmove
				*(*[4]float32)(d) = [4]float32(s)
				*(*[4]float32)(d[4:]) = [4]float32(s[4:])
			}
		default:
			for y := range h {
				copyShort(d[y*ld:][:w], s[y*sld:][:w])
			}
		}
	}
}

// clearShort is clear for short rows, like copyShort.
func clearShort(s []float32) {
	if len(s) > 16 {
		clear(s)
		return
	}
	for i := range s {
		s[i] = 0
	}
}

var _ asm.PanelSource = (*winoB)(nil)

// Panels lets the GEMM read V[ξ]'s slivers in place (asm.PanelSource) when its
// panel width is the layout's. The padding columns of a block's last sliver hold
// a real tile's values (see the top of the file), so they are finite.
func (s *winoB) Panels(k0, kc, j0, nc, nr int) ([]float32, int) {
	if nr != s.w {
		return nil, 0
	}
	return s.v[(j0/nr*s.c+k0)*nr:], s.c * nr
}

// PackB copies slivers of V[ξ]; when the GEMM's panel width is the layout's, each
// sliver is one contiguous copy.
func (s *winoB) PackB(dst []float32, k0, kc, j0, nc, nr int) {
	if nr == s.w && j0%nr == 0 {
		for j := 0; j < nc; j += nr {
			src := ((j0+j)/nr*s.c + k0) * nr
			copy(dst[j/nr*kc*nr:][:kc*nr], s.v[src:src+kc*nr])
		}
		return
	}
	for j := 0; j < nc; j += nr {
		panel := dst[j/nr*kc*nr:][:kc*nr]
		wd := min(nr, nc-j)
		for p := 0; p < kc; p++ {
			row := panel[p*nr : (p+1)*nr]
			for q := 0; q < wd; q++ {
				t := j0 + j + q
				row[q] = s.v[(t/s.w*s.c+k0+p)*s.w+t%s.w]
			}
			clear(row[wd:])
		}
	}
}

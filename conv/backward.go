package conv

import "github.com/govgg/govgg/asm"

// backwardData computes dX. For stride 1 with padding ≤ DilH·(R−1) (and the same
// across) and at least minTransposedC input channels, dX is a forward convolution of
// dY, zero-padded by Dil·(R−1)−Pad, with the weights rotated by 180° and C and K
// swapped; it runs on a forward kernel of its own, so Winograd can serve it for 3×3
// layers. Otherwise (and for implicit GEMM on maps of at most generalMaxPixels)
// dX = col2im(Wᵀ·dY), computed a block of columns at a time so that the col buffer
// stays about 1 MiB.
//
// A mask (BackwardDataMasked: the gradient of the ReLU whose output is x) is
// applied where dX is written: by the transposed convolution's kernel as it stores
// its output (Winograd's output copy, implicit GEMM's epilogue while a block is in
// cache), and on the general path, whose col2im adds to pixels until their image's
// last column is done, to each run of finished images right after the GEMM block
// that finished them.
type backwardData struct {
	g          Geometry
	transposed bool
	gt         Geometry // the transposed convolution's geometry
	stale      bool     // the weights changed since the kernels were prepared

	// transposed path
	wRot   []float32 // the rotated weights, for implicit GEMM
	rotSrc []float32 // the weights while rotateWeights runs
	rotFn  func(lo, hi int)
	kern   kernel
	alg    Algorithm

	// general path
	wt    *asm.PackedA // Wᵀ, C·R·S × K
	src   im2colSource // dY as a K × n·P·Q matrix
	taps  []tap        // of the forward geometry, for col2im
	col   []float32    // C·R·S × chunk
	chunk int

	// the general path's mask pass: dX, the mask and the first image of the
	// pass while it runs
	dx, mask []float32
	maskFrom int
	maskFn   func(lo, hi int)
}

// maskedForward is implemented by the kernels that serve the transposed
// convolution: forwardMasked is forward without bias or ReLU whose output is
// masked as it is stored, y = conv(x) where mask > 0 or is NaN, else 0, exactly as
// asm.ReLUBackward(y, y, mask) after forward would leave it.
type maskedForward interface {
	forwardMasked(y, x, mask []float32, n int)
}

var (
	_ maskedForward = (*winograd)(nil)
	_ maskedForward = (*im2colKernel)(nil)
)

// minTransposedC is the fewest input channels for which backward data runs as a
// transposed convolution.
const minTransposedC = 16

func (b *backwardData) init(g Geometry) {
	b.g = g
	// The transposed convolution's GEMM has C rows: with few input channels (a
	// network's first layer) most of each micro-kernel tile would be padding, and
	// the GEMM with C·R·S rows plus col2im is faster.
	b.transposed = g.StrideH == 1 && g.StrideW == 1 && g.PadH <= g.DilH*(g.R-1) && g.PadW <= g.DilW*(g.S-1) &&
		g.C >= minTransposedC
	if b.transposed {
		b.rotFn = b.rotate
		b.gt = Geometry{C: g.K, H: g.OutH(), W: g.OutW(), K: g.C, R: g.R, S: g.S, StrideH: 1, StrideW: 1,
			PadH: g.DilH*(g.R-1) - g.PadH, PadW: g.DilW*(g.S-1) - g.PadW, DilH: g.DilH, DilW: g.DilW}
		return
	}
	b.initGeneral()
}

// initGeneral sets up the col2im(Wᵀ·dY) path.
func (b *backwardData) initGeneral() {
	g := b.g
	b.transposed = false
	b.src = newIm2colSource(Geometry{C: g.K, H: g.OutH(), W: g.OutW(), K: g.K, R: 1, S: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}, 0)
	b.taps = makeTaps(g)
	b.chunk = chunkCols(g.C*g.R*g.S, 1<<18)
	b.maskFn = b.maskImages
}

// generalMaxPixels is the largest output map (pixels per image) on which implicit
// GEMM's backward data takes the col2im(Wᵀ·dY) path even where the transposed
// convolution applies. The GEMMs cost the same; what differs is preparing new
// weights, which training does every step: Wᵀ packs with a plain copy, while the
// transposed convolution's weights are rotated, transposed and then packed. On
// maps this small that is a large part of the pass (BenchmarkTrainPrep, CIFAR
// VGG-16 at batch 64, one thread, CPU time with new weights: conv5_1 (2×2) 12.4
// against 17.6 ms, conv4_1 (4×4) 18.6 against 23.3 ms; conv3_2 (8×8) 45.9 against
// 41.6 ms, where col2im's scattered adds already cost more).
const generalMaxPixels = 16

func (b *backwardData) weightBytes() int {
	s := 0
	if b.kern != nil {
		s += b.kern.weightBytes() + 4*len(b.wRot)
	}
	if b.wt != nil {
		s += b.wt.Bytes()
	}
	return s
}

// run computes dX into dx from dy, masked by mask unless it is nil.
func (b *backwardData) run(dx, dy, mask []float32, n int, w []float32, cfg config) {
	if b.transposed {
		if b.kern == nil {
			b.newTransposed(w, n, cfg) // may choose the general path
		} else if b.stale {
			b.setTransposed(w)
			b.stale = false
		}
	}
	if b.transposed {
		if mask != nil {
			b.kern.(maskedForward).forwardMasked(dx, dy, mask, n)
		} else {
			b.kern.forward(dx, dy, n, false)
		}
		return
	}
	g := b.g
	crs := g.C * g.R * g.S
	if b.wt == nil || b.stale {
		repack(&b.wt, true, crs, g.K, w, crs)
		b.stale = false
	}
	if b.col == nil {
		b.col = make([]float32, crs*b.chunk)
	}
	clear(dx)
	b.src.xp = dy // a 1×1 geometry without padding reads dY in place
	b.dx, b.mask = dx, mask
	defer func() { b.src.xp, b.dx, b.mask = nil, nil, nil }()
	pq := g.OutH() * g.OutW()
	total, done := n*pq, 0 // done: images masked so far
	for c0 := 0; c0 < total; c0 += b.chunk {
		nc := min(b.chunk, total-c0)
		b.src.col0 = c0
		b.wt.Gemm(nc, 1, &b.src, 0, b.col, nc)
		b.col2im(dx, b.col[:crs*nc], c0, nc)
		// Images whose last column this block held are final: mask them while
		// they are still in cache.
		if full := (c0 + nc) / pq; mask != nil && full > done {
			b.maskFrom = done
			asm.ParallelFor(full-done, max(1, maskGrain/(g.C*g.H*g.W)), b.maskFn)
			done = full
		}
	}
}

// maskGrain is the fewest floats of dX worth handing a mask pass to another
// thread (a memory-bound pass: about 100 µs).
const maskGrain = 1 << 17

// newTransposed builds the transposed convolution's kernel for weights w: the
// forward algorithm when it applies to the transposed geometry, else implicit GEMM,
// which on small maps gives way to the general path (see generalMaxPixels). The
// choice is made once, for the first batch size seen.
func (b *backwardData) newTransposed(w []float32, n int, cfg config) {
	a := cfg.alg
	if a == Auto {
		a = chooseAlgorithm(b.gt, n)
	}
	if a != Im2col && applicable(a, b.gt) == nil {
		if k, err := newKernel(a, b.gt); err == nil {
			b.kern, b.alg = k, a
			b.setTransposed(w)
			if cfg.maxWeightBytes == 0 || k.weightBytes() <= cfg.maxWeightBytes {
				b.stale = false
				return
			}
		}
	}
	b.alg = Im2col
	if b.g.OutH()*b.g.OutW() <= generalMaxPixels {
		b.kern = nil
		b.initGeneral() // stale: Wᵀ is packed below
		return
	}
	b.kern = newIm2colKernel(b.gt)
	b.setTransposed(w)
	b.stale = false
}

// setTransposed gives the kernel the weights w (K×C×R×S) rotated by 180° with C
// and K swapped. Winograd transforms w into its U directly; implicit GEMM packs a
// rotated copy.
func (b *backwardData) setTransposed(w []float32) {
	if k, ok := b.kern.(*winograd); ok {
		k.setTransposedWeights(w)
		return
	}
	b.rotateWeights(w)
	b.kern.setWeights(b.wRot, nil)
}

// rotateWeights sets b.wRot to w (K×C×R×S) rotated by 180° with C and K swapped
// (C×K×R×S), on up to asm.Threads() goroutines.
func (b *backwardData) rotateWeights(w []float32) {
	if cap(b.wRot) < len(w) {
		b.wRot = make([]float32, len(w))
	}
	b.wRot, b.rotSrc = b.wRot[:len(w)], w
	// Blocks of rotBlock output channels: ~64 KiB of weights at C=512, 3×3.
	asm.ParallelFor((b.g.K+rotBlock-1)/rotBlock, max(1, 1<<16/(rotBlock*b.g.C*b.g.R*b.g.S)), b.rotFn)
	b.rotSrc = nil
}

// rotBlock is the output channels rotated together: each input channel then
// writes rotBlock filters contiguously and the reads are rotBlock sequential
// streams. (One output channel at a time writes at a stride of K·R·S floats,
// 18 KiB for K=512, which puts all the writes in two L1 sets.)
const rotBlock = 16

// rotate rotates output channels [lo, hi)·rotBlock of b.rotSrc into b.wRot.
func (b *backwardData) rotate(lo, hi int) {
	g := &b.g
	rs := g.R * g.S
	for k0 := lo * rotBlock; k0 < min(hi*rotBlock, g.K); k0 += rotBlock {
		k1 := min(k0+rotBlock, g.K)
		for c := 0; c < g.C; c++ {
			out := b.wRot[(c*g.K+k0)*rs : (c*g.K+k1)*rs]
			if rs == 9 { // 3×3, unrolled: 5× faster than the loop
				for k := k0; k < k1; k++ {
					s := (*[9]float32)(b.rotSrc[(k*g.C+c)*9:])
					d := (*[9]float32)(out[(k-k0)*9:])
					d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8] = s[8], s[7], s[6], s[5], s[4], s[3], s[2], s[1], s[0]
				}
				continue
			}
			for k := k0; k < k1; k++ {
				src := b.rotSrc[(k*g.C+c)*rs : (k*g.C+c+1)*rs]
				dst := out[(k-k0)*rs : (k-k0+1)*rs]
				for i, v := range src {
					dst[rs-1-i] = v
				}
			}
		}
	}
}

// maskImages masks dX's images maskFrom+lo … maskFrom+hi−1 in place.
func (b *backwardData) maskImages(lo, hi int) {
	chw := b.g.C * b.g.H * b.g.W
	a, e := (b.maskFrom+lo)*chw, (b.maskFrom+hi)*chw
	asm.ReLUBackward(b.dx[a:e], b.dx[a:e], b.mask[a:e])
}

// col2im adds each row of col (tap t, columns c0…c0+nc of the batch) into the input
// pixels that tap read in the forward pass.
func (b *backwardData) col2im(dx, col []float32, c0, nc int) {
	g := &b.g
	p, q := g.OutH(), g.OutW()
	pq, chw := p*q, g.C*g.H*g.W
	sw := g.StrideW
	for ti, t := range b.taps {
		row := col[ti*nc : ti*nc+nc]
		img, pix := c0/pq, c0%pq
		oy, ox := pix/q, pix%q
		for j := 0; j < nc; {
			seg := min(nc-j, q-ox)
			if iy := oy*g.StrideH - g.PadH + t.dy; iy >= 0 && iy < g.H {
				ix := ox*sw - g.PadW + t.dx
				lo, hi := validRange(ix, seg, sw, g.W)
				if lo < hi {
					d := dx[img*chw+t.plane+iy*g.W+ix+lo*sw:]
					v := row[j+lo : j+hi]
					if sw == 1 {
						d = d[:len(v)]
						for i, e := range v {
							d[i] += e
						}
					} else {
						for i, e := range v {
							d[i*sw] += e
						}
					}
				}
			}
			j += seg
			ox = 0
			if oy++; oy == p {
				oy = 0
				img++
			}
		}
	}
}

// tap is one (c,r,s) row of col(X) of the unpadded input, relative to the window's
// top-left pixel.
type tap struct {
	plane  int // c·H·W
	dy, dx int // r·DilH, s·DilW
}

func makeTaps(g Geometry) []tap {
	t := make([]tap, 0, g.C*g.R*g.S)
	for c := 0; c < g.C; c++ {
		for r := 0; r < g.R; r++ {
			for s := 0; s < g.S; s++ {
				t = append(t, tap{plane: c * g.H * g.W, dy: r * g.DilH, dx: s * g.DilW})
			}
		}
	}
	return t
}

// validRange returns the run [lo, hi) of i < n for which ix + i·stride lies in [0, w).
func validRange(ix, n, stride, w int) (lo, hi int) {
	if ix < 0 {
		lo = min(n, (-ix+stride-1)/stride)
	}
	if ix < w {
		hi = min(n, (w-1-ix)/stride+1)
	}
	return lo, max(hi, lo)
}

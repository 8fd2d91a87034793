package conv

import "github.com/govgg/govgg/asm"

// backwardData computes dX. For stride 1 with padding ≤ DilH·(R−1) (and the same
// across), dX is a forward convolution of dY, zero-padded by Dil·(R−1)−Pad, with the
// weights rotated by 180° and C and K swapped; it runs on a forward kernel of its own,
// so Winograd can serve it for 3×3 layers. Otherwise dX = col2im(Wᵀ·dY), computed a
// block of columns at a time so that the col buffer stays about 1 MiB.
type backwardData struct {
	g          Geometry
	transposed bool
	gt         Geometry // the transposed convolution's geometry
	stale      bool     // the weights changed since the kernels were prepared

	// transposed path
	wRot []float32
	kern kernel
	alg  Algorithm

	// general path
	wt    *asm.PackedA // Wᵀ, C·R·S × K
	src   im2colSource // dY as a K × n·P·Q matrix
	taps  []tap        // of the forward geometry, for col2im
	col   []float32    // C·R·S × chunk
	chunk int
}

func (b *backwardData) init(g Geometry) {
	b.g = g
	b.transposed = g.StrideH == 1 && g.StrideW == 1 && g.PadH <= g.DilH*(g.R-1) && g.PadW <= g.DilW*(g.S-1)
	if b.transposed {
		b.gt = Geometry{C: g.K, H: g.OutH(), W: g.OutW(), K: g.C, R: g.R, S: g.S, StrideH: 1, StrideW: 1,
			PadH: g.DilH*(g.R-1) - g.PadH, PadW: g.DilW*(g.S-1) - g.PadW, DilH: g.DilH, DilW: g.DilW}
		return
	}
	b.src = newIm2colSource(Geometry{C: g.K, H: g.OutH(), W: g.OutW(), K: g.K, R: 1, S: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}, 0)
	b.taps = makeTaps(g)
	b.chunk = chunkCols(g.C*g.R*g.S, 1<<18)
}

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

func (b *backwardData) run(dx, dy []float32, n int, w []float32, cfg config) error {
	if b.transposed {
		if err := b.prepareTransposed(w, n, cfg); err != nil {
			return err
		}
		b.kern.forward(dx, dy, n, false)
		return nil
	}
	g := b.g
	crs := g.C * g.R * g.S
	if b.wt == nil || b.stale {
		packA(&b.wt, true, crs, g.K, w, crs)
		b.stale = false
	}
	if b.col == nil {
		b.col = make([]float32, crs*b.chunk)
	}
	clear(dx)
	b.src.xp = dy // a 1×1 geometry without padding reads dY in place
	defer func() { b.src.xp = nil }()
	total := n * g.OutH() * g.OutW()
	for c0 := 0; c0 < total; c0 += b.chunk {
		nc := min(b.chunk, total-c0)
		b.src.col0 = c0
		b.wt.Gemm(nc, 1, &b.src, 0, b.col, nc)
		b.col2im(dx, b.col[:crs*nc], c0, nc)
	}
	return nil
}

// prepareTransposed builds the rotated weights and their kernel: the forward
// algorithm when it applies to the transposed geometry, else implicit GEMM. The
// choice is made once, for the first batch size seen.
func (b *backwardData) prepareTransposed(w []float32, n int, cfg config) error {
	g := b.g
	if b.kern != nil && !b.stale {
		return nil
	}
	b.wRot = rotateWeights(b.wRot, w, g)
	if b.kern == nil {
		a := cfg.alg
		if a == Auto {
			a = chooseAlgorithm(b.gt, n)
		}
		b.alg = Im2col
		if a != Im2col && applicable(a, b.gt) == nil {
			if k, err := newKernel(a, b.gt); err == nil {
				k.setWeights(b.wRot, nil)
				if cfg.maxWeightBytes == 0 || k.weightBytes() <= cfg.maxWeightBytes {
					b.kern, b.alg, b.stale = k, a, false
					return nil
				}
			}
		}
		b.kern = newIm2colKernel(b.gt)
	}
	b.kern.setWeights(b.wRot, nil)
	b.stale = false
	return nil
}

// rotateWeights returns w (K×C×R×S) rotated by 180° with C and K swapped
// (C×K×R×S), reusing dst.
func rotateWeights(dst, w []float32, g Geometry) []float32 {
	if cap(dst) < len(w) {
		dst = make([]float32, len(w))
	}
	dst = dst[:len(w)]
	rs := g.R * g.S
	for k := 0; k < g.K; k++ {
		for c := 0; c < g.C; c++ {
			src := w[(k*g.C+c)*rs : (k*g.C+c+1)*rs]
			out := dst[(c*g.K+k)*rs : (c*g.K+k+1)*rs]
			for i, v := range src {
				out[rs-1-i] = v
			}
		}
	}
	return dst
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

// backwardFilter computes dW = Σ dY·col(X)ᵀ, reducing over every output pixel of
// the batch a block of columns at a time. For each block, the rows of col(X) for
// those columns are written as a C·R·S × L matrix (from the padded input, one copy
// per tap and output row), and one GEMM accumulates dWᵀ (C·R·S × K) += col · dYᵀ,
// reading dY in place when the block lies in one image. asm.Sgemm packs both
// operands into pooled buffers, so nothing is allocated per call; dWᵀ is transposed
// into dw at the end.
type backwardFilter struct {
	g         Geometry
	pg        paddedGeometry
	chunk     int // columns per block
	perImage  bool
	blockCols int
	xpad      []float32 // padded input band, or padded batch when folded
	col       []float32 // C·R·S × chunk
	dyScr     []float32 // K × chunk, dY of a block that spans images
	dwT       []float32 // C·R·S × K

	// The col rows of one block are written in parallel by rowsFn (b.rowsPart,
	// made once so that the parallel region allocates nothing) from cur.
	rowsFn func(lo, hi int)
	cur    struct {
		xp    []float32
		c0, l int
	}
}

// rowsPart writes the col rows of taps [lo, hi) of the current block.
func (b *backwardFilter) rowsPart(lo, hi int) {
	b.pg.rowsInto(b.col[lo*b.cur.l:], b.cur.l, b.cur.xp, lo, hi-lo, b.cur.c0, b.cur.l)
}

func (b *backwardFilter) init(g Geometry) {
	b.g = g
	// Up to 4 MiB of col rows a block: the GEMMs reduce over enough pixels to be
	// worth their fork-join.
	b.chunk = chunkCols(g.C*g.R*g.S, 1<<20)
	b.rowsFn = b.rowsPart
	pq := g.OutH() * g.OutW()
	if b.perImage = pq >= b.chunk; b.perImage {
		b.blockCols = balancedBlocks(pq, b.chunk)
	}
	b.pg = newPaddedGeometry(g, b.blockCols)
}

func (b *backwardFilter) run(dw, db, x, dy []float32, n int) {
	g := b.g
	pq := g.OutH() * g.OutW()
	crs := g.C * g.R * g.S
	chw := g.C * g.H * g.W
	if b.col == nil {
		b.col = make([]float32, crs*b.chunk)
		b.dyScr = make([]float32, g.K*b.chunk)
		b.dwT = make([]float32, crs*g.K)
	}
	if l := b.pg.bufLen(n); len(b.xpad) < l {
		b.xpad = make([]float32, l)
	}
	if db != nil {
		sumRows(db, dy, n, g.K, pq)
	}
	var beta float32
	block := func(xp []float32, c0, l int, dyb []float32, ldb int) {
		b.cur.xp, b.cur.c0, b.cur.l = xp, c0, l
		asm.ParallelFor(crs, max(1, (1<<19)/l), b.rowsFn) // ~100 µs a chunk
		// Sizes are consistent by construction; an error here is a bug.
		if err := asm.Sgemm(false, true, crs, g.K, l, 1, b.col, l, dyb, ldb, beta, b.dwT, g.K); err != nil {
			panic(err)
		}
		beta = 1
	}
	defer func() { b.cur.xp = nil }()
	if b.perImage {
		// Blocks inside each image, dY read in place.
		for img := 0; img < n; img++ {
			xi := x[img*chw : (img+1)*chw]
			for p0 := 0; p0 < pq; p0 += b.blockCols {
				l := min(b.blockCols, pq-p0)
				block(b.pg.load(b.xpad, xi, 1, p0, l), p0, l, dy[img*g.K*pq+p0:], pq)
			}
		}
	} else {
		xp := b.pg.load(b.xpad, x, n, 0, n*pq)
		total := n * pq
		for c0 := 0; c0 < total; c0 += b.chunk {
			l := min(b.chunk, total-c0)
			// Gather dY of the block's columns into K × l.
			for k := 0; k < g.K; k++ {
				for j := 0; j < l; {
					img, pix := (c0+j)/pq, (c0+j)%pq
					m := min(l-j, pq-pix)
					copy(b.dyScr[k*l+j:k*l+j+m], dy[(img*g.K+k)*pq+pix:])
					j += m
				}
			}
			block(xp, c0, l, b.dyScr, l)
		}
	}
	for k := 0; k < g.K; k++ {
		row := dw[k*crs : (k+1)*crs]
		for i := range row {
			row[i] = b.dwT[i*g.K+k]
		}
	}
}

// sumRows sets db[k] to the sum of dy over images and pixels for channel k, with
// float32 partial sums over 8 lanes per image combined in float64.
func sumRows(db, dy []float32, n, k, pq int) {
	for kk := 0; kk < k; kk++ {
		var s float64
		for i := 0; i < n; i++ {
			v := dy[(i*k+kk)*pq : (i*k+kk+1)*pq]
			var l [8]float32
			j := 0
			for ; j+8 <= len(v); j += 8 {
				w := (*[8]float32)(v[j:])
				for t := range l {
					l[t] += w[t]
				}
			}
			for ; j < len(v); j++ {
				l[0] += v[j]
			}
			for _, e := range l {
				s += float64(e)
			}
		}
		db[kk] = float32(s)
	}
}

package conv

import "github.com/govgg/govgg/asm"

// backwardFilter computes dW = Σ dY·col(X)ᵀ, reducing over every output pixel of
// the batch a block of L pixels at a time. The reduction runs over pixels, so for
// both GEMM operands to pack without a transpose of the large one, col(X)ᵀ is
// built pixel-major: an L × R·S·C matrix with the taps in (r,s,c) order, whose
// rows are R·S copies of C contiguous floats from a zero-padded channels-last copy
// of the input band the block reads. One GEMM per block then accumulates
// dW' (K × R·S·C) += dY (K × L) · col(X)ᵀ, reading dY in place when the block lies
// in one image; asm.Sgemm packs into pooled buffers, so nothing is allocated per
// call. dW' is permuted into dw (K×C×R×S) at the end.
type backwardFilter struct {
	g         Geometry
	hp, wp    int // padded height and width of the channels-last copy
	chunk     int // pixels per block
	perImage  bool
	blockCols int
	rsOff     []int     // per tap (r,s): (r·DilH·wp + s·DilW)·C
	cl        []float32 // channels-last padded image, or the padded batch when folded
	colT      []float32 // chunk × R·S·C
	dyScr     []float32 // K × chunk, dY of a block that spans images
	dwr       []float32 // K × R·S·C

	// Work shared with the parallel helpers (rowsFn is b.colRows, made once so
	// that the parallel regions allocate nothing).
	rowsFn, clFn func(lo, hi int)
	cur          struct {
		x          []float32 // images being converted
		row0, rows int       // padded rows held in cl
		c0, l      int       // the block's columns
	}
}

func (b *backwardFilter) init(g Geometry) {
	b.g = g
	rsc := g.R * g.S * g.C
	// Up to 4 MiB of col(X)ᵀ a block: the GEMMs reduce over enough pixels to be
	// worth their fork-join.
	b.chunk = chunkCols(rsc, 1<<20)
	pq := g.OutH() * g.OutW()
	if b.perImage = pq >= b.chunk; b.perImage {
		b.blockCols = balancedBlocks(pq, b.chunk)
	}
	b.hp, b.wp = g.H+2*g.PadH, g.W+2*g.PadW
	for r := 0; r < g.R; r++ {
		for s := 0; s < g.S; s++ {
			b.rsOff = append(b.rsOff, (r*g.DilH*b.wp+s*g.DilW)*g.C)
		}
	}
	b.rowsFn, b.clFn = b.colRows, b.toChannelsLast
}

func (b *backwardFilter) run(dw, db, x, dy []float32, n int) {
	g := b.g
	pq := g.OutH() * g.OutW()
	rsc := g.R * g.S * g.C
	chw := g.C * g.H * g.W
	imgs := n
	if b.perImage {
		imgs = 1
	}
	if l := imgs * b.hp * b.wp * g.C; len(b.cl) < l {
		b.cl = make([]float32, l)
	}
	if b.colT == nil {
		b.colT = make([]float32, b.chunk*rsc)
		b.dyScr = make([]float32, g.K*b.chunk)
		b.dwr = make([]float32, g.K*rsc)
	}
	if db != nil {
		sumRows(db, dy, n, g.K, pq)
	}
	defer func() { b.cur.x = nil }()
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
			// Gather dY of the block's columns into K × l.
			for k := 0; k < g.K; k++ {
				for j := 0; j < l; {
					img, pix := (c0+j)/pq, (c0+j)%pq
					m := min(l-j, pq-pix)
					copy(b.dyScr[k*l+j:k*l+j+m], dy[(img*g.K+k)*pq+pix:])
					j += m
				}
			}
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

// load converts the n images in cur.x into zero-padded channels-last form in cl.
func (b *backwardFilter) load(n int) {
	asm.ParallelFor(n*b.hp, max(1, (1<<17)/(b.wp*b.g.C)), b.clFn)
}

// toChannelsLast writes padded rows [lo, hi) (numbered over the images) of cur.x
// into cl as wp×C rows, zero outside the image.
func (b *backwardFilter) toChannelsLast(lo, hi int) {
	g := &b.g
	c, w := g.C, g.W
	const tile = 64 // pixels: a tile's C-wide destination stays in L1
	for i := lo; i < hi; i++ {
		img, pr := i/b.hp, i%b.hp
		dst := b.cl[i*b.wp*c : (i+1)*b.wp*c]
		iy := pr - g.PadH
		if iy < 0 || iy >= g.H {
			clear(dst)
			continue
		}
		clear(dst[:g.PadW*c])
		clear(dst[(g.PadW+w)*c:])
		x := b.cur.x[img*c*g.H*w:]
		plane := g.H * w
		for t0 := 0; t0 < w; t0 += tile {
			t1 := min(w, t0+tile)
			ch := 0
			// Eight channels at a time: one 32-byte group written per pixel.
			for ; ch+8 <= c; ch += 8 {
				o := ch*plane + iy*w
				s0 := x[o+t0 : o+t1]
				n := len(s0)
				s1, s2, s3 := x[o+plane+t0:][:n], x[o+2*plane+t0:][:n], x[o+3*plane+t0:][:n]
				s4, s5, s6, s7 := x[o+4*plane+t0:][:n], x[o+5*plane+t0:][:n], x[o+6*plane+t0:][:n], x[o+7*plane+t0:][:n]
				for j, v := range s0 {
					d := (*[8]float32)(dst[(g.PadW+t0+j)*c+ch:])
					d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = v, s1[j], s2[j], s3[j], s4[j], s5[j], s6[j], s7[j]
				}
			}
			for ; ch+4 <= c; ch += 4 {
				o := ch*plane + iy*w
				s0, s1 := x[o+t0:o+t1], x[o+plane+t0:o+plane+t1]
				s2, s3 := x[o+2*plane+t0:o+2*plane+t1], x[o+3*plane+t0:o+3*plane+t1]
				s1, s2, s3 = s1[:len(s0)], s2[:len(s0)], s3[:len(s0)]
				for j, v := range s0 {
					d := (*[4]float32)(dst[(g.PadW+t0+j)*c+ch:])
					d[0], d[1], d[2], d[3] = v, s1[j], s2[j], s3[j]
				}
			}
			for ; ch < c; ch++ {
				src := x[ch*plane+iy*w+t0 : ch*plane+iy*w+t1]
				d := dst[(g.PadW+t0)*c+ch:]
				for j, v := range src {
					d[j*c] = v
				}
			}
		}
	}
}

// colRows writes rows [lo, hi) of the current block's col(X)ᵀ: for each pixel, the
// R·S windows of C channels.
func (b *backwardFilter) colRows(lo, hi int) {
	g := &b.g
	p, q := g.OutH(), g.OutW()
	pq := p * q
	c := g.C
	rsc := g.R * g.S * c
	for j := lo; j < hi; j++ {
		col := b.cur.c0 + j
		img, pix := col/pq, col%pq // img is 0 in per-image mode
		oy, ox := pix/q, pix%q
		base := ((img*b.hp+oy*g.StrideH)*b.wp + ox*g.StrideW) * c
		row := b.colT[j*rsc : (j+1)*rsc]
		if c < 8 { // a first layer: runs too short for copy's call
			for t, off := range b.rsOff {
				d, src := row[t*c:(t+1)*c], b.cl[base+off:base+off+c]
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

// sumRows sets db[k] to the sum of dy over images and pixels for channel k,
// accumulated in float64 (asm.SumSq's vector sum; its sum of squares is unused).
func sumRows(db, dy []float32, n, k, pq int) {
	for kk := 0; kk < k; kk++ {
		var s float64
		for i := 0; i < n; i++ {
			v, _ := asm.SumSq(dy[(i*k+kk)*pq : (i*k+kk+1)*pq])
			s += v
		}
		db[kk] = float32(s)
	}
}

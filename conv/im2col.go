package conv

import "github.com/govgg/govgg/asm"

// Implicit GEMM. A convolution of a batch is the product
//
//	Y (K × N·P·Q) = W (K × C·R·S) · col(X) (C·R·S × N·P·Q)
//
// where row (c,r,s) of col(X) holds, for every output pixel, the input pixel that
// tap (r,s) of channel c reads. The weights are packed once (asm.PackA); col(X) is
// never built: im2colSource writes the GEMM driver's B panels straight from the NCHW
// input, one sliver of nr output pixels at a time. For a sliver inside one output
// row and away from the padding, row (c,r,s) of the sliver is a plain copy of nr
// input pixels at a fixed offset from the sliver's first, so the common case is one
// copy per row with no per-element test.

// tap is one (c,r,s) row of col(X), relative to the window's top-left input pixel.
type tap struct {
	plane  int // c·H·W
	dy, dx int // r·DilH, s·DilW
	off    int // plane + dy·W + dx
}

func makeTaps(g Geometry) []tap {
	t := make([]tap, 0, g.C*g.R*g.S)
	for c := 0; c < g.C; c++ {
		for r := 0; r < g.R; r++ {
			for s := 0; s < g.S; s++ {
				dy, dx := r*g.DilH, s*g.DilW
				t = append(t, tap{plane: c * g.H * g.W, dy: dy, dx: dx, off: c*g.H*g.W + dy*g.W + dx})
			}
		}
	}
	return t
}

// im2colSource is the asm.BSource of col(X) for a batch x, columns numbered over the
// whole batch (image-major, then output row, then output column) and offset by col0,
// so a GEMM over a column range starts at its first column. It also serves the
// backward passes: with a 1×1 geometry it is dY viewed as a K × N·P·Q matrix.
type im2colSource struct {
	g       Geometry
	taps    []tap
	p, q    int // output height and width
	chw, hw int
	x       []float32
	col0    int
}

func newIm2colSource(g Geometry) im2colSource {
	return im2colSource{g: g, taps: makeTaps(g), p: g.OutH(), q: g.OutW(), chw: g.C * g.H * g.W, hw: g.H * g.W}
}

// PackB implements asm.BSource. Slivers are independent, so concurrent calls for
// disjoint panels are safe: only the receiver's read-only fields are shared.
func (b *im2colSource) PackB(dst []float32, k0, kc, j0, nc, nr int) {
	g := &b.g
	taps := b.taps[k0 : k0+kc]
	for s0 := 0; s0 < nc; s0 += nr {
		w := min(nr, nc-s0)
		panel := dst[(s0/nr)*kc*nr : (s0/nr+1)*kc*nr]
		j := b.col0 + j0 + s0
		img, pix := j/(b.p*b.q), j%(b.p*b.q)
		oy, ox := pix/b.q, pix%b.q
		iy0, ix0 := oy*g.StrideH-g.PadH, ox*g.StrideW-g.PadW
		if ox+w <= b.q && iy0 >= 0 && iy0+(g.R-1)*g.DilH < g.H &&
			ix0 >= 0 && ix0+(w-1)*g.StrideW+(g.S-1)*g.DilW < g.W {
			b.packInterior(panel, taps, img*b.chw+iy0*g.W+ix0, w, nr)
			continue
		}
		for p, t := range taps {
			b.packEdgeRow(panel[p*nr:p*nr+nr], t, img, oy, ox, w)
		}
	}
}

// packInterior fills a sliver whose every window lies inside the image: row p is
// x[base+taps[p].off+i·StrideW] for i < w.
func (b *im2colSource) packInterior(panel []float32, taps []tap, base, w, nr int) {
	x := b.x
	if sw := b.g.StrideW; sw != 1 {
		for p, t := range taps {
			row := panel[p*nr : p*nr+nr]
			src := x[base+t.off:]
			for i := range w {
				row[i] = src[i*sw]
			}
			clear(row[w:])
		}
		return
	}
	if w != nr {
		for p, t := range taps {
			row := panel[p*nr : p*nr+nr]
			copy(row[:w], x[base+t.off:])
			clear(row[w:])
		}
		return
	}
	// Fixed-size array copies compile to a few vector moves, with no call.
	switch nr {
	case 8:
		for p, t := range taps {
			*(*[8]float32)(panel[p*8:]) = *(*[8]float32)(x[base+t.off:])
		}
	case 12:
		for p, t := range taps {
			*(*[12]float32)(panel[p*12:]) = *(*[12]float32)(x[base+t.off:])
		}
	case 16:
		for p, t := range taps {
			*(*[16]float32)(panel[p*16:]) = *(*[16]float32)(x[base+t.off:])
		}
	case 24:
		for p, t := range taps {
			*(*[24]float32)(panel[p*24:]) = *(*[24]float32)(x[base+t.off:])
		}
	case 32:
		for p, t := range taps {
			*(*[32]float32)(panel[p*32:]) = *(*[32]float32)(x[base+t.off:])
		}
	default:
		for p, t := range taps {
			copy(panel[p*nr:p*nr+nr], x[base+t.off:])
		}
	}
}

// packEdgeRow fills one row (tap t) of a sliver of w columns starting at output
// pixel (oy, ox) of image img, which may touch the padding or run on into the next
// output rows and images: each run inside one output row is a zero head, a copy (or
// strided gather) and a zero tail.
func (b *im2colSource) packEdgeRow(row []float32, t tap, img, oy, ox, w int) {
	g := &b.g
	x := b.x
	sw := g.StrideW
	for j := 0; j < w; {
		seg := min(w-j, b.q-ox)
		out := row[j : j+seg]
		iy := oy*g.StrideH - g.PadH + t.dy
		if iy < 0 || iy >= g.H {
			clear(out)
		} else {
			ix := ox*sw - g.PadW + t.dx // input column of out[0]
			lo, hi := validRange(ix, seg, sw, g.W)
			clear(out[:lo])
			if lo < hi {
				src := x[img*b.chw+t.plane+iy*g.W+ix+lo*sw:]
				if sw == 1 {
					copy(out[lo:hi], src)
				} else {
					for i := lo; i < hi; i++ {
						out[i] = src[(i-lo)*sw]
					}
				}
			}
			clear(out[hi:])
		}
		j += seg
		ox = 0
		if oy++; oy == b.p {
			oy = 0
			img++
		}
	}
	clear(row[w:])
}

// im2colKernel is the implicit-GEMM kernel for one geometry.
type im2colKernel struct {
	g    Geometry
	a    *asm.PackedA // W, K × C·R·S
	bias []float32    // nil, or the kernel's copy of the bias
	src  im2colSource
	// Columns per GEMM call: the output block of one call (K × chunk) stays in
	// cache for the bias/ReLU epilogue. Images with at least chunk output pixels
	// get GEMMs of their own, written straight into y; smaller ones are folded
	// together into one GEMM through scratch, so small maps still make wide GEMMs.
	chunk   int
	scratch []float32
}

// chunkCols returns a column count, a multiple of 96 (so any micro-kernel width up
// to 32 divides it), for a block of rows×cols floats of about 1 MiB.
func chunkCols(rows int) int {
	const target = 1 << 18 // floats
	c := target / max(rows, 1) / 96 * 96
	return min(max(c, 384), 4608)
}

func newIm2colKernel(g Geometry) *im2colKernel {
	return &im2colKernel{g: g, src: newIm2colSource(g), chunk: chunkCols(g.K)}
}

func (k *im2colKernel) setWeights(w, bias []float32) {
	crs := k.g.C * k.g.R * k.g.S
	k.a = asm.PackA(false, k.g.K, crs, w, crs)
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
	k.src.x = x
	defer func() { k.src.x = nil }() // do not pin the caller's input
	if pq >= k.chunk {
		// Split each image into balanced blocks.
		blocks := (pq + k.chunk - 1) / k.chunk
		bc := ((pq+blocks-1)/blocks + 95) / 96 * 96
		for img := 0; img < n; img++ {
			yi := y[img*g.K*pq : (img+1)*g.K*pq]
			for c0 := 0; c0 < pq; c0 += bc {
				nc := min(bc, pq-c0)
				k.src.col0 = img*pq + c0
				k.a.Gemm(nc, 1, &k.src, 0, yi[c0:], pq)
				for kk := 0; kk < g.K; kk++ {
					epilogue(yi[kk*pq+c0:kk*pq+c0+nc], k.biasAt(kk), relu)
				}
			}
		}
		return
	}
	total := n * pq
	if k.scratch == nil {
		k.scratch = make([]float32, g.K*k.chunk)
	}
	for c0 := 0; c0 < total; c0 += k.chunk {
		nc := min(k.chunk, total-c0)
		k.src.col0 = c0
		k.a.Gemm(nc, 1, &k.src, 0, k.scratch, nc)
		// Scatter the K × nc block to NCHW with the epilogue applied.
		for kk := 0; kk < g.K; kk++ {
			b := k.biasAt(kk)
			blk := k.scratch[kk*nc : kk*nc+nc]
			for j := 0; j < nc; {
				img, pix := (c0+j)/pq, (c0+j)%pq
				l := min(nc-j, pq-pix)
				dst := y[(img*g.K+kk)*pq+pix : (img*g.K+kk)*pq+pix+l]
				copy(dst, blk[j:j+l])
				epilogue(dst, b, relu)
				j += l
			}
		}
	}
}

func (k *im2colKernel) biasAt(i int) float32 {
	if k.bias == nil {
		return 0
	}
	return k.bias[i]
}

// epilogue adds b to every element of v and, with relu, clamps it at zero. NaN stays
// NaN under ReLU (as in PyTorch), so a diverging network shows.
func epilogue(v []float32, b float32, relu bool) {
	switch {
	case relu:
		for i, e := range v {
			e += b
			if e < 0 {
				e = 0
			}
			v[i] = e
		}
	case b != 0:
		for i := range v {
			v[i] += b
		}
	}
}

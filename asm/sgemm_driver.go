package asm

import (
	"sync"
	"unsafe"

	"github.com/klauspost/cpuid/v2"
)

// The SGEMM driver follows BLIS (Van Zee & van de Geijn, TOMS 2015), transposed for
// row-major C: the micro-kernel holds an MR×NR tile of C with vectors along n,
// broadcasting packed A and loading packed B.
//
//	A is packed once per call (or once per PackedA) in k-blocks of KC:
//	  block b, sliver s: an MR×kc panel stored k-major (a[p*MR+i]), zero-padded rows.
//	tasks = grid of (MC rows × NC columns) blocks of C, claimed by ParallelFor workers.
//	per task, per k-block:   pack B[k-block, NC columns] (L2-resident, NR slivers)
//	  per A sliver (L1):     per B sliver: micro-kernel on one MR×NR tile of C.
//
// The grid splits n first, so that the workers share A; when n is too small for
// that (VGG's 14×14 layers) it splits m, and B is then packed once for all tasks.
// Each C element is summed over k in the same order whatever the task grid, so the
// result does not depend on the thread count.

// microKernel computes one MR×NR tile: with acc[i][j] = Σ_{p<kc} a[p*MR+i]·b[p*ldb+j],
// c[i*ldc+j] = alpha·acc[i][j] (+ beta·c[i*ldc+j] when beta ≠ 0) for i < mr, j < nr.
// a holds MR·kc floats, b holds kc rows of NR floats at stride ldb, kc ≥ 1.
type microKernel func(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, mr, nr int)

// packFunc writes rows × W floats to dst (row stride W) from src, w ≤ W of them read
// and the rest zero. packCopy reads row p from src[p*ld:], packTrans reads column p
// (element j at src[j*ld+p]).
type packFunc func(dst, src *float32, ld, rows, w, W int)

// gemmGeom is one path's micro-kernel and blocking.
type gemmGeom struct {
	isa       ISA
	mr, nr    int
	kcMax     int // k-block: an MR×KC A sliver stays in L1
	ncMax     int // columns per task: a KC×NC B block stays in L2
	kernel    microKernel
	packCopy  packFunc
	packTrans packFunc
	maxPackW  int // widest W the pack kernels take
	packPanel panelFunc
	dot4x4    dotFunc // nil: small-m products with Bᵀ take the GEMM path
	// cols computes tiles of at most colsMax columns at one FMA per column and
	// k step; the columns of a ragged last sliver past a whole vector go to it
	// (nil: the micro-kernel computes them as a vector).
	cols    microKernel
	colsMax int
}

// dotFunc computes out[i*4+r] = Σ_{p<k} a[i*lda+p]·b[r*ldb+p] for i, r < 4.
type dotFunc func(a *float32, lda int, b *float32, ldb, k int, out *float32)

// panelFunc packs a kc×nc block of a row-major B (row stride ld) into NR slivers,
// the last zero-padded.
type panelFunc func(dst, src *float32, ld, kc, nc int)

// sameA reports whether panels packed for g can be used by h.
func (g *gemmGeom) sameA(h *gemmGeom) bool {
	return g.mr == h.mr && g.kcMax == h.kcMax && g.isa == h.isa
}

// curGeom is the active path's geometry, set with the other kernel families.
var curGeom *gemmGeom

var _ = registerKernels(func(isa ISA) { curGeom = geomFor(isa) })

// cacheBlocking derives KC and NC from the data caches (48 KiB L1d and 2 MiB L2 on
// the development machine give KC=384, NC=672 for the AVX-512 12×32 kernel).
func cacheBlocking(mr, nr, kcCap int) (kc, nc int) {
	l1, l2 := cpuid.CPU.Cache.L1D, cpuidL2()
	if l1 <= 0 {
		l1 = 32 << 10
	}
	// An A sliver gets 3/8 of L1, leaving room for the streamed B sliver lines.
	kc = min(max(l1*3/8/(4*mr)/32*32, 64), kcCap)
	// Half of L2 holds the B block.
	nc = max(l2/2/(4*kc)/nr*nr, nr)
	return kc, nc
}

// cpuidL2 is the L2 size per core, or 256 KiB if unknown.
func cpuidL2() int {
	if l2 := cpuid.CPU.Cache.L2; l2 > 0 {
		return l2
	}
	return 256 << 10
}

// aPanels is op(A) packed for one geometry.
type aPanels struct {
	g    *gemmGeom
	m, k int
	kc   int // k-block size; the last block may be shorter
	mPad int // m rounded up to MR
	data []float32

	// The source while packing.
	transA bool
	src    []float32
	lda    int
}

// kBlocks splits k into equal blocks of at most kcMax, so no tiny tail block is
// left; the split depends on k only.
func kBlocks(k, kcMax int) int {
	if k == 0 {
		return 0
	}
	nb := (k + kcMax - 1) / kcMax
	return (k + nb - 1) / nb
}

// pack stores op(A) (m×k) for geometry g, reusing ap.data when large enough.
func (ap *aPanels) pack(g *gemmGeom, transA bool, m, k int, a []float32, lda int) {
	mr := g.mr
	ap.g, ap.m, ap.k = g, m, k
	ap.kc = kBlocks(k, g.kcMax)
	ap.mPad = (m + mr - 1) / mr * mr
	need := ap.mPad * k
	if cap(ap.data) < need {
		ap.data = panelFloats(need)
	}
	ap.data = ap.data[:need]
	if m == 0 || k == 0 {
		return
	}
	ap.transA, ap.src, ap.lda = transA, a, lda
	// Chunks of at least ~256 K elements are worth a hand-off.
	parallelRun(ap.mPad/mr, max(1, (1<<18)/(mr*k)), ap)
	ap.src = nil
}

// run packs A slivers [lo, hi) of every k-block (the chunkRunner of pack).
func (ap *aPanels) run(lo, hi int) {
	g, a, lda := ap.g, ap.src, ap.lda
	mr := g.mr
	for k0 := 0; k0 < ap.k; k0 += ap.kc {
		kc := min(ap.kc, ap.k-k0)
		blk := ap.data[k0*ap.mPad:]
		for s := lo; s < hi; s++ {
			i0 := s * mr
			w := min(mr, ap.m-i0)
			dst := &blk[s*mr*kc]
			if ap.transA { // op(A)[i,p] = a[p*lda+i]: rows of A are contiguous in i
				_ = a[(k0+kc-1)*lda+i0+w-1]
				if raceEnabled {
					raceRead(&a[k0*lda+i0], (kc-1)*lda+w)
				}
				g.packCopy(dst, &a[k0*lda+i0], lda, kc, w, mr)
			} else {
				_ = a[(i0+w-1)*lda+k0+kc-1]
				if raceEnabled {
					raceRead(&a[i0*lda+k0], (w-1)*lda+kc)
				}
				g.packTrans(dst, &a[i0*lda+k0], lda, kc, w, mr)
			}
		}
	}
}

// unpack returns op(A) as a row-major m×k matrix (for repacking).
func (ap *aPanels) unpack(m, k int) []float32 {
	out := make([]float32, max(m*k, 1))
	mr := ap.g.mr
	for k0 := 0; k0 < k; k0 += ap.kc {
		kc := min(ap.kc, k-k0)
		blk := ap.data[k0*ap.mPad:]
		for i := 0; i < m; i++ {
			sl := blk[(i/mr)*mr*kc+i%mr:]
			for p := 0; p < kc; p++ {
				out[i*k+k0+p] = sl[p*mr]
			}
		}
	}
	return out
}

// packBMatrix packs op(B)[k0:k0+kc, j0:j0+nc] of a row-major matrix in NR slivers.
func packBMatrix(g *gemmGeom, dst, b []float32, ld int, trans bool, k0, kc, j0, nc, nr int) {
	if kc == 0 || nc == 0 {
		return
	}
	_ = dst[(nc+nr-1)/nr*kc*nr-1]
	if !trans && nr == g.nr {
		_ = b[(k0+kc-1)*ld+j0+nc-1]
		if raceEnabled {
			raceRead(&b[k0*ld+j0], (kc-1)*ld+nc)
		}
		g.packPanel(&dst[0], &b[k0*ld+j0], ld, kc, nc)
		return
	}
	pc, pt := g.packCopy, g.packTrans
	if nr > g.maxPackW {
		pc, pt = packCopyGo, packTransGo
	}
	for j := 0; j < nc; j += nr {
		w := min(nr, nc-j)
		d := &dst[(j/nr)*kc*nr]
		if trans { // op(B)[p,j] = b[j*ld+p]
			_ = b[(j0+j+w-1)*ld+k0+kc-1]
			if raceEnabled {
				raceRead(&b[(j0+j)*ld+k0], (w-1)*ld+kc)
			}
			pt(d, &b[(j0+j)*ld+k0], ld, kc, w, nr)
		} else {
			_ = b[(k0+kc-1)*ld+j0+j+w-1]
			if raceEnabled {
				raceRead(&b[k0*ld+j0+j], (kc-1)*ld+w)
			}
			pc(d, &b[k0*ld+j0+j], ld, kc, w, nr)
		}
	}
}

// gemmJob is one GEMM call, shared by the workers as a chunkRunner.
type gemmJob struct {
	g           *gemmGeom
	a           *aPanels
	m, n, k     int
	alpha, beta float32
	src         BSource     // custom source, or nil for mat
	panels      PanelSource // src, when its slivers are read in place
	mat         matrixB
	c           []float32
	ldc         int

	mSl, nSl int // slivers per task along m and n
	mBlocks  int

	// With a single n-block split over m, B is packed once for every task:
	// k-block b at shared[b·kc·nPad:], in NR slivers of its kc rows.
	shared  []float32
	packing bool // the parallel region packs the shared B (one k-block per item)
}

var jobPool = freeList[gemmJob]{}
var aPanelPool = freeList[aPanels]{}
var bBufPool = freeList[[]float32]{}

// minTaskFlops is the least work worth handing to another goroutine (~100 µs at
// the AVX-512 kernel's speed).
const minTaskFlops = 20e6

func runGemm(g *gemmGeom, ap *aPanels, m, n, k int, alpha float32, src BSource, mat matrixB, beta float32, c []float32, ldc int) {
	if k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	j := jobPool.get()
	*j = gemmJob{g: g, a: ap, m: m, n: n, k: k, alpha: alpha, beta: beta, src: src, mat: mat, c: c, ldc: ldc}
	if ps, ok := src.(PanelSource); ok {
		if p, _ := ps.Panels(0, min(ap.kc, k), 0, n, g.nr); p != nil {
			j.panels = ps
		}
	}

	t := Threads()
	msl := (m + g.mr - 1) / g.mr
	nsl := (n + g.nr - 1) / g.nr
	nb := max(1, (nsl*g.nr+g.ncMax-1)/g.ncMax)
	mb := 1
	if t > 1 {
		want := int(min(float64(4*t), max(1, 2*float64(m)*float64(n)*float64(k)/minTaskFlops)))
		// Split n first (the workers then share A), into blocks of at least 8
		// slivers so that each A sliver serves a few B slivers, then m.
		if nb < want {
			nb = min(want, max(nb, nsl/8))
		}
		if nb*mb < want {
			mb = min((want+nb-1)/nb, max(1, msl/2))
			if nb == 1 {
				// Splitting m only: each task reads every k-block of the shared B,
				// so fewer, taller tasks reuse each block over more A slivers.
				mb = min(mb, 2*t)
			}
		}
	}
	j.nSl = (nsl + nb - 1) / nb
	nb = (nsl + j.nSl - 1) / j.nSl
	j.mSl = (msl + mb - 1) / mb
	mb = (msl + j.mSl - 1) / j.mSl
	j.mBlocks = mb
	if nb == 1 && mb > 1 && j.panels == nil {
		// Workers splitting m would each pack all of B: pack it once, in parallel.
		sp := sharedPool.get()
		need := k * j.nSl * g.nr
		if cap(*sp) < need {
			*sp = alignedFloats(need)
		}
		j.shared = (*sp)[:need]
		nkb := (k + ap.kc - 1) / ap.kc
		j.packing = true
		parallelRun(nkb, max(1, (1<<18)/(ap.kc*n)), j)
		j.packing = false
		parallelRun(mb, 1, j)
		sharedPool.put(sp)
	} else {
		// The n-blocks of the cache blocking are tasks whatever their size; hand
		// them off only in chunks worth a goroutine (implicit GEMM calls this per
		// L2-sized block of columns: conv1_1, K=27, ran slower on 2 threads than
		// on 1 when its ~15 µs tasks were handed off one by one).
		perTask := 2 * float64(m) * float64(n) * float64(k) / float64(mb*nb)
		parallelRun(mb*nb, max(1, int(minTaskFlops/perTask)), j)
	}
	*j = gemmJob{}
	jobPool.put(j)
}

var sharedPool = freeList[[]float32]{}

// packShared packs k-block kb of B into j.shared.
func (j *gemmJob) packShared(kb int) {
	nr, kc := j.g.nr, j.a.kc
	k0 := kb * kc
	kc = min(kc, j.k-k0)
	dst := j.shared[k0*j.nSl*nr : (k0+kc)*j.nSl*nr]
	if j.src != nil {
		j.src.PackB(dst, k0, kc, 0, j.n, nr)
	} else {
		packBMatrix(j.g, dst, j.mat.b, j.mat.ld, j.mat.trans, k0, kc, 0, j.n, nr)
	}
}

func (j *gemmJob) run(lo, hi int) {
	if j.packing {
		for kb := lo; kb < hi; kb++ {
			j.packShared(kb)
		}
		return
	}
	if j.shared != nil || j.panels != nil {
		for t := lo; t < hi; t++ {
			j.task(t%j.mBlocks, t/j.mBlocks, nil)
		}
		return
	}
	g := j.g
	bp := bBufPool.get()
	need := j.a.kc * j.nSl * g.nr
	if cap(*bp) < need {
		*bp = alignedFloats(need)
	}
	buf := (*bp)[:need]
	for t := lo; t < hi; t++ {
		j.task(t%j.mBlocks, t/j.mBlocks, buf)
	}
	bBufPool.put(bp)
}

// task computes the C block of m-block mi and n-block ni over all of k.
func (j *gemmJob) task(mi, ni int, buf []float32) {
	g, ap := j.g, j.a
	mr, nr := g.mr, g.nr
	i0 := mi * j.mSl * mr
	i1 := min(j.m, i0+j.mSl*mr)
	j0 := ni * j.nSl * nr
	j1 := min(j.n, j0+j.nSl*nr)
	for k0 := 0; k0 < j.k; k0 += ap.kc {
		kc := min(ap.kc, j.k-k0)
		beta := j.beta
		if k0 > 0 {
			beta = 1
		}
		stride := kc * nr // between B slivers
		switch {
		case j.panels != nil:
			buf, stride = j.panels.Panels(k0, kc, j0, j1-j0, nr)
		case j.shared != nil:
			buf = j.shared[k0*j.nSl*nr:]
		case j.src != nil:
			j.src.PackB(buf[:(j1-j0+nr-1)/nr*kc*nr], k0, kc, j0, j1-j0, nr)
		default:
			packBMatrix(g, buf, j.mat.b, j.mat.ld, j.mat.trans, k0, kc, j0, j1-j0, nr)
		}
		blk := ap.data[k0*ap.mPad:]
		for i := i0; i < i1; i += mr {
			a := &blk[(i/mr)*mr*kc]
			rows := min(mr, j.m-i)
			for jj := j0; jj < j1; jj += nr {
				cols := min(nr, j.n-jj)
				b := &buf[(jj-j0)/nr*stride]
				c := &j.c[i*j.ldc+jj]
				if raceEnabled {
					raceKernel(kc, a, mr, b, nr, nr, c, j.ldc, rows, cols)
				}
				lanes := nr / 2 // the micro-kernel's narrow loop is one vector wide
				if rest := cols % lanes; g.cols != nil && rest > 0 && rest <= g.colsMax {
					if v := cols - rest; v > 0 {
						g.kernel(kc, a, b, nr, c, j.ldc, j.alpha, beta, rows, v)
						b = (*float32)(unsafe.Add(unsafe.Pointer(b), 4*v))
						c = (*float32)(unsafe.Add(unsafe.Pointer(c), 4*v))
					}
					g.cols(kc, a, b, nr, c, j.ldc, j.alpha, beta, rows, rest)
					continue
				}
				g.kernel(kc, a, b, nr, c, j.ldc, j.alpha, beta, rows, cols)
			}
		}
	}
}

// scaleC sets C = beta·C (C = 0 when beta is 0), for k = 0.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// freeList recycles objects without the garbage collector emptying it (as it does
// a sync.Pool), so warm calls never allocate.
type freeList[T any] struct {
	mu    sync.Mutex
	items []*T
}

func (f *freeList[T]) get() *T {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.items); n > 0 {
		x := f.items[n-1]
		f.items = f.items[:n-1]
		return x
	}
	return new(T)
}

// tryGet returns a recycled object, or nil if there is none.
func (f *freeList[T]) tryGet() *T {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.items)
	if n == 0 {
		return nil
	}
	x := f.items[n-1]
	f.items = f.items[:n-1]
	return x
}

func (f *freeList[T]) put(x *T) {
	f.mu.Lock()
	f.items = append(f.items, x)
	f.mu.Unlock()
}

// alignedFloats returns n zeroed floats starting on a 64-byte boundary; large
// buffers (a layer's Winograd U, pooled panels) on huge pages (sgemm_mem.go).
func alignedFloats(n int) []float32 {
	if hugePagesAvailable && 4*n >= hugeBufferBytes {
		return hugeFloats(n)
	}
	b := make([]float32, n+16)
	off := int(uintptr(unsafe.Pointer(&b[0]))&63) / 4
	if off != 0 {
		off = 16 - off
	}
	return b[off : off+n : off+n]
}

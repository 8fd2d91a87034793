package asm

import (
	"fmt"
	"sync/atomic"
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where op(X)
// is X or Xᵀ. op(A) is m×k, op(B) is k×n and C is m×n; lda, ldb and ldc are the row
// strides of A, B and C as stored. When beta is 0, C is not read (NaNs in C do not
// propagate). It runs on up to Threads() goroutines and, once warm, allocates
// nothing.
//
// Each element's sum runs over k in the same order whatever the thread count, so
// results do not depend on Threads().
//
// Reference loop:
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var s float32
//			for p := 0; p < k; p++ {
//				s += opA(i, p) * opB(p, j)
//			}
//			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
//		}
//	}
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error {
	if err := checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc); err != nil {
		return err
	}
	if m == 0 || n == 0 {
		return nil
	}
	g := curGeom
	if transB && m <= dotMaxM && k >= dotMinK && g.dot4x4 != nil {
		sgemmDot(g, transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return nil
	}
	ap := aPanelPool.get()
	ap.pack(g, transA, m, k, a, lda)
	runGemm(g, ap, m, n, k, alpha, nil, matrixB{b: b, ld: ldb, trans: transB}, beta, c, ldc)
	aPanelPool.put(ap)
	return nil
}

// checkGemm validates Sgemm's arguments.
func checkGemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) error {
	if m < 0 || n < 0 || k < 0 {
		return fmt.Errorf("asm: Sgemm: negative size m=%d n=%d k=%d", m, n, k)
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if err := checkMatrix("Sgemm", "A", ar, ac, la, lda); err != nil {
		return err
	}
	if err := checkMatrix("Sgemm", "B", br, bc, lb, ldb); err != nil {
		return err
	}
	return checkMatrix("Sgemm", "C", m, n, lc, ldc)
}

func checkMatrix(op, name string, rows, cols, length, ld int) error {
	if rows == 0 || cols == 0 {
		return nil
	}
	if ld < cols {
		return fmt.Errorf("asm: %s: ld%s=%d is less than its %d columns", op, name, ld, cols)
	}
	if need := (rows-1)*ld + cols; length < need {
		return fmt.Errorf("asm: %s: %s has %d elements, needs %d for %d×%d with ld %d", op, name, length, need, rows, cols, ld)
	}
	return nil
}

// PackedA is a left operand packed once in the micro-kernel's panel format, so that
// repeated products with it (a layer's weights) skip the packing. It records the
// geometry (ISA, MR, KC) it was packed for and repacks itself if the active path
// changes. A PackedA is safe for concurrent use by several goroutines.
type PackedA struct {
	m, k   int
	panels atomic.Pointer[aPanels]
}

// PackA packs op(A) (m×k). The source is copied; it may be reused after the call.
// Inconsistent sizes are a programming error and panic with a message naming them;
// use NewPackedA to get an error instead.
func PackA(transA bool, m, k int, a []float32, lda int) *PackedA {
	p, err := NewPackedA(transA, m, k, a, lda)
	if err != nil {
		panic(err)
	}
	return p
}

// NewPackedA is PackA returning an error for inconsistent sizes.
func NewPackedA(transA bool, m, k int, a []float32, lda int) (*PackedA, error) {
	if m < 0 || k < 0 {
		return nil, fmt.Errorf("asm: PackA: negative size m=%d k=%d", m, k)
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	if err := checkMatrix("PackA", "A", ar, ac, len(a), lda); err != nil {
		return nil, err
	}
	p := &PackedA{m: m, k: k}
	ap := new(aPanels)
	ap.pack(curGeom, transA, m, k, a, lda)
	p.panels.Store(ap)
	return p, nil
}

// Repack packs a new op(A) of the same m×k into p's existing storage: a layer whose
// weights change every training step re-packs them without allocating. It must not
// run while a Gemm is using p.
func (p *PackedA) Repack(transA bool, a []float32, lda int) error {
	ar, ac := p.m, p.k
	if transA {
		ar, ac = ac, ar
	}
	if err := checkMatrix("Repack", "A", ar, ac, len(a), lda); err != nil {
		return err
	}
	p.panels.Load().pack(curGeom, transA, p.m, p.k, a, lda)
	return nil
}

// Rows returns m.
func (p *PackedA) Rows() int { return p.m }

// Cols returns k.
func (p *PackedA) Cols() int { return p.k }

// Bytes returns the memory the packed panels hold.
func (p *PackedA) Bytes() int { return 4 * len(p.panels.Load().data) }

// current returns panels packed for the active geometry, repacking if the ISA
// changed since they were made.
func (p *PackedA) current() *aPanels {
	g := curGeom
	ap := p.panels.Load()
	if ap.g.sameA(g) {
		return ap
	}
	rowMajor := ap.unpack(p.m, p.k)
	nap := new(aPanels)
	nap.pack(g, false, p.m, p.k, rowMajor, max(p.k, 1))
	p.panels.Store(nap)
	return nap
}

// BSource supplies the right operand of a product with a PackedA: op(B), k×n. The GEMM
// driver asks it for panels; an implicit convolution builds them from an image
// instead of materializing an im2col matrix.
type BSource interface {
	// PackB writes op(B)[k0:k0+kc, j0:j0+nc] into dst in the micro-kernel's panel
	// format: slivers of nr columns, dst[s*kc*nr + p*nr + j] = op(B)[k0+p, j0+s*nr+j],
	// the last sliver zero-padded to nr columns. len(dst) ≥ ceil(nc/nr)·kc·nr.
	// It may be called from several goroutines at once for disjoint panels.
	PackB(dst []float32, k0, kc, j0, nc, nr int)
}

// PanelSource is a BSource whose op(B) is already stored as NR-wide slivers (a
// Winograd layer's V): the GEMM reads them in place instead of copying them
// through PackB.
type PanelSource interface {
	BSource
	// Panels returns where op(B)[k0:k0+kc, j0:j0+nc] is stored in PackB's sliver
	// format, except that consecutive slivers are stride floats apart:
	// panels[s*stride + p*nr + j] = op(B)[k0+p, j0+s*nr+j], j0 a multiple of nr,
	// the last sliver readable (finite) up to nr columns. It returns nil when the
	// source holds no slivers of width nr; that answer must depend on nr only.
	// It may be called from several goroutines at once.
	Panels(k0, kc, j0, nc, nr int) (panels []float32, stride int)
}

// BFromMatrix returns the BSource for a row-major matrix B (or Bᵀ when transB).
// Its PackB uses the active path's vector packing kernels.
func BFromMatrix(transB bool, b []float32, ldb int) BSource {
	return &matrixB{b: b, ld: ldb, trans: transB}
}

type matrixB struct {
	b     []float32
	ld    int
	trans bool
}

func (s *matrixB) PackB(dst []float32, k0, kc, j0, nc, nr int) {
	packBMatrix(curGeom, dst, s.b, s.ld, s.trans, k0, kc, j0, nc, nr)
}

// NR returns the width of the B slivers (columns per micro-kernel tile) of the
// active path: the nr that PackedA.Gemm passes to BSource.PackB.
func NR() int { return curGeom.nr }

// MR returns the height of the A slivers (rows per micro-kernel tile) of the active
// path.
func MR() int { return curGeom.mr }

// Gemm computes C = alpha·A·op(B) + beta·C where A is the packed m×k matrix and
// op(B), k×n, comes from src. When beta is 0, C is not read. It runs on up to
// Threads() goroutines and, with panels already packed for the active path,
// allocates nothing. A C too short for m×n with stride ldc panics with a message
// naming the sizes.
func (p *PackedA) Gemm(n int, alpha float32, src BSource, beta float32, c []float32, ldc int) {
	if n < 0 {
		panic(fmt.Sprintf("asm: PackedA.Gemm: negative n=%d", n))
	}
	if err := checkMatrix("PackedA.Gemm", "C", p.m, n, len(c), ldc); err != nil {
		panic(err)
	}
	if p.m == 0 || n == 0 {
		return
	}
	ap := p.current()
	if s, ok := src.(*matrixB); ok {
		br, bc := p.k, n
		if s.trans {
			br, bc = n, p.k
		}
		if err := checkMatrix("PackedA.Gemm", "B", br, bc, len(s.b), s.ld); err != nil {
			panic(err)
		}
		runGemm(ap.g, ap, p.m, n, p.k, alpha, nil, *s, beta, c, ldc)
		return
	}
	runGemm(ap.g, ap, p.m, n, p.k, alpha, src, matrixB{}, beta, c, ldc)
}

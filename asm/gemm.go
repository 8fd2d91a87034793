package asm

import "fmt"

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where op(X)
// is X or Xᵀ. op(A) is m×k, op(B) is k×n and C is m×n; lda, ldb and ldc are the row
// strides of A, B and C as stored. When beta is 0, C is not read (NaNs in C do not
// propagate). It runs on up to Threads() goroutines.
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
	pa := PackA(transA, m, k, a, lda)
	pa.Gemm(n, alpha, BFromMatrix(transB, b, ldb), beta, c, ldc)
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
	if err := checkMatrix("A", ar, ac, la, lda); err != nil {
		return err
	}
	if err := checkMatrix("B", br, bc, lb, ldb); err != nil {
		return err
	}
	return checkMatrix("C", m, n, lc, ldc)
}

func checkMatrix(name string, rows, cols, length, ld int) error {
	if rows == 0 || cols == 0 {
		return nil
	}
	if ld < cols {
		return fmt.Errorf("asm: Sgemm: ld%s=%d is less than its %d columns", name, ld, cols)
	}
	if need := (rows-1)*ld + cols; length < need {
		return fmt.Errorf("asm: Sgemm: %s has %d elements, needs %d for %d×%d with ld %d", name, length, need, rows, cols, ld)
	}
	return nil
}

// PackedA is a left operand packed once in the micro-kernel's panel format, so that
// repeated products with it (a layer's weights) skip the packing. It records the ISA it
// was packed for and repacks itself if the active path changes.
type PackedA struct {
	m, k int
	// src keeps the row-major op(A) (m×k) so that the panels can be rebuilt for
	// another ISA.
	src []float32
}

// PackA packs op(A) (m×k). The source is copied; it may be reused after the call.
func PackA(transA bool, m, k int, a []float32, lda int) *PackedA {
	p := &PackedA{m: m, k: k, src: make([]float32, m*k)}
	for i := 0; i < m; i++ {
		for q := 0; q < k; q++ {
			if transA {
				p.src[i*k+q] = a[q*lda+i]
			} else {
				p.src[i*k+q] = a[i*lda+q]
			}
		}
	}
	return p
}

// Rows returns m. Cols returns k.
func (p *PackedA) Rows() int { return p.m }

// Cols returns k.
func (p *PackedA) Cols() int { return p.k }

// Bytes returns the memory the packed panels hold.
func (p *PackedA) Bytes() int { return 4 * len(p.src) }

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

// BFromMatrix returns the BSource for a row-major matrix B (or Bᵀ when transB).
func BFromMatrix(transB bool, b []float32, ldb int) BSource {
	return matrixB{b: b, ld: ldb, trans: transB}
}

type matrixB struct {
	b     []float32
	ld    int
	trans bool
}

func (s matrixB) PackB(dst []float32, k0, kc, j0, nc, nr int) {
	for j := 0; j < nc; j += nr {
		w := min(nr, nc-j)
		panel := dst[(j/nr)*kc*nr:]
		for p := 0; p < kc; p++ {
			row := panel[p*nr : p*nr+nr]
			for q := 0; q < w; q++ {
				if s.trans {
					row[q] = s.b[(j0+j+q)*s.ld+k0+p]
				} else {
					row[q] = s.b[(k0+p)*s.ld+j0+j+q]
				}
			}
			clear(row[w:])
		}
	}
}

// Gemm computes C = alpha·A·op(B) + beta·C where A is the packed m×k matrix and
// op(B), k×n, comes from src. When beta is 0, C is not read.
func (p *PackedA) Gemm(n int, alpha float32, src BSource, beta float32, c []float32, ldc int) {
	const nr = 8
	m, k := p.m, p.k
	panel := make([]float32, k*nr)
	for j0 := 0; j0 < n; j0 += nr {
		w := min(nr, n-j0)
		src.PackB(panel, 0, k, j0, w, nr)
		for i := 0; i < m; i++ {
			for j := 0; j < w; j++ {
				var s float32
				for q := 0; q < k; q++ {
					s += p.src[i*k+q] * panel[q*nr+j]
				}
				o := &c[i*ldc+j0+j]
				if beta == 0 {
					*o = alpha * s
				} else {
					*o = alpha*s + beta**o
				}
			}
		}
	}
}

package asm

import (
	"sync"
	"unsafe"
)

// Products with few rows of A and a transposed B, C = alpha·op(A)·Bᵀ + beta·C with
// m ≤ dotMaxM, are a fully connected layer at a small batch: every element of B is
// used only m times, so the GEMM path's transposing of B into panels costs more
// than the arithmetic. Here each C element is a dot product of an A row with a B
// row, both contiguous; B streams once at memory speed.

// dotMaxM is the most rows of A for which Sgemm takes the dot-product path, and
// dotMinK the shortest dot product worth it: below that the per-element call and
// reduction cost more than the GEMM's packing (Winograd's weight transform is
// α rows × 9 taps × K·C filters).
const (
	dotMaxM = 8
	dotMinK = 64
)

// dotJob is one small-m product, shared by the workers as a chunkRunner over
// blocks of 4 rows of B (single rows when n < 4).
type dotJob struct {
	g           *gemmGeom
	m, n, k     int
	alpha, beta float32
	a           []float32 // op(A), 4·ceil(m/4) rows of k, zero-padded
	b           []float32
	ldb         int
	c           []float32
	ldc         int
}

var dotJobPool = freeList[dotJob]{}
var dotAPool = freeList[[]float32]{}

func sgemmDot(g *gemmGeom, transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	ap := dotAPool.get()
	need := (m + 3) / 4 * 4 * k
	if cap(*ap) < need {
		*ap = alignedFloats(need)
	}
	ar := (*ap)[:need]
	for i := 0; i < m; i++ {
		row := ar[i*k : i*k+k]
		if transA {
			for p := range row {
				row[p] = a[p*lda+i]
			}
		} else {
			copy(row, a[i*lda:i*lda+k])
		}
	}
	clear(ar[m*k:])
	if hugePagesAvailable && 4*((n-1)*ldb+k) >= dotHugeMinBytes {
		dotAdvised.advise(b[:(n-1)*ldb+k])
	}
	j := dotJobPool.get()
	*j = dotJob{g: g, m: m, n: n, k: k, alpha: alpha, beta: beta, a: ar, b: b, ldb: ldb, c: c, ldc: ldc}
	blocks := (n + 3) / 4
	if n < 4 {
		blocks = n
	}
	// ~256 K elements of B a chunk.
	parallelRun(blocks, max(1, (1<<16)/k), j)
	*j = dotJob{}
	dotJobPool.put(j)
	dotAPool.put(ap)
}

// dotOutPool holds the kernels' 16-float outputs: passed through a function
// variable, a stack array would escape and be allocated per call.
var dotOutPool = freeList[[16]float32]{}

func (j *dotJob) run(lo, hi int) {
	out := dotOutPool.get()
	defer dotOutPool.put(out)
	for q := lo; q < hi; q++ {
		// Rows [first, end) of B are this block's; the kernel reads 4 rows from jb.
		jb, ldb, first, end := 4*q, j.ldb, 4*q, min(4*q+4, j.n)
		switch {
		case j.n < 4: // one row, read 4 times
			jb, ldb, first, end = q, 0, q, q+1
		case jb+4 > j.n: // the ragged last block overlaps the one before
			jb = j.n - 4
		}
		_ = j.b[(jb+3*min(ldb, 1))*j.ldb+j.k-1]
		for i0 := 0; i0 < j.m; i0 += 4 {
			if raceEnabled {
				raceRead(&j.b[jb*j.ldb], 3*ldb+j.k)
			}
			// A single row (batch 1) is read as all four rows: the kernel's loads
			// of the padding rows then hit the same cache lines.
			lda := j.k
			if j.m-i0 == 1 {
				lda = 0
			}
			j.g.dot4x4(&j.a[i0*j.k], lda, &j.b[jb*j.ldb], ldb, j.k, &out[0])
			for i := i0; i < min(i0+4, j.m); i++ {
				row := j.c[i*j.ldc:]
				for r := first - jb; r < end-jb; r++ {
					v := j.alpha * out[(i-i0)*4+r]
					if j.beta != 0 {
						v += j.beta * row[jb+r]
					}
					row[jb+r] = v
				}
			}
		}
	}
}

// dotHugeMinBytes is the smallest B (a classifier layer's weights) that the dot path
// asks to move to huge pages: at batch 1, FC6's 411 MB streamed 25 % faster from
// them here (see sgemm_mem.go). FC8 (16 MB) is above it, smaller operands are not
// worth a collapse.
const dotHugeMinBytes = 4 << 20

// dotAdvised remembers the operands already advised, so that each is collapsed once
// (a forward pass reads the same weights every time).
var dotAdvised adviseMemo

// adviseMemo is a small ring of advised ranges. It holds addresses, not pointers,
// so that it never keeps a dropped model's weights alive; a new operand that
// happens to reuse a remembered range only misses the hint.
type adviseMemo struct {
	mu   sync.Mutex
	seen [16][2]uintptr // start, length in floats
	next int
}

func (m *adviseMemo) advise(x []float32) {
	key := [2]uintptr{uintptr(unsafe.Pointer(&x[0])), uintptr(len(x))}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.seen {
		if s == key {
			return
		}
	}
	m.seen[m.next] = key
	m.next = (m.next + 1) % len(m.seen)
	adviseHuge(x)
}

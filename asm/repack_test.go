package asm

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Repack gives the same products as a fresh PackA, on every path, without allocating.
func TestRepack(t *testing.T) {
	const m, k, n = 37, 70, 45
	for _, isa := range Supported() {
		t.Run(isa.String(), func(t *testing.T) {
			restore, err := SetImpl(isa)
			require.NoError(t, err)
			defer restore()
			a1, a2, b := seq(m*k, 1), seq(m*k, 2), seq(k*n, 3)
			p := PackA(false, m, k, a1, k)
			for _, trans := range []bool{false, true} {
				src, lda := a2, k
				if trans { // the same op(A) stored transposed
					src, lda = make([]float32, k*m), m
					for i := 0; i < m; i++ {
						for q := 0; q < k; q++ {
							src[q*m+i] = a2[i*k+q]
						}
					}
				}
				require.NoError(t, p.Repack(trans, src, lda))
				got, want := make([]float32, m*n), make([]float32, m*n)
				p.Gemm(n, 1, BFromMatrix(false, b, n), 0, got, n)
				PackA(false, m, k, a2, k).Gemm(n, 1, BFromMatrix(false, b, n), 0, want, n)
				require.Equal(t, want, got)
			}
			require.Zero(t, testing.AllocsPerRun(3, func() {
				if err := p.Repack(false, a1, k); err != nil {
					t.Fatal(err)
				}
			}))
			require.ErrorContains(t, p.Repack(false, a1[:10], k), "Repack")
		})
	}
}

func seq(n int, salt float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32((i*7+int(salt)*13)%17) - 8
	}
	return x
}

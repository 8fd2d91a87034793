package asm_test

import (
	"math/rand/v2"
	"testing"
)

// TestSgemmDotPath covers the dot-product path (transposed B, m ≤ 8, k ≥ 64) for
// every m it takes, including the single row that the kernel reads as all four
// rows, ragged n, unaligned heads, and alpha/beta.
func TestSgemmDotPath(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 7))
		for m := 1; m <= 9; m++ {
			for _, n := range []int{1, 3, 4, 5, 63} {
				for _, k := range []int{64, 65, 1000} {
					for _, transA := range []bool{false, true} {
						off := rng.IntN(4)
						g := newGemmCase(rng, transA, true, m, n, k, off, off, 1.5, float32(m%2)*0.5)
						g.run(t)
						g.check(t)
					}
				}
			}
		}
	})
}

// TestSgemmDotLargeB runs the dot-product path on a B large enough (≥ dotHugeMinBytes, 4 MiB) to be
// advised onto huge pages, twice (the second time the advice is remembered): the
// results must not change.
func TestSgemmDotLargeB(t *testing.T) {
	if testing.Short() {
		t.Skip("18 MB operand")
	}
	rng := rand.New(rand.NewPCG(8, 8))
	g := newGemmCase(rng, false, true, 1, 1100, 4100, 0, 1, 1, 0)
	g.run(t)
	g.check(t)
	first := append([]float32(nil), g.c...)
	g.run(t)
	for i, v := range g.c {
		if v != first[i] {
			t.Fatalf("second run: C[%d] = %v, first run %v", i, v, first[i])
		}
	}
}

package asm

import (
	"fmt"
	"math"
)

// winogradPoints are the finite Toom–Cook interpolation points of F(m, 3); the
// point at infinity is implied. F(4,3) uses {0, ±√2, ±√2/2}, which roughly halves its
// rounding error against the integer points {0, ±1, ±2} (kernels.md §2).
func winogradPoints(m int) ([]float64, error) {
	r2 := math.Sqrt2
	switch m {
	case 2:
		return []float64{0, 1, -1}, nil
	case 4:
		return []float64{0, r2, -r2, r2 / 2, -r2 / 2}, nil
	case 6:
		return []float64{0, 1, -1, 2, -2, 0.5, -0.5}, nil
	}
	return nil, fmt.Errorf("asm: Winograd F(%d,3) is not supported (want m = 2, 4 or 6)", m)
}

// WinogradMatrices returns the Toom–Cook matrices of F(m×m, 3×3) in float64:
// Aᵀ (m×α), G (α×3) and Bᵀ (α×α), such that for a 1-D input d (α) and filter g (3)
// the correlation y_i = Σ_j d_{i+j}·g_j (i < m) is y = Aᵀ·[(G·g) ⊙ (Bᵀ·d)], and in 2-D
// Y = Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A.
//
// Derivation: for the linear convolution s = g∗h, Toom–Cook evaluates g and h at the
// α points (α−1 finite and ∞), multiplies and interpolates: s = C·[(E_g·g) ⊙ (E_h·h)].
// Correlation is the transpose of that map, so Aᵀ = E_hᵀ, Bᵀ = Cᵀ (column k of C
// holds the coefficients of Π_{l≠k}(x−p_l), ∞'s column those of Π_l(x−p_l)), and G is
// E_g with row k divided by Π_{l≠k}(p_k−p_l), the Lagrange denominator moved from C.
func WinogradMatrices(m int) (at, g, bt [][]float64, err error) {
	p, err := winogradPoints(m)
	if err != nil {
		return nil, nil, nil, err
	}
	alpha := m + 2
	nf := alpha - 1 // finite points
	at = newMat(m, alpha)
	g = newMat(alpha, 3)
	bt = newMat(alpha, alpha)
	for k := 0; k < nf; k++ {
		for i, pw := 0, 1.0; i < m; i, pw = i+1, pw*p[k] {
			at[i][k] = pw
		}
		den := 1.0
		others := make([]float64, 0, nf-1)
		for l := 0; l < nf; l++ {
			if l != k {
				den *= p[k] - p[l]
				others = append(others, p[l])
			}
		}
		for j, pw := 0, 1.0; j < 3; j, pw = j+1, pw*p[k] {
			g[k][j] = pw / den
		}
		copy(bt[k], polyFromRoots(others))
	}
	at[m-1][nf] = 1
	g[nf][2] = 1
	copy(bt[nf], polyFromRoots(p))
	for _, mat := range [][][]float64{at, g, bt} {
		for _, row := range mat {
			for j := range row {
				row[j] += 0 // −0 → +0, for printing
			}
		}
	}
	return at, g, bt, nil
}

// polyFromRoots returns the coefficients (lowest degree first) of Π (x − r).
func polyFromRoots(roots []float64) []float64 {
	c := []float64{1}
	for _, r := range roots {
		n := make([]float64, len(c)+1)
		for i, v := range c {
			n[i+1] += v
			n[i] -= r * v
		}
		c = n
	}
	return c
}

func newMat(r, c int) [][]float64 {
	m := make([][]float64, r)
	for i := range m {
		m[i] = make([]float64, c)
	}
	return m
}

// winogradCoef holds, per m, the float32 Aᵀ and Bᵀ the transforms use; the assembly
// embeds the same values (winograd_gen_test.go checks that it is up to date).
type winogradCoef struct {
	m, alpha int
	at, bt   [][]float32
}

var winogradCoefs = func() map[int]*winogradCoef {
	cs := map[int]*winogradCoef{}
	for _, m := range []int{2, 4, 6} {
		at, _, bt, err := WinogradMatrices(m)
		if err != nil {
			panic(err)
		}
		cs[m] = &winogradCoef{m: m, alpha: m + 2, at: to32(at), bt: to32(bt)}
	}
	return cs
}()

func to32(a [][]float64) [][]float32 {
	r := make([][]float32, len(a))
	for i, row := range a {
		r[i] = make([]float32, len(row))
		for j, v := range row {
			r[i][j] = float32(v)
		}
	}
	return r
}

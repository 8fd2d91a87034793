package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/govgg/govgg/asm"
)

// wfRef returns U[ξ] (rows×cols, row-major) of the filters w (k×c×3×3) in float64,
// and per element Σ|G·|·|g|·|Gᵀ·|, the scale of its rounding error.
func wfRef(m, k, c int, w []float32, transposed bool) (u, scale [][]float64) {
	_, gm, _, err := asm.WinogradMatrices(m)
	if err != nil {
		panic(err)
	}
	a := m + 2
	rows, cols := k, c
	if transposed {
		rows, cols = c, k
	}
	u, scale = make([][]float64, a*a), make([][]float64, a*a)
	for xi := range u {
		u[xi], scale[xi] = make([]float64, rows*cols), make([]float64, rows*cols)
	}
	for ki := 0; ki < k; ki++ {
		for ci := 0; ci < c; ci++ {
			g := w[(ki*c+ci)*9:][:9]
			at := ki*cols + ci
			if transposed {
				at = ci*cols + ki
			}
			for ra := 0; ra < a; ra++ {
				for rb := 0; rb < a; rb++ {
					var s, e float64
					for r := 0; r < 3; r++ {
						for j := 0; j < 3; j++ {
							v := float64(g[r*3+j])
							if transposed { // rot180
								v = float64(g[(2-r)*3+2-j])
							}
							s += gm[ra][r] * v * gm[rb][j]
							e += math.Abs(gm[ra][r] * v * gm[rb][j])
						}
					}
					u[ra*a+rb][at], scale[ra*a+rb][at] = s, e
				}
			}
		}
	}
	return u, scale
}

// unpackU returns p's op(A) through a product with the identity (exact: every sum
// adds zeros to one product).
func unpackU(p *asm.PackedA) []float32 {
	n := p.Cols()
	id := make([]float32, n*n)
	for i := 0; i < n; i++ {
		id[i*n+i] = 1
	}
	out := make([]float32, p.Rows()*n)
	p.Gemm(n, 1, asm.BFromMatrix(false, id, n), 0, out, n)
	return out
}

// The packed U of every path matches the float64 transform, forward and
// transposed, for sizes with partial slivers and several k-blocks, whatever the
// thread count; Set allocates nothing.
func TestWinogradFilter(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// 400 columns: two k-blocks; 150×128: U past L2 at F(4,3) and F(6,3)
	// (non-temporal stores where whole slivers are aligned).
	sizes := [][2]int{{1, 1}, {3, 5}, {12, 7}, {13, 17}, {16, 1}, {33, 67}, {5, 400}, {400, 3}, {150, 128}}
	eachISA(t, func(t *testing.T) {
		for _, m := range []int{2, 4, 6} {
			for _, sz := range sizes {
				for _, tr := range []bool{false, true} {
					t.Run(fmt.Sprintf("F%d/k%d-c%d/transposed=%v", m, sz[0], sz[1], tr), func(t *testing.T) {
						k, c := sz[0], sz[1]
						f, err := asm.NewWinogradFilter(m, k, c, tr)
						require.NoError(t, err)
						w := make([]float32, k*c*9)
						for i := range w {
							w[i] = float32(2*rng.Float64() - 1)
						}
						for _, th := range []int{1, 2} {
							prev := asm.SetThreads(th)
							require.NoError(t, f.Set(w))
							asm.SetThreads(prev)
							want, scale := wfRef(m, k, c, w, tr)
							for xi, p := range f.U() {
								got := unpackU(p)
								for i, v := range got {
									if d := math.Abs(float64(v) - want[xi][i]); d > 1e-6*scale[xi][i] {
										t.Fatalf("threads=%d U[%d] element %d: got %v, want %v (scale %v)", th, xi, i, v, want[xi][i], scale[xi][i])
									}
								}
							}
						}
						require.Zero(t, testing.AllocsPerRun(2, func() { _ = f.Set(w) }))
						require.Equal(t, (m+2)*(m+2), len(f.U()))
						require.GreaterOrEqual(t, f.Bytes(), 4*(m+2)*(m+2)*k*c)
					})
				}
			}
		}
	})
}

// A filter made under one path and set under another is laid out for the latter.
func TestWinogradFilterISAChange(t *testing.T) {
	const m, k, c = 4, 20, 30
	f, err := asm.NewWinogradFilter(m, k, c, false)
	require.NoError(t, err)
	w := make([]float32, k*c*9)
	for i := range w {
		w[i] = float32(i%13) - 6
	}
	want, _ := wfRef(m, k, c, w, false)
	eachISA(t, func(t *testing.T) {
		require.NoError(t, f.Set(w))
		got := unpackU(f.U()[7])
		for i, v := range got {
			require.InDelta(t, want[7][i], v, 1e-4)
		}
	})
}

func TestWinogradFilterErrors(t *testing.T) {
	_, err := asm.NewWinogradFilter(3, 4, 4, false)
	require.ErrorContains(t, err, "F(3,3)")
	_, err = asm.NewWinogradFilter(4, 0, 4, false)
	require.ErrorContains(t, err, "0×4")
	f, err := asm.NewWinogradFilter(2, 4, 5, true)
	require.NoError(t, err)
	require.ErrorContains(t, f.Set(make([]float32, 4*5*9-1)), "179 weights, want 180 (4×5×3×3)")
}

// The backward-data U is the forward U permuted and scaled (in float64): the point
// sets are closed under p → 1/p, so G·J's row for point p is G's row for 1/p times
// a scalar (0 ↔ ∞), and U_bwd[a,b] = s_a·s_b·U_fwd[π(a),π(b)]ᵀ.
func TestWinogradRotationIdentity(t *testing.T) {
	for _, m := range []int{2, 4, 6} {
		_, gm, _, err := asm.WinogradMatrices(m)
		require.NoError(t, err)
		a := m + 2
		// Find π and s with (G·J)[r] = s_r·G[π(r)], J reversing the 3 taps.
		pi, s := make([]int, a), make([]float64, a)
		for r := 0; r < a; r++ {
			pi[r] = -1
			gj := []float64{gm[r][2], gm[r][1], gm[r][0]}
			for q := 0; q < a && pi[r] < 0; q++ {
				var sc float64
				for j := 0; j < 3; j++ {
					if gm[q][j] != 0 {
						sc = gj[j] / gm[q][j]
						break
					}
				}
				ok := sc != 0
				for j := 0; j < 3 && ok; j++ {
					ok = math.Abs(gj[j]-sc*gm[q][j]) < 1e-12
				}
				if ok {
					pi[r], s[r] = q, sc
				}
			}
			require.GreaterOrEqual(t, pi[r], 0, "F(%d,3): row %d of G·J is no multiple of a row of G", m, r)
		}
		const k, c = 3, 2
		w := make([]float32, k*c*9)
		for i := range w {
			w[i] = float32(math.Sin(float64(i) + 1))
		}
		fwd, _ := wfRef(m, k, c, w, false)
		bwd, _ := wfRef(m, k, c, w, true)
		for ra := 0; ra < a; ra++ {
			for rb := 0; rb < a; rb++ {
				for ki := 0; ki < k; ki++ {
					for ci := 0; ci < c; ci++ {
						got := bwd[ra*a+rb][ci*k+ki]
						want := s[ra] * s[rb] * fwd[pi[ra]*a+pi[rb]][ki*c+ci]
						require.InDelta(t, want, got, 1e-12*(1+math.Abs(want)), "F(%d,3) ξ=(%d,%d)", m, ra, rb)
					}
				}
			}
		}
	}
}

// ExampleWinogradFilter prepares the transformed weights of F(2×2, 3×3) for one
// filter and reads back U at the tile's corner.
func ExampleWinogradFilter() {
	f, err := asm.NewWinogradFilter(2, 1, 1, false)
	if err != nil {
		panic(err)
	}
	// U = G·g·Gᵀ; its corner (0,0) is g[0][0] (point 0 in both directions).
	if err := f.Set([]float32{5, 1, 1, 1, 1, 1, 1, 1, 1}); err != nil {
		panic(err)
	}
	fmt.Println(len(f.U()), unpackU(f.U()[0]))
	// Output: 16 [5]
}

// BenchmarkWinogradFilter times Set for the 3×3 layers of VGG-16 at CIFAR size
// (C = K = 64…512); "GB/s" counts the packed U written. The buffers stay hot in
// the cache between iterations (38 MB at 512×512, F(4,3)).
func BenchmarkWinogradFilter(b *testing.B) {
	for _, kc := range []int{64, 128, 256, 512} {
		for _, m := range []int{2, 4} {
			for _, tr := range []bool{false, true} {
				for _, th := range []int{1, 2} {
					b.Run(fmt.Sprintf("c=k=%d/F%d/transposed=%v/threads=%d", kc, m, tr, th), func(b *testing.B) {
						f, err := asm.NewWinogradFilter(m, kc, kc, tr)
						if err != nil {
							b.Fatal(err)
						}
						w := make([]float32, kc*kc*9)
						for i := range w {
							w[i] = float32(i%7) - 3
						}
						defer asm.SetThreads(asm.SetThreads(th))
						_ = f.Set(w) // fault the pages in
						for b.Loop() {
							_ = f.Set(w)
						}
						b.ReportMetric(float64(f.Bytes())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
					})
				}
			}
		}
	}
}

// BenchmarkWinogradFilterVGG16 sets the forward and backward-data U of all 13
// VGG-16 convolutions per iteration, as a training step does: about 470 MB at
// F(4,3), so each Set writes memory that has left the cache since its last.
func BenchmarkWinogradFilterVGG16(b *testing.B) {
	layers := [][2]int{{64, 3}, {64, 64}, {128, 64}, {128, 128}, {256, 128}, {256, 256}, {256, 256},
		{512, 256}, {512, 512}, {512, 512}, {512, 512}, {512, 512}, {512, 512}}
	for _, m := range []int{2, 4} {
		var fs []*asm.WinogradFilter
		var ws [][]float32
		bytes := 0
		for _, l := range layers {
			w := make([]float32, l[0]*l[1]*9)
			for i := range w {
				w[i] = float32(i%7) - 3
			}
			for _, tr := range []bool{false, true} {
				f, err := asm.NewWinogradFilter(m, l[0], l[1], tr)
				if err != nil {
					b.Fatal(err)
				}
				_ = f.Set(w) // fault the pages in
				fs, ws = append(fs, f), append(ws, w)
				bytes += f.Bytes()
			}
		}
		for _, th := range []int{1, 2} {
			b.Run(fmt.Sprintf("F%d/threads=%d", m, th), func(b *testing.B) {
				defer asm.SetThreads(asm.SetThreads(th))
				for b.Loop() {
					for i, f := range fs {
						_ = f.Set(ws[i])
					}
				}
				b.ReportMetric(float64(bytes)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}

package asm

import (
	"math"
	"math/rand/v2"
	"testing"
)

const winoSentinel = float32(-12345.5)

func winoEach(t *testing.T, f func(t *testing.T, m int)) {
	for _, isa := range Supported() {
		t.Run(isa.String(), func(t *testing.T) {
			restore, err := SetImpl(isa)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			for _, m := range []int{2, 4, 6} {
				f(t, m)
			}
		})
	}
}

// winoClose compares got with the twin's want: NaN where want is NaN, and within
// 1e-5 of the largest |want| elsewhere (FMA rounding).
func winoClose(t *testing.T, what string, i int, got, want, scale float32) {
	t.Helper()
	if math.IsNaN(float64(want)) || math.IsInf(float64(want), 0) {
		if !(math.IsNaN(float64(got)) && math.IsNaN(float64(want))) && got != want {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got, want)
		}
		return
	}
	if d := math.Abs(float64(got - want)); !(d <= 1e-5*float64(scale)+1e-30) {
		t.Fatalf("%s[%d] = %v, want %v (scale %v)", what, i, got, want, scale)
	}
}

func TestWinogradMatrices(t *testing.T) {
	// y = Aᵀ[(G·g) ⊙ (Bᵀ·d)] must be the correlation of d with g, in float64.
	rng := rand.New(rand.NewPCG(1, 1))
	for _, m := range []int{2, 4, 6} {
		at, g, bt, err := WinogradMatrices(m)
		if err != nil {
			t.Fatal(err)
		}
		a := m + 2
		d := make([]float64, a)
		f := make([]float64, 3)
		for i := range d {
			d[i] = rng.Float64()*2 - 1
		}
		for i := range f {
			f[i] = rng.Float64()*2 - 1
		}
		prod := make([]float64, a)
		for k := 0; k < a; k++ {
			var gk, bk float64
			for j := 0; j < 3; j++ {
				gk += g[k][j] * f[j]
			}
			for j := 0; j < a; j++ {
				bk += bt[k][j] * d[j]
			}
			prod[k] = gk * bk
		}
		for i := 0; i < m; i++ {
			var y, want float64
			for k := 0; k < a; k++ {
				y += at[i][k] * prod[k]
			}
			for j := 0; j < 3; j++ {
				want += d[i+j] * f[j]
			}
			if math.Abs(y-want) > 1e-12 {
				t.Errorf("F(%d,3): y[%d] = %v, want %v", m, i, y, want)
			}
		}
	}
	if _, _, _, err := WinogradMatrices(3); err == nil {
		t.Error("F(3,3) accepted")
	}
}

func TestWinogradInputTwin(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	winoEach(t, func(t *testing.T, m int) {
		a := m + 2
		for _, groups := range []int{1, 2, 3} {
			for off := 0; off < 4; off++ {
				ld := 41 + off
				dbuf := make([]float32, off+ld*(a+3))
				d := dbuf[off:]
				for i := range d {
					d[i] = float32(rng.Float64()*2 - 1)
				}
				if off == 3 {
					d[ld+5] = float32(math.NaN())
					d[2*ld+9] = float32(math.Inf(-1))
				}
				n := groups * WinogradGroup
				idx := make([]int32, n)
				for i := range idx {
					idx[i] = int32(rng.IntN(len(d) - (a-1)*ld - a + 1))
				}
				gstride := 16*3 + off
				vstride := groups*gstride + 7
				vlen := off + (a*a-1)*vstride + (groups-1)*gstride + 16 + 9
				got := make([]float32, vlen)
				want := make([]float32, vlen)
				for i := range got {
					got[i], want[i] = winoSentinel, winoSentinel
				}
				WinogradInput(m, got[off:], vstride, gstride, d, ld, idx, groups)
				winogradCoefs[m].input(&want[off], vstride, gstride, &d[0], ld, &idx[0], groups)
				var scale float32
				for _, v := range want {
					if v != winoSentinel && !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
						scale = max(scale, float32(math.Abs(float64(v))))
					}
				}
				for i := range got {
					if want[i] == winoSentinel {
						if got[i] != winoSentinel {
							t.Fatalf("F(%d,3) groups %d: wrote %v at %d, outside the slots", m, groups, got[i], i)
						}
						continue
					}
					winoClose(t, "v", i, got[i], want[i], scale)
				}
			}
		}
	})
}

func TestWinogradOutputTwin(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	winoEach(t, func(t *testing.T, m int) {
		a := m + 2
		for _, groups := range []int{1, 2} {
			for off := 0; off < 4; off++ {
				for _, relu := range []bool{false, true} {
					n := groups * WinogradGroup
					mstride := n + 5 + off
					mm := make([]float32, off+(a*a-1)*mstride+n)
					for i := range mm {
						mm[i] = float32(rng.Float64()*2 - 1)
					}
					if off == 2 {
						mm[off+3*mstride+4] = float32(math.NaN())
						mm[off+7*mstride+9] = float32(math.Inf(1))
					}
					// Tiles laid out on a grid of 5 per row, one spare column and
					// row between them, so the sentinels around each are checked.
					ld := 5*(m+1) + 3
					idx := make([]int32, n)
					for i := range idx {
						idx[i] = int32(1 + (i/5)*(m+1)*ld + (i%5)*(m+1))
					}
					ylen := off + int(idx[n-1]) + (m+1)*ld
					got := make([]float32, ylen)
					want := make([]float32, ylen)
					for i := range got {
						got[i], want[i] = winoSentinel, winoSentinel
					}
					bias := float32(rng.Float64() - 0.5)
					m2 := append([]float32(nil), mm...) // the kernels may use mm as scratch
					WinogradOutput(m, got[off:], ld, idx, m2[off:], mstride, groups, bias, relu)
					winogradCoefs[m].output(&want[off], ld, &idx[0], &mm[off], mstride, groups, bias, relu)
					var scale float32
					for _, v := range want {
						if v != winoSentinel && !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
							scale = max(scale, float32(math.Abs(float64(v))))
						}
					}
					for i := range got {
						if want[i] == winoSentinel {
							if got[i] != winoSentinel {
								t.Fatalf("F(%d,3): wrote %v at %d, outside the tiles", m, got[i], i)
							}
							continue
						}
						winoClose(t, "y", i, got[i], want[i], scale)
					}
				}
			}
		}
	})
}

func BenchmarkWinogradTransforms(b *testing.B) {
	for _, m := range []int{2, 4, 6} {
		a := m + 2
		const groups = 8
		n := groups * WinogradGroup
		ld := n*m + a
		d := make([]float32, ld*a)
		idx := make([]int32, n)
		for i := range idx {
			idx[i] = int32(i * m)
		}
		v := make([]float32, a*a*n)
		y := make([]float32, ld*m)
		b.Run("input/F"+string(rune('0'+m))+"/"+Impl(), func(b *testing.B) {
			for b.Loop() {
				WinogradInput(m, v, n, 16, d, ld, idx, groups)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/tile")
		})
		b.Run("output/F"+string(rune('0'+m))+"/"+Impl(), func(b *testing.B) {
			for b.Loop() {
				WinogradOutput(m, y, ld, idx, v, n, groups, 0, true)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/tile")
		})
	}
}

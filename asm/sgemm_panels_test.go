package asm_test

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/govgg/govgg/asm"
)

// panelSource stores a k×n op(B) as slivers of width w, sliver s at s*stride
// (stride > k*w: the slivers are not packed back to back, like a Winograd V).
type panelSource struct {
	v            []float32
	k, n, w      int
	stride       int
	panelsCalled atomic.Bool // Panels runs on several goroutines
}

func newPanelSource(rng *rand.Rand, k, n, w int) *panelSource {
	s := &panelSource{k: k, n: n, w: w, stride: k*w + 37}
	slivers := (n + w - 1) / w
	s.v = make([]float32, slivers*s.stride)
	for i := range s.v {
		s.v[i] = rng.Float32()*2 - 1
	}
	return s
}

func (s *panelSource) at(p, j int) float32 { return s.v[j/s.w*s.stride+p*s.w+j%s.w] }

func (s *panelSource) PackB(dst []float32, k0, kc, j0, nc, nr int) {
	for j := 0; j < nc; j += nr {
		for p := 0; p < kc; p++ {
			for q := 0; q < nr; q++ {
				v := float32(0)
				if j+q < nc {
					v = s.at(k0+p, j0+j+q)
				}
				dst[j/nr*kc*nr+p*nr+q] = v
			}
		}
	}
}

func (s *panelSource) Panels(k0, kc, j0, nc, nr int) ([]float32, int) {
	if nr != s.w {
		return nil, 0
	}
	s.panelsCalled.Store(true)
	return s.v[j0/nr*s.stride+k0*nr:], s.stride
}

// TestPackedAPanelSource checks products with a source read in place against a
// float64 reference, on every path and thread count, over shapes that split n,
// split m (where B would otherwise be packed once and shared) and run several
// k-blocks; and that a source without slivers of the path's width falls back to
// PackB.
func TestPackedAPanelSource(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, th := range []int{1, 2} {
			prev := asm.SetThreads(th)
			for _, s := range [][3]int{{1, 1, 1}, {5, 17, 7}, {13, 33, 300}, {40, 100, 700}, {600, 40, 900}, {100, 1500, 64}} {
				m, n, k := s[0], s[1], s[2]
				for _, w := range []int{asm.NR(), asm.NR() * 2} {
					src := newPanelSource(rng, k, n, w)
					a := make([]float32, m*k)
					for i := range a {
						a[i] = rng.Float32()*2 - 1
					}
					c := make([]float32, m*n+5)
					for i := range c {
						c[i] = 7
					}
					asm.PackA(false, m, k, a, k).Gemm(n, 1, src, 0, c, n)
					if src.panelsCalled.Load() != (w == asm.NR()) {
						t.Fatalf("threads=%d %v w=%d: Panels used = %v", th, s, w, src.panelsCalled.Load())
					}
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							var want, abs float64
							for p := 0; p < k; p++ {
								x := float64(a[i*k+p]) * float64(src.at(p, j))
								want += x
								abs += math.Abs(x)
							}
							if d := math.Abs(float64(c[i*n+j]) - want); !(d <= 1e-6*float64(k+2)*abs+1e-30) {
								t.Fatalf("threads=%d %v w=%d: C[%d,%d] = %v, want %v", th, s, w, i, j, c[i*n+j], want)
							}
						}
					}
					for i, v := range c[m*n:] {
						if v != 7 {
							t.Fatalf("threads=%d %v: wrote %v past C at %d", th, s, v, m*n+i)
						}
					}
				}
			}
			asm.SetThreads(prev)
		}
	})
}

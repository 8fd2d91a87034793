package conv

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/govgg/govgg/asm"
)

// A training loop's calls on a plan: new weights every round, backward data
// sometimes without a forward pass in between, both passes checked against the
// float64 references; once warm, a round allocates nothing, on 1 and 2 threads.
// Implicit GEMM's backward data rotates the weights in blocks of output channels
// (K=20: a full and a partial block) on the 9×10 map, and takes the col2im path on
// the 4×4 one.
func TestTrainingRounds(t *testing.T) {
	for _, g := range []Geometry{Square3x3(24, 20, 9, 10), Square3x3(24, 20, 4, 4)} {
		t.Run(fmt.Sprintf("%dx%d", g.H, g.W), func(t *testing.T) { testTrainingRounds(t, g) })
	}
}

func testTrainingRounds(t *testing.T, g Geometry) {
	const n = 2
	rng := rand.New(rand.NewPCG(8, 9))
	x := randF32(rng, n*g.C*g.H*g.W)
	dy := randF32(rng, n*g.K*g.OutH()*g.OutW())
	y := make([]float32, len(dy))
	dx := make([]float32, len(x))
	x64, dy64 := ToFloat64(x), ToFloat64(dy)
	winoEachISA(t, func(t *testing.T) {
		for _, a := range append([]Algorithm{Im2col}, winoAlgs...) {
			tol, ok := winoTol[a]
			if !ok {
				tol = [3]float64{1e-5, 2e-5}
			}
			t.Run(a.String(), func(t *testing.T) {
				p, err := NewPlan(g, WithAlgorithm(a))
				if err != nil {
					t.Fatal(err)
				}
				for round := range 4 {
					w, b := randF32(rng, g.K*g.C*9), randF32(rng, g.K)
					if err := p.SetWeights(w, b); err != nil {
						t.Fatal(err)
					}
					w64 := ToFloat64(w)
					if round != 2 {
						if err := p.Forward(y, x, n); err != nil {
							t.Fatal(err)
						}
						want := ReferenceForward(g, n, x64, w64, ToFloat64(b))
						if e := Compare(y, want); !e.Within(tol[0], tol[1]) {
							t.Fatalf("round %d forward: %v", round, e)
						}
					}
					if err := p.BackwardData(dx, dy, n); err != nil {
						t.Fatal(err)
					}
					want := ReferenceBackwardData(g, n, dy64, w64)
					if e := Compare(dx, want); !e.Within(tol[0], tol[1]) {
						t.Fatalf("round %d backward data: %v", round, e)
					}
				}
				if p.bwdData.alg != a {
					t.Fatalf("backward data runs %v, want %v", p.bwdData.alg, a)
				}
				if want := a != Im2col || g.OutH()*g.OutW() > generalMaxPixels; p.bwdData.transposed != want {
					t.Fatalf("backward data as a transposed convolution: %v, want %v", p.bwdData.transposed, want)
				}
				w := randF32(rng, g.K*g.C*9)
				for _, th := range []int{1, 2} {
					prev := asm.SetThreads(th)
					allocs := testing.AllocsPerRun(3, func() {
						_ = p.SetWeights(w, nil)
						_ = p.Forward(y, x, n)
						_ = p.BackwardData(dx, dy, n)
					})
					asm.SetThreads(prev)
					if allocs != 0 {
						t.Errorf("threads=%d: a warm round allocates %v times", th, allocs)
					}
				}
			})
		}
	})
}

// The prepared weights of a Winograd plan: U for the forward and the backward-data
// kernel, nothing else (no rotated copy of the weights).
func TestWinogradTrainingWeightBytes(t *testing.T) {
	g := Square3x3(16, 32, 8, 8)
	for _, a := range winoAlgs {
		t.Run(fmt.Sprint(a), func(t *testing.T) {
			p, err := NewPlan(g, WithAlgorithm(a))
			if err != nil {
				t.Fatal(err)
			}
			w := make([]float32, g.K*g.C*9)
			if err := p.SetWeights(w, nil); err != nil {
				t.Fatal(err)
			}
			x, dx := make([]float32, g.C*g.H*g.W), make([]float32, g.C*g.H*g.W)
			y := make([]float32, g.K*g.OutH()*g.OutW())
			if err := p.Forward(y, x, 1); err != nil {
				t.Fatal(err)
			}
			if err := p.BackwardData(dx, y, 1); err != nil {
				t.Fatal(err)
			}
			a2 := winoAlpha2[a]
			u := 4 * a2 * g.K * g.C // one U, unpadded
			got := p.WeightBytes() - 4*(len(w)) - 4*g.K - 4*g.C
			// Two U, padded to whole GEMM slivers (at most 16 rows) and cache lines.
			if got < 2*u || got > 2*4*a2*(g.K+16)*(g.C+16) {
				t.Fatalf("prepared weights %d bytes, want two U of ~%d", got, u)
			}
			if p.bwdData.wRot != nil {
				t.Fatal("backward data keeps a rotated copy of the weights")
			}
		})
	}
}

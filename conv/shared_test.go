package conv

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSharedWeights: a plan made WithSharedWeights keeps the caller's slices, holds
// no copy, and computes what a copying plan computes, including a backward-data
// kernel prepared after SetWeights from the kept slice.
func TestSharedWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	g := Square3x3(16, 24, 9, 7)
	const n = 2
	x, dy := randF32(rng, n*g.C*g.H*g.W), randF32(rng, n*g.K*g.OutH()*g.OutW())
	for _, a := range []Algorithm{Im2col, WinogradF23, WinogradF43} {
		w, b := randF32(rng, g.K*g.C*9), randF32(rng, g.K)
		pc, err := NewPlan(g, WithAlgorithm(a))
		if err != nil {
			t.Fatal(err)
		}
		ps, err := NewPlan(g, WithAlgorithm(a), WithSharedWeights(true))
		if err != nil {
			t.Fatal(err)
		}
		var ys, dxs [2][]float32
		for i, p := range []*Plan{pc, ps} {
			if err := p.SetWeights(w, b); err != nil {
				t.Fatal(err)
			}
			ys[i] = make([]float32, len(dy))
			dxs[i] = make([]float32, len(x))
			if err := p.Forward(ys[i], x, n); err != nil {
				t.Fatal(err)
			}
			if err := p.BackwardData(dxs[i], dy, n); err != nil {
				t.Fatal(err)
			}
		}
		if &ps.w[0] != &w[0] || &ps.bias[0] != &b[0] {
			t.Errorf("%v: the shared plan copied its weights", a)
		}
		if &pc.w[0] == &w[0] {
			t.Errorf("%v: the copying plan kept the caller's slice", a)
		}
		if d := pc.WeightBytes() - ps.WeightBytes(); d != 4*(len(w)+len(b)) {
			t.Errorf("%v: WeightBytes differ by %d, want the copy's %d", a, d, 4*(len(w)+len(b)))
		}
		if !slices.Equal(ys[0], ys[1]) || !slices.Equal(dxs[0], dxs[1]) {
			t.Errorf("%v: shared and copied weights give different results", a)
		}
	}
}

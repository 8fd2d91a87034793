package conv

import (
	"math/rand/v2"
	"testing"
)

// FuzzIm2col compares the implicit-GEMM plan's three passes with the float64
// references on random small geometries. The seed corpus runs as a normal test;
// `go test -run=none -fuzz=FuzzIm2col ./conv` explores further.
func FuzzIm2col(f *testing.F) {
	// c, k, h, w, r, s, stride, pad, dil (packed as sh|sw<<4 etc.), n, seed
	f.Add(uint8(3), uint8(4), uint8(7), uint8(9), uint8(3), uint8(3), uint8(0x11), uint8(0x11), uint8(0x11), uint8(1), uint64(1))
	f.Add(uint8(5), uint8(2), uint8(9), uint8(4), uint8(5), uint8(3), uint8(0x12), uint8(0x02), uint8(0x21), uint8(3), uint64(2))
	f.Add(uint8(1), uint8(1), uint8(1), uint8(1), uint8(1), uint8(1), uint8(0x11), uint8(0x00), uint8(0x11), uint8(2), uint64(3))
	f.Add(uint8(2), uint8(3), uint8(13), uint8(11), uint8(7), uint8(7), uint8(0x22), uint8(0x33), uint8(0x11), uint8(2), uint64(4))
	f.Add(uint8(17), uint8(9), uint8(2), uint8(3), uint8(3), uint8(3), uint8(0x11), uint8(0x11), uint8(0x11), uint8(5), uint64(5))
	f.Fuzz(func(t *testing.T, c, k, h, w, r, s, stride, pad, dil, n uint8, seed uint64) {
		g := Geometry{
			C: int(c%9) + 1, K: int(k%9) + 1, H: int(h%16) + 1, W: int(w%16) + 1,
			R: int(r%7) + 1, S: int(s%7) + 1,
			StrideH: int(stride&3) + 1, StrideW: int(stride>>4&3) + 1,
			PadH: int(pad & 3), PadW: int(pad >> 4 & 3),
			DilH: int(dil&1) + 1, DilW: int(dil>>4&1) + 1,
		}
		if g.Validate() != nil {
			return
		}
		batch := int(n%4) + 1
		rng := rand.New(rand.NewPCG(seed, 99))
		x := randF32(rng, batch*g.C*g.H*g.W)
		wt := randF32(rng, g.K*g.C*g.R*g.S)
		b := randF32(rng, g.K)
		dy := randF32(rng, batch*g.K*g.OutH()*g.OutW())
		x64, w64, b64, dy64 := ToFloat64(x), ToFloat64(wt), ToFloat64(b), ToFloat64(dy)

		p, err := NewPlan(g, WithAlgorithm(Im2col))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.SetWeights(wt, b); err != nil {
			t.Fatal(err)
		}
		y := make([]float32, len(dy))
		if err := p.Forward(y, x, batch); err != nil {
			t.Fatal(err)
		}
		checkAgainst(t, g.String()+" forward", y, ReferenceForward(g, batch, x64, w64, b64), ReferenceForward(g, batch, Abs(x64), Abs(w64), Abs(b64)))
		dx := make([]float32, len(x))
		if err := p.BackwardData(dx, dy, batch); err != nil {
			t.Fatal(err)
		}
		checkAgainst(t, g.String()+" backward data", dx, ReferenceBackwardData(g, batch, dy64, w64), ReferenceBackwardData(g, batch, Abs(dy64), Abs(w64)))
		dw := make([]float32, len(wt))
		db := make([]float32, g.K)
		if err := p.BackwardFilter(dw, db, x, dy, batch); err != nil {
			t.Fatal(err)
		}
		dwRef, dbRef := ReferenceBackwardFilter(g, batch, x64, dy64)
		dwScale, dbScale := ReferenceBackwardFilter(g, batch, Abs(x64), Abs(dy64))
		checkAgainst(t, g.String()+" dw", dw, dwRef, dwScale)
		checkAgainst(t, g.String()+" db", db, dbRef, dbScale)
	})
}

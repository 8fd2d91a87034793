package asm

// adamWImpl is the AdamW kernel for the active ISA path.
var adamWImpl = adamWGeneric

// AdamWParams holds the per-step scalars of an AdamW update, precomputed in float64
// and rounded to float32 the way torch.optim.AdamW passes them to its kernels.
type AdamWParams struct {
	Decay      float32 // 1 - lr·weight_decay
	Beta1      float32 // β₁
	OneMinusB1 float32 // 1 - β₁
	Beta2      float32 // β₂
	OneMinusB2 float32 // 1 - β₂
	NegStep    float32 // -lr / (1 - β₁ᵗ)
	BC2Sqrt    float32 // √(1 - β₂ᵗ)
	Eps        float32 // ε
}

// AdamW applies one AdamW step (decoupled weight decay, bias correction) to the
// weights w with gradient g and moment buffers m (first) and v (second):
//
//	w[i] *= Decay
//	m[i] = Beta1*m[i] + OneMinusB1*g[i]
//	v[i] = Beta2*v[i] + OneMinusB2*g[i]*g[i]
//	w[i] += NegStep * m[i] / (sqrt(v[i])/BC2Sqrt + Eps)
//
// g, m and v must be at least as long as w.
func AdamW(w, g, m, v []float32, p AdamWParams) {
	checkVecLen("AdamW", "g", len(w), len(g))
	checkVecLen("AdamW", "m", len(w), len(m))
	checkVecLen("AdamW", "v", len(w), len(v))
	raceReadVec(g[:len(w)])
	raceWriteVec(w)
	raceWriteVec(m[:len(w)])
	raceWriteVec(v[:len(w)])
	for len(w) > 0 {
		n := min(len(w), vecChunk)
		adamWImpl(w[:n], g[:n], m[:n], v[:n], p.Decay, p.Beta1, p.OneMinusB1, p.Beta2, p.OneMinusB2, p.NegStep, p.BC2Sqrt, p.Eps)
		w, g, m, v = w[n:], g[n:], m[n:], v[n:]
	}
}

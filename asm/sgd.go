package asm

// Kernel variables of the SGD family, pointed at one ISA path by setKernels.
var (
	sgdImpl         = sgdGeneric
	sgdMomentumImpl = sgdMomentumGeneric
	sgdNesterovImpl = sgdNesterovGeneric
)

// SGD applies one plain SGD step (no momentum) with L2 weight decay, as
// torch.optim.SGD does:
//
//	d := g[i] + wd*w[i]
//	w[i] -= lr * d
//
// It takes negLR = -lr. g must be at least as long as w.
func SGD(w, g []float32, negLR, wd float32) {
	checkVecLen("SGD", "g", len(w), len(g))
	raceReadVec(g[:len(w)])
	raceWriteVec(w)
	for len(w) > 0 {
		n := min(len(w), vecChunk)
		sgdImpl(w[:n], g[:n], negLR, wd)
		w, g = w[n:], g[n:]
	}
}

// SGDMomentum applies one SGD step with momentum buffer v, as torch.optim.SGD does
// (c = 1 - dampening; pass c = 1 on a parameter's first step with v zeroed to get
// torch's v₁ = d):
//
//	d := g[i] + wd*w[i]
//	v[i] = mu*v[i] + c*d
//	w[i] -= lr * v[i]
//
// It takes negLR = -lr. g and v must be at least as long as w.
func SGDMomentum(w, g, v []float32, negLR, wd, mu, c float32) {
	checkVecLen("SGDMomentum", "g", len(w), len(g))
	checkVecLen("SGDMomentum", "v", len(w), len(v))
	raceReadVec(g[:len(w)])
	raceWriteVec(w)
	raceWriteVec(v[:len(w)])
	for len(w) > 0 {
		n := min(len(w), vecChunk)
		sgdMomentumImpl(w[:n], g[:n], v[:n], negLR, wd, mu, c)
		w, g, v = w[n:], g[n:], v[n:]
	}
}

// SGDNesterov is SGDMomentum with Nesterov's look-ahead:
//
//	d := g[i] + wd*w[i]
//	v[i] = mu*v[i] + c*d
//	w[i] -= lr * (d + mu*v[i])
func SGDNesterov(w, g, v []float32, negLR, wd, mu, c float32) {
	checkVecLen("SGDNesterov", "g", len(w), len(g))
	checkVecLen("SGDNesterov", "v", len(w), len(v))
	raceReadVec(g[:len(w)])
	raceWriteVec(w)
	raceWriteVec(v[:len(w)])
	for len(w) > 0 {
		n := min(len(w), vecChunk)
		sgdNesterovImpl(w[:n], g[:n], v[:n], negLR, wd, mu, c)
		w, g, v = w[n:], g[n:], v[n:]
	}
}

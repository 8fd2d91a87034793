//go:build amd64 && gc && !noasm && !purego

package asm

// sgdAVX512 and sgdAVX2 compute, with len(g) == len(w), in the operation order of
// torch.optim.SGD's CPU kernels (add with alpha is a fused multiply-add):
//
//	for i, x := range w {
//		d := g[i] + wd*x  // fused
//		w[i] = x + negLR*d // fused
//	}
//
//go:noescape
func sgdAVX512(w, g []float32, negLR, wd float32)

//go:noescape
func sgdAVX2(w, g []float32, negLR, wd float32)

// sgdMomentumAVX512 and sgdMomentumAVX2 compute, with len(g) == len(v) == len(w):
//
//	for i, x := range w {
//		d := g[i] + wd*x    // fused
//		m := mu * v[i]      // rounded (torch: buf.mul_(momentum))
//		m = m + c*d         // fused   (torch: .add_(d_p, alpha=1-dampening))
//		v[i] = m
//		w[i] = x + negLR*m  // fused
//	}
//
//go:noescape
func sgdMomentumAVX512(w, g, v []float32, negLR, wd, mu, c float32)

//go:noescape
func sgdMomentumAVX2(w, g, v []float32, negLR, wd, mu, c float32)

// sgdNesterovAVX512 and sgdNesterovAVX2 compute, with len(g) == len(v) == len(w):
//
//	for i, x := range w {
//		d := g[i] + wd*x    // fused
//		m := mu*v[i]        // rounded
//		m = m + c*d         // fused
//		v[i] = m
//		u := d + mu*m       // fused (torch: d_p.add(buf, alpha=momentum))
//		w[i] = x + negLR*u  // fused
//	}
//
//go:noescape
func sgdNesterovAVX512(w, g, v []float32, negLR, wd, mu, c float32)

//go:noescape
func sgdNesterovAVX2(w, g, v []float32, negLR, wd, mu, c float32)

var _ = registerKernels(func(isa ISA) {
	switch isa {
	case AVX512:
		sgdImpl, sgdMomentumImpl, sgdNesterovImpl = sgdAVX512, sgdMomentumAVX512, sgdNesterovAVX512
	case AVX2:
		sgdImpl, sgdMomentumImpl, sgdNesterovImpl = sgdAVX2, sgdMomentumAVX2, sgdNesterovAVX2
	default:
		sgdImpl, sgdMomentumImpl, sgdNesterovImpl = sgdGeneric, sgdMomentumGeneric, sgdNesterovGeneric
	}
})

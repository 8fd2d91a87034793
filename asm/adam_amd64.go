//go:build amd64 && gc && !noasm && !purego

package asm

// adamWAVX512 and adamWAVX2 compute, with g, m and v as long as w, in the operation
// order of torch.optim.AdamW's single-tensor path:
//
//	for i, x := range w {
//		x *= decay                          // param.mul_(1 - lr*wd)
//		mi := b1 * m[i]                     // exp_avg.mul_(beta1)
//		mi = mi + c1*g[i]                   // .add_(grad, alpha=1-beta1), fused
//		vi := b2 * v[i]                     // exp_avg_sq.mul_(beta2)
//		vi = vi + (c2*g[i])*g[i]            // .addcmul_(grad, grad, value=1-beta2), fused
//		m[i], v[i] = mi, vi
//		denom := sqrt(vi)/bc2Sqrt + eps     // (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
//		w[i] = x + (negStep*mi)/denom       // param.addcdiv_(exp_avg, denom, value=-step_size)
//	}
//
//go:noescape
func adamWAVX512(w, g, m, v []float32, decay, b1, c1, b2, c2, negStep, bc2Sqrt, eps float32)

//go:noescape
func adamWAVX2(w, g, m, v []float32, decay, b1, c1, b2, c2, negStep, bc2Sqrt, eps float32)

var _ = registerKernels(func(isa ISA) {
	switch isa {
	case AVX512:
		adamWImpl = adamWAVX512
	case AVX2:
		adamWImpl = adamWAVX2
	default:
		adamWImpl = adamWGeneric
	}
})

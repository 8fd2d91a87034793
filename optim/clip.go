package optim

import (
	"fmt"
	"math"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/layers"
)

// ClipGradNorm scales the gradients of params in place so that their global L2
// norm (all gradients viewed as one vector) is at most maxNorm, and returns the
// norm before clipping, with torch.nn.utils.clip_grad_norm_'s semantics: the factor
// is maxNorm/(norm+1e-6), computed in float32, applied only when below 1. A NaN
// norm makes every gradient NaN and an infinite one zeroes them, as in torch; check
// the returned norm to skip such steps. Parameters without a gradient are ignored.
//
// MindSpore's clip_by_global_norm (MindCV's clip_grad, clip_value 15) scales by
// maxNorm/max(norm, maxNorm), without the 1e-6; the results differ by ≤ 1e-6
// relative. MindCV clips each micro-batch's gradients before accumulating them.
func ClipGradNorm(params []*layers.Param, maxNorm float64) (float64, error) {
	if !(maxNorm >= 0) {
		return 0, fmt.Errorf("optim: ClipGradNorm: max norm %g is not a non-negative number", maxNorm)
	}
	norm := GradNorm(params)
	coef := float32(maxNorm) / (float32(norm) + 1e-6)
	if !(coef >= 1) { // also NaN
		for _, p := range params {
			if p != nil && p.Grad != nil {
				asm.Scale(coef, p.Grad.Data())
			}
		}
	}
	return norm, nil
}

// GradNorm returns the global L2 norm of the gradients of params, accumulated in
// float64. Parameters without a gradient are ignored.
func GradNorm(params []*layers.Param) float64 {
	var s float64
	for _, p := range params {
		if p != nil && p.Grad != nil {
			s += asm.SumSquares(p.Grad.Data())
		}
	}
	return math.Sqrt(s)
}

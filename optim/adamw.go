package optim

import (
	"fmt"
	"math"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/layers"
)

// AdamW is Adam with decoupled weight decay, with torch.optim.AdamW's semantics
// (amsgrad off): bias-corrected moments and ε added after the square root.
// MindCV's AdamW (mindcv/optim/adamw.py) is the same update written as
// w -= lr·(wd·w + m̂/(ε+√v̂)), equal up to rounding, with its moments named
// adam_m/adam_v as here. The bias-correction step t counts this optimizer's
// updates; torch counts per parameter, which differs only for parameters that
// sometimes have no gradient.
type AdamW struct {
	base
	beta1, beta2, eps float64
	m, v              []*layers.Param

	// per-step scalars read by the sweep; decay differs per parameter
	lr float64
	k  asm.AdamWParams
}

var _ Optimizer = (*AdamW)(nil)

// NewAdamW returns an AdamW optimizer over params. Defaults are torch's: lr 1e-3,
// betas (0.9, 0.999), eps 1e-8, weight decay 1e-2.
func NewAdamW(params []*layers.Param, opts ...Option) (*AdamW, error) {
	c := config{sched: Constant(1e-3), wd: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8}
	for _, o := range opts {
		o(&c)
	}
	if len(c.sgdOnly) > 0 {
		return nil, fmt.Errorf("optim: %s applies to SGD, not AdamW", c.sgdOnly[0])
	}
	for _, b := range []float64{c.beta1, c.beta2} {
		if !(b >= 0 && b < 1) {
			return nil, fmt.Errorf("optim: AdamW beta %g is outside [0, 1)", b)
		}
	}
	if !(c.eps >= 0) || math.IsInf(c.eps, 0) {
		return nil, fmt.Errorf("optim: AdamW eps %g is not a finite non-negative number", c.eps)
	}
	o := &AdamW{beta1: c.beta1, beta2: c.beta2, eps: c.eps}
	if err := o.init("AdamW", params, &c, o.updateRange); err != nil {
		return nil, err
	}
	o.m = newBuffers("adam_m", params)
	o.v = newBuffers("adam_v", params)
	return o, nil
}

// Step applies one AdamW update; see Optimizer.
func (o *AdamW) Step() error {
	lr, err := o.prepare()
	if err != nil {
		return err
	}
	t := float64(o.updates + 1)
	bc1 := 1 - math.Pow(o.beta1, t)
	bc2 := 1 - math.Pow(o.beta2, t)
	o.lr = lr
	o.k = asm.AdamWParams{
		Beta1: float32(o.beta1), OneMinusB1: float32(1 - o.beta1),
		Beta2: float32(o.beta2), OneMinusB2: float32(1 - o.beta2),
		NegStep: float32(-(lr / bc1)), BC2Sqrt: float32(math.Sqrt(bc2)), Eps: float32(o.eps),
	}
	o.sweep()
	o.finish()
	return nil
}

func (o *AdamW) updateRange(i, lo, hi int) {
	p := o.params[i]
	k := o.k
	k.Decay = float32(1 - o.lr*o.wd[i])
	asm.AdamW(p.Value.Data()[lo:hi], p.Grad.Data()[lo:hi], o.m[i].Value.Data()[lo:hi], o.v[i].Value.Data()[lo:hi], k)
}

// State returns the step counts and the moments ("adam_m.<param>", "adam_v.<param>").
func (o *AdamW) State() State {
	t := make([]*layers.Param, 0, 2*len(o.params))
	t = append(append(t, o.m...), o.v...)
	return State{Step: o.step, Updates: o.updates, Tensors: t}
}

// LoadState restores a state saved by State.
func (o *AdamW) LoadState(s State) error {
	if err := loadBuffers("AdamW", s, o.m, o.v); err != nil {
		return err
	}
	o.step, o.updates = s.Step, s.Updates
	return nil
}

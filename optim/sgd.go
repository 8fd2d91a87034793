package optim

import (
	"fmt"
	"math"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/layers"
)

// SGD is stochastic gradient descent with optional momentum, dampening, Nesterov
// momentum and L2 weight decay, with torch.optim.SGD's semantics (see the package
// documentation).
type SGD struct {
	base
	momentum, dampening float64
	nesterov            bool
	moments             []*layers.Param // nil without momentum
	started             []bool          // the parameter's momentum buffer holds a value

	// per-step scalars read by the sweep
	negLR, mu, c float32
}

var _ Optimizer = (*SGD)(nil)

// NewSGD returns an SGD optimizer over params. A learning rate (WithLR or
// WithSchedule) is required; momentum, dampening and weight decay default to 0.
func NewSGD(params []*layers.Param, opts ...Option) (*SGD, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if len(c.adamOnly) > 0 {
		return nil, fmt.Errorf("optim: %s applies to AdamW, not SGD", c.adamOnly[0])
	}
	switch {
	case !(c.momentum >= 0) || math.IsInf(c.momentum, 0):
		return nil, fmt.Errorf("optim: SGD momentum %g is not a finite non-negative number", c.momentum)
	case !(c.dampening >= 0 && c.dampening <= 1):
		return nil, fmt.Errorf("optim: SGD dampening %g is outside [0, 1]", c.dampening)
	case c.nesterov && (c.momentum == 0 || c.dampening != 0):
		return nil, fmt.Errorf("optim: Nesterov momentum needs a momentum > 0 and zero dampening (have momentum %g, dampening %g)", c.momentum, c.dampening)
	}
	o := &SGD{momentum: c.momentum, dampening: c.dampening, nesterov: c.nesterov}
	if err := o.init("SGD", params, &c, o.updateRange); err != nil {
		return nil, err
	}
	if o.momentum != 0 {
		o.moments = newBuffers("moments", params)
		o.started = make([]bool, len(params))
	}
	return o, nil
}

// Step applies one SGD update; see Optimizer.
func (o *SGD) Step() error {
	lr, err := o.prepare()
	if err != nil {
		return err
	}
	o.negLR, o.mu, o.c = float32(-lr), float32(o.momentum), float32(1-o.dampening)
	o.sweep()
	for i, p := range o.params {
		if p.Grad != nil && o.started != nil {
			o.started[i] = true
		}
	}
	o.finish()
	return nil
}

func (o *SGD) updateRange(i, lo, hi int) {
	p := o.params[i]
	w, g := p.Value.Data()[lo:hi], p.Grad.Data()[lo:hi]
	if o.moments == nil {
		asm.SGD(w, g, o.negLR, float32(o.wd[i]))
		return
	}
	v := o.moments[i].Value.Data()[lo:hi]
	c := o.c
	if !o.started[i] {
		c = 1 // torch starts the buffer at d; v is still zero, so μ·0 + 1·d = d
	}
	if o.nesterov {
		asm.SGDNesterov(w, g, v, o.negLR, float32(o.wd[i]), o.mu, c)
	} else {
		asm.SGDMomentum(w, g, v, o.negLR, float32(o.wd[i]), o.mu, c)
	}
}

// State returns the step counts and the momentum buffers ("moments.<param>").
func (o *SGD) State() State {
	return State{Step: o.step, Updates: o.updates, Tensors: o.moments}
}

// LoadState restores a state saved by State.
func (o *SGD) LoadState(s State) error {
	if err := loadBuffers("SGD", s, o.moments); err != nil {
		return err
	}
	o.step, o.updates = s.Step, s.Updates
	for i := range o.started {
		o.started[i] = s.Updates > 0
	}
	return nil
}

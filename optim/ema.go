package optim

import (
	"fmt"
	"math"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/layers"
)

// EMA keeps an exponential moving average of parameter values, as MindCV's
// TrainStep does when ema is on: after update t (counted from 1),
//
//	d = decay·(1 - exp(-t/warmup))     (warmup 2000 by default; 0 means d = decay)
//	ema = d·ema + (1-d)·w
//
// The average starts as a copy of the values. MindCV averages every network
// parameter, BatchNorm's moving statistics included, so pass Params and Buffers.
// MindCV updates the EMA after every micro-batch, also when gradient accumulation
// skips the optimizer update.
type EMA struct {
	params   []*layers.Param
	shadow   []*layers.Param // "ema.<param>"
	decay    float64
	warmup   float64
	updates  int
	onChange func()

	alpha, beta float32 // per-update factors read by the sweep
	cur         int
	bound       func(lo, hi int)
}

// EMAOption configures NewEMA.
type EMAOption func(*EMA)

// EMAWarmup sets the warm-up time constant in updates (MindCV: 2000); 0 turns the
// warm-up off.
func EMAWarmup(updates float64) EMAOption { return func(e *EMA) { e.warmup = updates } }

// EMAOnSwap registers a function called after Swap and LoadState change parameter
// values, typically the model's ParamsChanged.
func EMAOnSwap(fn func()) EMAOption { return func(e *EMA) { e.onChange = fn } }

// NewEMA returns an EMA of params with the given decay (MindCV's ema_decay, 0.9999).
func NewEMA(params []*layers.Param, decay float64, opts ...EMAOption) (*EMA, error) {
	e := &EMA{params: params, decay: decay, warmup: 2000}
	for _, o := range opts {
		o(e)
	}
	if !(decay >= 0 && decay <= 1) {
		return nil, fmt.Errorf("optim: EMA decay %g is outside [0, 1]", decay)
	}
	if !(e.warmup >= 0) || math.IsInf(e.warmup, 0) {
		return nil, fmt.Errorf("optim: EMA warm-up %g is not a finite non-negative number", e.warmup)
	}
	if err := checkParams("EMA", params); err != nil {
		return nil, err
	}
	e.shadow = make([]*layers.Param, len(params))
	for i, p := range params {
		e.shadow[i] = &layers.Param{Name: "ema." + p.Name, Value: p.Value.Clone()}
	}
	e.bound = e.updateRange
	return e, nil
}

// Decay returns the factor d that update t (counted from 1) uses.
func (e *EMA) Decay(t int) float64 {
	if e.warmup == 0 {
		return e.decay
	}
	return e.decay * (1 - math.Exp(-float64(t)/e.warmup))
}

// Update folds the current parameter values into the average.
func (e *EMA) Update() {
	e.updates++
	d := e.Decay(e.updates)
	e.alpha, e.beta = float32(1-d), float32(d)
	for i, p := range e.params {
		e.cur = i
		asm.ParallelFor(p.Value.Len(), grain, e.bound)
	}
}

func (e *EMA) updateRange(lo, hi int) {
	asm.Axpby(e.alpha, e.params[e.cur].Value.Data()[lo:hi], e.beta, e.shadow[e.cur].Value.Data()[lo:hi])
}

// Updates returns the number of updates so far.
func (e *EMA) Updates() int { return e.updates }

// Averages returns the averaged tensors, named "ema.<param>" like MindSpore's, in
// the order of the parameters. They alias the EMA's storage.
func (e *EMA) Averages() []*layers.Param { return e.shadow }

// Swap exchanges the parameter values with their averages: call it before
// evaluating with the averaged weights and again afterwards to continue training.
func (e *EMA) Swap() {
	for i, p := range e.params {
		a, b := p.Value.Data(), e.shadow[i].Value.Data()
		for j := range a {
			a[j], b[j] = b[j], a[j]
		}
	}
	if e.onChange != nil {
		e.onChange()
	}
}

// State returns the update count (Step and Updates) and the averages.
func (e *EMA) State() State {
	return State{Step: e.updates, Updates: e.updates, Tensors: e.shadow}
}

// LoadState restores a state returned by State.
func (e *EMA) LoadState(s State) error {
	if err := loadBuffers("EMA", s, e.shadow); err != nil {
		return err
	}
	e.updates = s.Updates
	return nil
}

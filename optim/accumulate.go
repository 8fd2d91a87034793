package optim

import (
	"fmt"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/tensor"
)

// Reduction says how an Accumulator combines micro-batch gradients.
type Reduction int

const (
	// Mean averages the k gradients (MindCV's gradient_accumulation_steps: each
	// micro-batch adds grad/k).
	Mean Reduction = iota
	// Sum adds them.
	Sum
)

// Accumulator sums the gradients of k micro-batches before an optimizer step, for
// a large effective batch in little memory. Layers overwrite Param.Grad on every
// Backward, so the running sum lives in the accumulator:
//
//	for each micro-batch {
//		forward, backward
//		ready, err := acc.Add()
//		if ready { opt.Step() } else { opt.SkipStep() }
//	}
//
// SkipStep keeps MindCV's behaviour, whose learning rate advances every
// micro-batch (the schedule counts micro-batches); call nothing instead to count
// updates. MindCV clips each micro-batch's gradients before adding them. Mean
// multiplies by 1/k where MindSpore divides by k: the same for k a power of two,
// within an ulp otherwise.
type Accumulator struct {
	params []*layers.Param
	acc    []*layers.Param // "grad_accumulation.<param>"
	k      int
	count  int
	scale  float32 // 1/k for Mean, 1 for Sum
}

// NewAccumulator returns an accumulator over k ≥ 1 micro-batches.
func NewAccumulator(params []*layers.Param, k int, r Reduction) (*Accumulator, error) {
	if k < 1 {
		return nil, fmt.Errorf("optim: gradient accumulation over %d micro-batches (want ≥ 1)", k)
	}
	if r != Mean && r != Sum {
		return nil, fmt.Errorf("optim: unknown reduction %d", r)
	}
	if err := checkParams("Accumulator", params); err != nil {
		return nil, err
	}
	a := &Accumulator{params: params, k: k, scale: 1}
	if r == Mean {
		a.scale = 1 / float32(k)
	}
	if k > 1 {
		a.acc = newAccBuffers(params)
	}
	return a, nil
}

// Add folds the current gradients into the running sum. After the k-th call it
// writes the combined gradient into every Param.Grad, clears the sum and returns
// true: the gradients are then ready for the optimizer. Parameters without a
// gradient are skipped.
func (a *Accumulator) Add() (ready bool, err error) {
	for _, p := range a.params {
		if p.Grad != nil && p.Grad.Len() != p.Value.Len() {
			return false, fmt.Errorf("optim: Accumulator: %s: gradient has %d elements, value has %d", p.Name, p.Grad.Len(), p.Value.Len())
		}
	}
	a.count++
	last := a.count == a.k
	for i, p := range a.params {
		if p.Grad == nil {
			continue
		}
		g := p.Grad.Data()
		switch {
		case a.k == 1:
		case last:
			acc := a.acc[i].Value.Data()
			asm.Axpby(1, acc, a.scale, g) // g = sum + scale·g
			clear(acc)
		default:
			asm.Axpy(a.scale, g, a.acc[i].Value.Data())
		}
	}
	if last {
		a.count = 0
	}
	return last, nil
}

// Pending returns the number of micro-batches in the running sum.
func (a *Accumulator) Pending() int { return a.count }

// State returns the pending count (Step) and the running sums
// ("grad_accumulation.<param>", none when k is 1).
func (a *Accumulator) State() State {
	return State{Step: a.count, Updates: a.count, Tensors: a.acc}
}

// LoadState restores a state returned by State.
func (a *Accumulator) LoadState(s State) error {
	if s.Step >= a.k {
		return fmt.Errorf("%w: Accumulator: %d pending micro-batches, k is %d", ErrStateMismatch, s.Step, a.k)
	}
	if err := loadBuffers("Accumulator", s, a.acc); err != nil {
		return err
	}
	a.count = s.Step
	return nil
}

// newAccBuffers makes zeroed accumulation buffers.
func newAccBuffers(params []*layers.Param) []*layers.Param {
	b := make([]*layers.Param, len(params))
	for i, p := range params {
		b[i] = &layers.Param{Name: "grad_accumulation." + p.Name, Value: tensor.New(p.Value.Shape()...)}
	}
	return b
}

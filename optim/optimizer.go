package optim

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/tensor"
)

// Optimizer updates parameters from their gradients. It splits each update over
// the asm worker pool itself; it is not safe for concurrent use.
type Optimizer interface {
	// Step applies one update with the learning rate of the current step, using every
	// parameter's Grad (parameters whose Grad is nil are skipped, as in torch), then
	// advances the step count. On error nothing has been changed.
	Step() error
	// SkipStep advances the learning-rate schedule without updating: MindCV does this
	// on the micro-batches of gradient accumulation that do not end a cycle.
	SkipStep()
	// LR returns the learning rate the next Step will use.
	LR() float64
	// StepCount returns the number of schedule steps taken (Step and SkipStep calls),
	// MindSpore's global_step.
	StepCount() int
	// State returns the optimizer state for a checkpoint. Its tensors alias the
	// optimizer's buffers: write them out before the next Step.
	State() State
	// LoadState restores a state returned by State (possibly from another process),
	// so that training resumes exactly.
	LoadState(s State) error
}

// State is an optimizer's resumable state.
type State struct {
	// Step is the number of schedule steps taken (MindSpore's global_step).
	Step int
	// Updates is the number of parameter updates applied, which drives AdamW's bias
	// correction; it equals Step unless SkipStep was used.
	Updates int
	// Tensors holds the per-parameter buffers, named after MindSpore's optimizer
	// parameters: "moments.<param>" for SGD momentum, "adam_m.<param>" and
	// "adam_v.<param>" for AdamW.
	Tensors []*layers.Param
}

// DecayFilter selects the parameters that weight decay applies to, as MindCV's
// weight_decay_filter does.
type DecayFilter int

const (
	// FilterDisable decays every parameter ("disable"; MindCV's VGG recipe).
	FilterDisable DecayFilter = iota
	// FilterAuto decays all but normalization parameters ("auto": MindSpore's
	// default filter).
	FilterAuto
	// FilterNormAndBias decays all but normalization parameters and biases
	// ("norm_and_bias").
	FilterNormAndBias
)

func (f DecayFilter) String() string {
	switch f {
	case FilterDisable:
		return "disable"
	case FilterAuto:
		return "auto"
	case FilterNormAndBias:
		return "norm_and_bias"
	}
	return fmt.Sprintf("DecayFilter(%d)", int(f))
}

// ParseDecayFilter maps MindCV's names "disable", "auto" and "norm_and_bias".
func ParseDecayFilter(s string) (DecayFilter, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "disable", "":
		return FilterDisable, nil
	case "auto":
		return FilterAuto, nil
	case "norm_and_bias":
		return FilterNormAndBias, nil
	}
	return FilterDisable, fmt.Errorf("optim: unknown weight-decay filter %q (want disable, auto or norm_and_bias)", s)
}

// Option configures NewSGD and NewAdamW.
type Option func(*config)

type config struct {
	sched    Schedule
	wd       float64
	wdSet    bool
	filter   DecayFilter
	isNorm   func(name string) bool
	onChange func()

	momentum, dampening float64
	nesterov            bool
	beta1, beta2, eps   float64

	sgdOnly, adamOnly []string // options given that only one optimizer accepts
}

// WithLR sets a constant learning rate.
func WithLR(lr float64) Option { return func(c *config) { c.sched = Constant(lr) } }

// WithSchedule sets a learning-rate schedule, evaluated at each step.
func WithSchedule(s Schedule) Option { return func(c *config) { c.sched = s } }

// WithWeightDecay sets the weight-decay coefficient (SGD: L2 added to the
// gradient; AdamW: decoupled). Defaults: 0 for SGD, 1e-2 for AdamW (torch's).
func WithWeightDecay(wd float64) Option { return func(c *config) { c.wd, c.wdSet = wd, true } }

// WithDecayFilter chooses which parameters are decayed (default FilterDisable).
func WithDecayFilter(f DecayFilter) Option { return func(c *config) { c.filter = f } }

// WithNormParams tells the decay filters which parameters belong to normalization
// layers, by full name (the vgg package knows which are BatchNorm2d's).
func WithNormParams(isNorm func(name string) bool) Option {
	return func(c *config) { c.isNorm = isNorm }
}

// WithParamsChanged registers a function called after every Step that changed the
// parameters, typically the model's ParamsChanged.
func WithParamsChanged(fn func()) Option { return func(c *config) { c.onChange = fn } }

// WithMomentum sets SGD's momentum factor μ (default 0: plain SGD).
func WithMomentum(mu float64) Option {
	return func(c *config) { c.momentum = mu; c.sgdOnly = append(c.sgdOnly, "WithMomentum") }
}

// WithDampening sets SGD's dampening of the momentum (default 0).
func WithDampening(d float64) Option {
	return func(c *config) { c.dampening = d; c.sgdOnly = append(c.sgdOnly, "WithDampening") }
}

// WithNesterov enables Nesterov momentum for SGD.
func WithNesterov(on bool) Option {
	return func(c *config) { c.nesterov = on; c.sgdOnly = append(c.sgdOnly, "WithNesterov") }
}

// WithBetas sets AdamW's β₁ and β₂ (default 0.9, 0.999).
func WithBetas(beta1, beta2 float64) Option {
	return func(c *config) { c.beta1, c.beta2 = beta1, beta2; c.adamOnly = append(c.adamOnly, "WithBetas") }
}

// WithEps sets AdamW's ε (default 1e-8).
func WithEps(eps float64) Option {
	return func(c *config) { c.eps = eps; c.adamOnly = append(c.adamOnly, "WithEps") }
}

// normName reports MindSpore's normalization parameter names.
func normName(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	return last == "gamma" || last == "beta"
}

// decays reports whether filter f applies weight decay to p.
func decays(f DecayFilter, p *layers.Param, isNorm func(string) bool) bool {
	norm := normName(p.Name) || (isNorm != nil && isNorm(p.Name))
	switch f {
	case FilterAuto:
		return !norm
	case FilterNormAndBias:
		return !norm && p.Value.Rank() != 1 && !strings.HasSuffix(p.Name, "bias")
	}
	return true
}

// grain is the number of elements below which an update runs on the calling
// goroutine: about 100 µs of a memory-bound update.
const grain = 1 << 16

// base holds what SGD and AdamW share: the parameters, the schedule, the decay
// mask, the counters and the allocation-free parallel sweep.
type base struct {
	kind     string
	params   []*layers.Param
	wd       []float64 // per parameter, 0 where the filter exempts it
	sched    Schedule
	step     int
	updates  int
	onChange func()

	// The sweep runs update(cur, lo, hi) over one parameter's elements. bound is
	// made once, so handing it to the worker pool allocates nothing.
	cur    int
	update func(i, lo, hi int)
	bound  func(lo, hi int)
}

func (b *base) init(kind string, params []*layers.Param, c *config, update func(i, lo, hi int)) error {
	b.kind, b.sched, b.onChange, b.update = kind, c.sched, c.onChange, update
	if c.sched == nil {
		return fmt.Errorf("optim: %s needs a learning rate (WithLR or WithSchedule)", kind)
	}
	if lr := c.sched.LR(0); !(lr >= 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("optim: %s: learning rate %g is not a finite non-negative number", kind, lr)
	}
	if !(c.wd >= 0) || math.IsInf(c.wd, 0) {
		return fmt.Errorf("optim: %s weight decay %g is not a finite non-negative number", kind, c.wd)
	}
	if c.filter < FilterDisable || c.filter > FilterNormAndBias {
		return fmt.Errorf("optim: %s: unknown weight-decay filter %v", kind, c.filter)
	}
	if err := checkParams(kind, params); err != nil {
		return err
	}
	b.params = params
	b.wd = make([]float64, len(params))
	for i, p := range params {
		if decays(c.filter, p, c.isNorm) {
			b.wd[i] = c.wd
		}
	}
	b.bound = b.run
	return nil
}

// checkParams rejects nil parameters and duplicate names, which would make the
// optimizer state ambiguous.
func checkParams(kind string, params []*layers.Param) error {
	seen := make(map[string]bool, len(params))
	for i, p := range params {
		if p == nil || p.Value == nil {
			return fmt.Errorf("optim: %s: parameter %d is nil or has no value", kind, i)
		}
		if seen[p.Name] {
			return fmt.Errorf("optim: %s: parameter name %q appears twice", kind, p.Name)
		}
		seen[p.Name] = true
	}
	return nil
}

func (b *base) run(lo, hi int) { b.update(b.cur, lo, hi) }

// sweep applies the update to every parameter that has a gradient.
func (b *base) sweep() {
	for i, p := range b.params {
		if p.Grad == nil {
			continue
		}
		b.cur = i
		asm.ParallelFor(p.Value.Len(), grain, b.bound)
	}
}

// prepare validates the gradients and the learning rate before anything is changed.
func (b *base) prepare() (float64, error) {
	for _, p := range b.params {
		if p.Grad != nil && p.Grad.Len() != p.Value.Len() {
			return 0, fmt.Errorf("optim: %s: %s: gradient has %d elements, value has %d (shape %v)", b.kind, p.Name, p.Grad.Len(), p.Value.Len(), p.Value.Shape())
		}
	}
	lr := b.sched.LR(b.step)
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return 0, fmt.Errorf("optim: %s: the schedule gives learning rate %g at step %d", b.kind, lr, b.step)
	}
	return lr, nil
}

func (b *base) finish() {
	b.step++
	b.updates++
	if b.onChange != nil {
		b.onChange()
	}
}

// SkipStep advances the schedule without changing the parameters.
func (b *base) SkipStep() { b.step++ }

// LR returns the learning rate of the next Step.
func (b *base) LR() float64 { return b.sched.LR(b.step) }

// StepCount returns the number of schedule steps taken.
func (b *base) StepCount() int { return b.step }

// Decays reports whether weight decay applies to the named parameter.
func (b *base) Decays(name string) bool {
	for i, p := range b.params {
		if p.Name == name {
			return b.wd[i] != 0
		}
	}
	return false
}

// newBuffers makes one zeroed buffer per parameter, named prefix.<param>.
func newBuffers(prefix string, params []*layers.Param) []*layers.Param {
	bufs := make([]*layers.Param, len(params))
	for i, p := range params {
		bufs[i] = &layers.Param{Name: prefix + "." + p.Name, Value: tensor.New(p.Value.Shape()...)}
	}
	return bufs
}

// ErrStateMismatch is wrapped by the errors of LoadState when a state does not fit
// the optimizer (missing, extra or mis-sized tensors, bad counts).
var ErrStateMismatch = errors.New("optim: state does not match")

// loadBuffers copies the tensors of s named like dst into dst. Every buffer must be
// present with the right size, and s may hold nothing else.
func loadBuffers(kind string, s State, dst ...[]*layers.Param) error {
	if s.Step < 0 || s.Updates < 0 || s.Updates > s.Step {
		return fmt.Errorf("%w: %s: step %d, updates %d", ErrStateMismatch, kind, s.Step, s.Updates)
	}
	byName := make(map[string]*layers.Param, len(s.Tensors))
	for _, t := range s.Tensors {
		if t == nil || t.Value == nil {
			return fmt.Errorf("%w: %s: nil tensor in state", ErrStateMismatch, kind)
		}
		byName[t.Name] = t
	}
	want := 0
	for _, bufs := range dst {
		want += len(bufs)
		for _, b := range bufs {
			t, ok := byName[b.Name]
			if !ok {
				return fmt.Errorf("%w: %s: %s is missing", ErrStateMismatch, kind, b.Name)
			}
			if t.Value.Len() != b.Value.Len() {
				return fmt.Errorf("%w: %s: %s has %d elements (shape %v), want %d (shape %v)", ErrStateMismatch, kind, b.Name, t.Value.Len(), t.Value.Shape(), b.Value.Len(), b.Value.Shape())
			}
		}
	}
	if len(byName) != want {
		for name := range byName {
			if !hasName(name, dst...) {
				return fmt.Errorf("%w: %s: unexpected tensor %s", ErrStateMismatch, kind, name)
			}
		}
		return fmt.Errorf("%w: %s: %d tensors, want %d", ErrStateMismatch, kind, len(s.Tensors), want)
	}
	for _, bufs := range dst {
		for _, b := range bufs {
			copy(b.Value.Data(), byName[b.Name].Value.Data())
		}
	}
	return nil
}

func hasName(name string, lists ...[]*layers.Param) bool {
	for _, l := range lists {
		for _, p := range l {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}

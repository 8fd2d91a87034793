package optim

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Schedule gives the learning rate of each optimizer step, counted from 0.
type Schedule interface {
	LR(step int) float64
}

// Constant is a fixed learning rate.
type Constant float64

// LR returns c at every step.
func (c Constant) LR(int) float64 { return float64(c) }

// ScheduleFunc adapts a function to Schedule.
type ScheduleFunc func(step int) float64

// LR returns f(step).
func (f ScheduleFunc) LR(step int) float64 { return f(step) }

// ScaleLR applies the linear scaling rule: the learning rate tuned for baseBatch,
// scaled to globalBatch (e.g. MindCV's 0.01 at 8×32 = 256).
func ScaleLR(lr float64, globalBatch, baseBatch int) float64 {
	return lr * float64(globalBatch) / float64(baseBatch)
}

// ScheduleConfig holds MindCV's create_scheduler arguments (its YAML keys in
// brackets). Epoch counts are whole epochs; the schedule is per step.
type ScheduleConfig struct {
	// Name [scheduler]: "constant", "cosine_decay" or "warmup_cosine_decay" (the
	// same in MindCV), "exponential_decay", "polynomial_decay", "step_decay",
	// "multi_step_decay".
	Name string
	// LR [lr] is the peak learning rate; MinLR [min_lr] the floor of the cosine.
	LR, MinLR float64
	// WarmupEpochs [warmup_epochs] of linear warmup from WarmupFactor·LR
	// [warmup_factor] towards LR come first; the main phase starts after them.
	WarmupEpochs int
	WarmupFactor float64
	// DecayEpochs [decay_epochs]: the cosine's length (one cycle), or step_decay's
	// period.
	DecayEpochs int
	// DecayRate [decay_rate]: the factor of exponential, step and multi-step decay,
	// the power of polynomial decay. Required (> 0) by those schedules.
	DecayRate float64
	// Milestones [multi_step_decay_milestones], in epochs of the main phase.
	Milestones []int
	// NumEpochs [epoch_size] and StepsPerEpoch fix the schedule's length.
	NumEpochs, StepsPerEpoch int
	// NumCycles [num_cycles] cosine cycles (0 means 1), each peaking at
	// LR·CycleDecay^cycle [cycle_decay] (0 means 1).
	NumCycles  int
	CycleDecay float64
	// EpochStair [lr_epoch_stair] holds the rate constant within each epoch
	// instead of changing it every step.
	EpochStair bool
}

// StepSchedule is MindCV's per-step learning-rate list in closed form. MindCV
// builds the list as WarmupEpochs·StepsPerEpoch warmup values followed by
// (NumEpochs-WarmupEpochs)·StepsPerEpoch main-phase values; LR(step) returns
// element step of that list, and its last element for steps past the end.
type StepSchedule struct {
	c          ScheduleConfig
	warm, main int // steps in each phase
	milestones []int
}

// NewSchedule checks c and returns its schedule.
func NewSchedule(c ScheduleConfig) (*StepSchedule, error) {
	if c.NumCycles == 0 {
		c.NumCycles = 1
	}
	if c.CycleDecay == 0 {
		c.CycleDecay = 1
	}
	bad := func(field string, v any) error {
		return fmt.Errorf("optim: schedule %q: bad %s %v", c.Name, field, v)
	}
	switch {
	case c.StepsPerEpoch <= 0:
		return nil, bad("StepsPerEpoch", c.StepsPerEpoch)
	case c.NumEpochs <= 0:
		return nil, bad("NumEpochs", c.NumEpochs)
	case !(c.LR >= 0) || math.IsInf(c.LR, 0):
		return nil, bad("LR", c.LR)
	case !(c.MinLR >= 0) || math.IsInf(c.MinLR, 0):
		return nil, bad("MinLR", c.MinLR)
	case c.WarmupEpochs < 0:
		return nil, bad("WarmupEpochs", c.WarmupEpochs)
	case !(c.WarmupFactor >= 0) || math.IsInf(c.WarmupFactor, 0):
		return nil, bad("WarmupFactor", c.WarmupFactor)
	case c.DecayEpochs < 0:
		return nil, bad("DecayEpochs", c.DecayEpochs)
	case c.NumCycles < 0:
		return nil, bad("NumCycles", c.NumCycles)
	}
	switch c.Name {
	case "constant", "cosine_decay", "warmup_cosine_decay":
	case "step_decay":
		if c.DecayEpochs == 0 {
			return nil, bad("DecayEpochs (the step period)", 0)
		}
		fallthrough
	case "exponential_decay", "polynomial_decay", "multi_step_decay":
		if !(c.DecayRate > 0) || math.IsInf(c.DecayRate, 0) {
			return nil, bad("DecayRate", c.DecayRate)
		}
	default:
		return nil, fmt.Errorf("optim: unknown schedule %q (want constant, cosine_decay, warmup_cosine_decay, exponential_decay, polynomial_decay, step_decay or multi_step_decay)", c.Name)
	}
	s := &StepSchedule{c: c, warm: c.WarmupEpochs * c.StepsPerEpoch}
	if m := c.NumEpochs - c.WarmupEpochs; m > 0 {
		s.main = m * c.StepsPerEpoch
	}
	s.milestones = slices.Clone(c.Milestones)
	sort.Ints(s.milestones)
	return s, nil
}

// Len returns the length of MindCV's list: the number of scheduled steps.
func (s *StepSchedule) Len() int { return s.warm + s.main }

// LR returns the learning rate of step (0-based).
func (s *StepSchedule) LR(step int) float64 {
	step = max(0, min(step, s.Len()-1))
	if step < s.warm {
		return s.warmup(step)
	}
	return s.mainLR(step - s.warm)
}

// epochs returns the (fractional, or whole with EpochStair) epochs that i steps span.
func (s *StepSchedule) epochs(i int) float64 {
	if s.c.EpochStair {
		return float64(i / s.c.StepsPerEpoch)
	}
	return float64(i) / float64(s.c.StepsPerEpoch)
}

// warmup is MindCV's linear_refined_lr (linear_lr with EpochStair) from
// WarmupFactor·LR to LR over WarmupEpochs.
func (s *StepSchedule) warmup(i int) float64 {
	w := float64(s.c.WarmupEpochs)
	start := s.c.LR * s.c.WarmupFactor
	return start + math.Min(s.epochs(i), w)/w*(s.c.LR-start)
}

// mainLR is the main phase's value at step i after the warmup.
func (s *StepSchedule) mainLR(i int) float64 {
	c := &s.c
	spe := c.StepsPerEpoch
	switch c.Name {
	case "cosine_decay", "warmup_cosine_decay":
		// cosine_decay_refined_lr: cycles of DecayEpochs, then MinLR to the end.
		cycle := c.DecayEpochs * spe
		if cycle == 0 || i/cycle >= c.NumCycles {
			return c.MinLR
		}
		k := i / cycle
		d := float64(c.DecayEpochs)
		t := math.Min(s.epochs(i%cycle), d)
		delta := 0.5 * (c.LR*math.Pow(c.CycleDecay, float64(k)) - c.MinLR)
		return c.MinLR + delta*(1.0+math.Cos(math.Pi*t/d))
	case "exponential_decay":
		return c.LR * math.Pow(c.DecayRate, s.epochs(i))
	case "polynomial_decay":
		// total_iters is the main phase's epoch count; MinLR is not used (as in MindCV).
		total := float64(s.main / spe)
		return c.LR * math.Pow(1-math.Min(s.epochs(i), total)/total, c.DecayRate)
	case "step_decay":
		return c.LR * math.Pow(c.DecayRate, float64(i/spe/c.DecayEpochs))
	case "multi_step_decay":
		// bisect_right: the number of milestones ≤ the epoch.
		e := i / spe
		n := sort.Search(len(s.milestones), func(j int) bool { return s.milestones[j] > e })
		return c.LR * math.Pow(c.DecayRate, float64(n))
	}
	return c.LR // constant
}

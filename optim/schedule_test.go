package optim_test

import (
	"math"
	"testing"

	"github.com/govgg/govgg/optim"
)

// TestVGG16Recipe checks MindCV's VGG16 schedule (lr 0.01, min 1e-4, 2 warmup and
// 198 cosine epochs of 5004 steps, per step) against the formula written out
// independently: warmup lr·(step/5004)/2, then min + ½(lr−min)(1+cos(π·t/198))
// with t the epochs since the warmup.
func TestVGG16Recipe(t *testing.T) {
	const spe, lr, minLR = 5004, 0.01, 1e-4
	s, err := optim.NewSchedule(optim.ScheduleConfig{
		Name: "warmup_cosine_decay", LR: lr, MinLR: minLR, WarmupEpochs: 2, DecayEpochs: 198,
		NumEpochs: 200, StepsPerEpoch: spe,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := func(step int) float64 {
		if step < 2*spe {
			return lr * (float64(step) / spe) / 2
		}
		t := float64(step-2*spe) / spe
		return minLR + 0.5*(lr-minLR)*(1+math.Cos(math.Pi*t/198))
	}
	for _, step := range []int{0, 1, 5004, 10007, 10008, 500000, 1000799} {
		if got := s.LR(step); math.Abs(got-want(step)) > 1e-15 {
			t.Errorf("LR(%d) = %.17g, want %.17g", step, got, want(step))
		}
	}
	// Spot values: LR 0 at step 0, half of it after one warmup epoch, the peak
	// when the cosine starts.
	for _, c := range []struct {
		step int
		lr   float64
	}{{0, 0}, {5004, 0.005}, {10008, 0.01}} {
		if got := s.LR(c.step); math.Abs(got-c.lr) > 1e-15 {
			t.Errorf("LR(%d) = %.12g, want %.12g", c.step, got, c.lr)
		}
	}
	// The last step is 1/5004 epoch short of the cosine's end: min_lr plus
	// ½(lr−min)(1−cos(π/(198·5004))) ≈ 2.5e-14.
	if got := s.LR(1000799); !(got > minLR && got-minLR < 3e-14) {
		t.Errorf("LR(1000799) = %.17g, want just above %g", got, minLR)
	}
	if s.Len() != 1000800 {
		t.Errorf("Len() = %d, want 200·5004", s.Len())
	}
	if s.LR(2000000) != s.LR(1000799) || s.LR(-5) != 0 {
		t.Error("steps outside the list must clamp to its ends")
	}
}

func TestScheduleErrors(t *testing.T) {
	good := optim.ScheduleConfig{Name: "step_decay", LR: 0.1, DecayEpochs: 30, DecayRate: 0.1, NumEpochs: 90, StepsPerEpoch: 10}
	if _, err := optim.NewSchedule(good); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*optim.ScheduleConfig){
		"unknown name":    func(c *optim.ScheduleConfig) { c.Name = "cosine" },
		"no steps":        func(c *optim.ScheduleConfig) { c.StepsPerEpoch = 0 },
		"no epochs":       func(c *optim.ScheduleConfig) { c.NumEpochs = 0 },
		"negative lr":     func(c *optim.ScheduleConfig) { c.LR = -1 },
		"no decay rate":   func(c *optim.ScheduleConfig) { c.DecayRate = 0 },
		"no step period":  func(c *optim.ScheduleConfig) { c.DecayEpochs = 0 },
		"negative warmup": func(c *optim.ScheduleConfig) { c.WarmupEpochs = -1 },
	} {
		c := good
		mutate(&c)
		if _, err := optim.NewSchedule(c); err == nil {
			t.Errorf("%s: NewSchedule accepted %+v", name, c)
		}
	}
}

func TestScaleLR(t *testing.T) {
	if got := optim.ScaleLR(0.01, 512, 256); got != 0.02 {
		t.Errorf("ScaleLR(0.01, 512, 256) = %g", got)
	}
	if got := optim.Constant(0.3).LR(12345); got != 0.3 {
		t.Errorf("Constant.LR = %g", got)
	}
}

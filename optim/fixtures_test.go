package optim_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/optim"
	"github.com/govgg/govgg/tensor"
)

// fixtures is testdata/optim_fixtures.json, written by testdata/make_fixtures.py
// with PyTorch 1.13.
type fixtures struct {
	Torch  string `json:"torch"`
	Params []struct {
		Name  string    `json:"name"`
		Shape []int     `json:"shape"`
		Norm  bool      `json:"norm"`
		Init  []float32 `json:"init"`
	} `json:"params"`
	Grads []map[string][]float32 `json:"grads"`
	Cases []struct {
		Name   string `json:"name"`
		Opt    string `json:"opt"`
		Kwargs struct {
			LR          float64   `json:"lr"`
			Momentum    float64   `json:"momentum"`
			Dampening   float64   `json:"dampening"`
			Nesterov    bool      `json:"nesterov"`
			WeightDecay *float64  `json:"weight_decay"`
			Betas       []float64 `json:"betas"`
			Eps         *float64  `json:"eps"`
		} `json:"kwargs"`
		Clip   *float64             `json:"clip"`
		LRs    []float64            `json:"lrs"`
		Filter string               `json:"filter"`
		Final  map[string][]float32 `json:"final"`
		State  map[string][]float32 `json:"state"`
		Norms  []float64            `json:"norms"`
	} `json:"cases"`
	Schedules []struct {
		Name         string    `json:"name"`
		LR           float64   `json:"lr"`
		MinLR        float64   `json:"min_lr"`
		WarmupEpochs int       `json:"warmup_epochs"`
		WarmupFactor float64   `json:"warmup_factor"`
		DecayEpochs  int       `json:"decay_epochs"`
		DecayRate    float64   `json:"decay_rate"`
		Milestones   []int     `json:"milestones"`
		NumEpochs    int       `json:"num_epochs"`
		SPE          int       `json:"spe"`
		NumCycles    int       `json:"num_cycles"`
		CycleDecay   float64   `json:"cycle_decay"`
		Stair        bool      `json:"stair"`
		Len          int       `json:"len"`
		Steps        []int     `json:"steps"`
		LRs          []float64 `json:"lrs"`
	} `json:"schedules"`
}

func loadFixtures(t *testing.T) *fixtures {
	t.Helper()
	b, err := os.ReadFile("testdata/optim_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("testdata/optim_fixtures.json: %v", err)
	}
	return &f
}

// fixtureParams builds the fixture's parameters with zeroed gradients.
func fixtureParams(t *testing.T, f *fixtures) ([]*layers.Param, func(string) bool) {
	t.Helper()
	params := make([]*layers.Param, len(f.Params))
	norm := map[string]bool{}
	for i, p := range f.Params {
		v, err := tensor.FromSlice(append([]float32(nil), p.Init...), p.Shape...)
		if err != nil {
			t.Fatal(err)
		}
		params[i] = &layers.Param{Name: p.Name, Value: v, Grad: tensor.New(p.Shape...)}
		norm[p.Name] = p.Norm
	}
	return params, func(name string) bool { return norm[name] }
}

// closeTo reports the first element of got that differs from want by more than
// atol + rtol·|want|, as an error.
func closeTo(what string, got, want []float32, atol, rtol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%s: %d elements, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if !(math.Abs(g-w) <= atol+rtol*math.Abs(w)) {
			return fmt.Errorf("%s[%d] = %.9g, want %.9g (diff %.3g)", what, i, g, w, g-w)
		}
	}
	return nil
}

func TestAgainstPyTorch(t *testing.T) {
	f := loadFixtures(t)
	for _, isa := range asm.Supported() {
		restore, err := asm.SetImpl(isa)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range f.Cases {
			t.Run(isa.String()+"/"+c.Name, func(t *testing.T) {
				params, isNorm := fixtureParams(t, f)
				filter, err := optim.ParseDecayFilter(c.Filter)
				if err != nil {
					t.Fatal(err)
				}
				opts := []optim.Option{optim.WithLR(c.Kwargs.LR), optim.WithDecayFilter(filter), optim.WithNormParams(isNorm)}
				if c.LRs != nil {
					lrs := c.LRs
					opts = append(opts, optim.WithSchedule(optim.ScheduleFunc(func(s int) float64 { return lrs[s] })))
				}
				if c.Kwargs.WeightDecay != nil {
					opts = append(opts, optim.WithWeightDecay(*c.Kwargs.WeightDecay))
				}
				var opt optim.Optimizer
				switch c.Opt {
				case "sgd":
					opts = append(opts, optim.WithMomentum(c.Kwargs.Momentum), optim.WithDampening(c.Kwargs.Dampening), optim.WithNesterov(c.Kwargs.Nesterov))
					opt, err = optim.NewSGD(params, opts...)
				case "adamw":
					if c.Kwargs.Betas != nil {
						opts = append(opts, optim.WithBetas(c.Kwargs.Betas[0], c.Kwargs.Betas[1]))
					}
					if c.Kwargs.Eps != nil {
						opts = append(opts, optim.WithEps(*c.Kwargs.Eps))
					}
					opt, err = optim.NewAdamW(params, opts...)
				}
				if err != nil {
					t.Fatal(err)
				}
				for step, g := range f.Grads {
					for _, p := range params {
						copy(p.Grad.Data(), g[p.Name])
					}
					if c.Clip != nil {
						norm, err := optim.ClipGradNorm(params, *c.Clip)
						if err != nil {
							t.Fatal(err)
						}
						if want := c.Norms[step]; math.Abs(norm-want) > 1e-6*want {
							t.Errorf("step %d: clipped norm %.9g, torch %.9g", step, norm, want)
						}
					}
					if err := opt.Step(); err != nil {
						t.Fatal(err)
					}
				}
				// The SIMD paths fuse the multiply-adds that torch's CPU kernels fuse
				// and stay within 1e-7 of torch after five steps; the Go twin rounds
				// every product and drifts by a few ulps.
				atol, rtol := 2e-7, 2e-7
				if isa == asm.Generic {
					atol, rtol = 1e-6, 2e-6
				}
				for _, p := range params {
					if err := closeTo(p.Name, p.Value.Data(), c.Final[p.Name], atol, rtol); err != nil {
						t.Error(err)
					}
				}
				st := opt.State()
				if st.Step != len(f.Grads) || st.Updates != len(f.Grads) {
					t.Errorf("state step %d updates %d, want %d", st.Step, st.Updates, len(f.Grads))
				}
				if len(st.Tensors) != len(c.State) {
					t.Errorf("state has %d tensors, torch %d", len(st.Tensors), len(c.State))
				}
				for _, b := range st.Tensors {
					want, ok := c.State[b.Name]
					if !ok {
						t.Errorf("state tensor %s has no torch counterpart", b.Name)
						continue
					}
					if err := closeTo(b.Name, b.Value.Data(), want, atol, rtol); err != nil {
						t.Error(err)
					}
				}
			})
		}
		restore()
	}
}

func TestSchedulesAgainstMindCVLists(t *testing.T) {
	f := loadFixtures(t)
	for i, s := range f.Schedules {
		t.Run(fmt.Sprintf("%d_%s", i, s.Name), func(t *testing.T) {
			sched, err := optim.NewSchedule(optim.ScheduleConfig{
				Name: s.Name, LR: s.LR, MinLR: s.MinLR, WarmupEpochs: s.WarmupEpochs, WarmupFactor: s.WarmupFactor,
				DecayEpochs: s.DecayEpochs, DecayRate: s.DecayRate, Milestones: s.Milestones,
				NumEpochs: s.NumEpochs, StepsPerEpoch: s.SPE, NumCycles: s.NumCycles, CycleDecay: s.CycleDecay,
				EpochStair: s.Stair,
			})
			if err != nil {
				t.Fatal(err)
			}
			if sched.Len() != s.Len {
				t.Errorf("Len() = %d, MindCV's list has %d", sched.Len(), s.Len)
			}
			for j, step := range s.Steps {
				if got, want := sched.LR(step), s.LRs[j]; math.Abs(got-want) > 1e-15+1e-12*math.Abs(want) {
					t.Errorf("LR(%d) = %.17g, MindCV list %.17g", step, got, want)
				}
			}
		})
	}
}

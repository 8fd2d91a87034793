package optim_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/optim"
	"github.com/govgg/govgg/tensor"
)

// newParams makes parameters with the given names and shapes, random values and
// random gradients.
func newParams(seed uint64, specs ...any) []*layers.Param {
	r := rand.New(rand.NewPCG(seed, 7))
	var ps []*layers.Param
	for i := 0; i < len(specs); i += 2 {
		shape := specs[i+1].([]int)
		p := &layers.Param{Name: specs[i].(string), Value: tensor.New(shape...), Grad: tensor.New(shape...)}
		for j := range p.Value.Data() {
			p.Value.Data()[j] = 2*r.Float32() - 1
			p.Grad.Data()[j] = 2*r.Float32() - 1
		}
		ps = append(ps, p)
	}
	return ps
}

func vggLike(seed uint64) []*layers.Param {
	return newParams(seed,
		"features.0.weight", []int{4, 3, 3, 3}, "features.0.bias", []int{4},
		"features.1.weight", []int{4}, "features.1.bias", []int{4},
		"features.4.gamma", []int{4}, "features.4.beta", []int{4},
		"classifier.0.weight", []int{10, 36}, "classifier.0.bias", []int{10},
		"classifier.3.weight", []int{256, 600}) // large enough for the worker pool
}

func isBN(name string) bool { return strings.HasPrefix(name, "features.1.") }

func TestDecayFilters(t *testing.T) {
	want := map[optim.DecayFilter][]string{ // names that are decayed
		optim.FilterDisable:     {"features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias", "features.4.gamma", "features.4.beta", "classifier.0.weight", "classifier.0.bias", "classifier.3.weight"},
		optim.FilterAuto:        {"features.0.weight", "features.0.bias", "classifier.0.weight", "classifier.0.bias", "classifier.3.weight"},
		optim.FilterNormAndBias: {"features.0.weight", "classifier.0.weight", "classifier.3.weight"},
	}
	for f, decayed := range want {
		params := vggLike(1)
		o, err := optim.NewSGD(params, optim.WithLR(0.1), optim.WithWeightDecay(1e-4), optim.WithDecayFilter(f), optim.WithNormParams(isBN))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range params {
			in := false
			for _, n := range decayed {
				in = in || n == p.Name
			}
			if o.Decays(p.Name) != in {
				t.Errorf("%v: Decays(%s) = %v, want %v", f, p.Name, !in, in)
			}
		}
		g, err := optim.ParseDecayFilter(f.String())
		if err != nil || g != f {
			t.Errorf("ParseDecayFilter(%q) = %v, %v", f.String(), g, err)
		}
	}
	// Without the predicate, norm_and_bias still exempts the 1-D BN parameters.
	params := vggLike(1)
	o, _ := optim.NewSGD(params, optim.WithLR(0.1), optim.WithWeightDecay(1e-4), optim.WithDecayFilter(optim.FilterNormAndBias))
	if o.Decays("features.1.weight") {
		t.Error("norm_and_bias decays a 1-D parameter")
	}
	if _, err := optim.ParseDecayFilter("bias_only"); err == nil {
		t.Error("ParseDecayFilter accepted an unknown name")
	}
}

func TestOptionErrors(t *testing.T) {
	params := vggLike(1)
	dup := append(vggLike(1), vggLike(2)[0])
	for _, tc := range []struct {
		name string
		make func() error
		want string
	}{
		{"no lr", func() error { _, err := optim.NewSGD(params); return err }, "learning rate"},
		{"nesterov without momentum", func() error {
			_, err := optim.NewSGD(params, optim.WithLR(1), optim.WithNesterov(true))
			return err
		}, "Nesterov"},
		{"nesterov with dampening", func() error {
			_, err := optim.NewSGD(params, optim.WithLR(1), optim.WithMomentum(0.9), optim.WithDampening(0.1), optim.WithNesterov(true))
			return err
		}, "dampening"},
		{"negative lr", func() error { _, err := optim.NewSGD(params, optim.WithLR(-0.1)); return err }, "learning rate"},
		{"negative momentum", func() error { _, err := optim.NewSGD(params, optim.WithLR(1), optim.WithMomentum(-1)); return err }, "momentum"},
		{"negative wd", func() error { _, err := optim.NewSGD(params, optim.WithLR(1), optim.WithWeightDecay(-1)); return err }, "weight decay"},
		{"adam option on sgd", func() error { _, err := optim.NewSGD(params, optim.WithLR(1), optim.WithBetas(0.9, 0.9)); return err }, "WithBetas"},
		{"sgd option on adamw", func() error { _, err := optim.NewAdamW(params, optim.WithMomentum(0.9)); return err }, "WithMomentum"},
		{"beta 1", func() error { _, err := optim.NewAdamW(params, optim.WithBetas(0.9, 1)); return err }, "beta"},
		{"duplicate name", func() error { _, err := optim.NewSGD(dup, optim.WithLR(1)); return err }, "twice"},
		{"nil param", func() error { _, err := optim.NewAdamW([]*layers.Param{nil}); return err }, "nil"},
	} {
		err := tc.make()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestStepErrorsChangeNothing(t *testing.T) {
	params := vggLike(3)
	before := params[0].Value.Clone()
	params[len(params)-1].Grad = tensor.New(11) // wrong size, last parameter
	o, err := optim.NewSGD(params, optim.WithLR(0.1))
	if err != nil {
		t.Fatal(err)
	}
	err = o.Step()
	if err == nil || !strings.Contains(err.Error(), "classifier.3.weight") {
		t.Fatalf("Step with a bad gradient: %v", err)
	}
	if closeTo("features.0.weight", params[0].Value.Data(), before.Data(), 0, 0) != nil || o.StepCount() != 0 {
		t.Error("a failed Step changed the parameters or the step count")
	}
	params[len(params)-1].Grad = nil
	nanAfter0 := optim.ScheduleFunc(func(s int) float64 {
		if s == 0 {
			return 0.1
		}
		return math.NaN()
	})
	bad, err := optim.NewSGD(params, optim.WithSchedule(nanAfter0))
	if err != nil {
		t.Fatal(err)
	}
	bad.SkipStep()
	if err := bad.Step(); err == nil {
		t.Error("Step accepted a NaN learning rate")
	}
}

func TestNilGradSkipped(t *testing.T) {
	params := vggLike(4)
	params[2].Grad = nil
	before := params[2].Value.Clone()
	for _, mk := range []func() (optim.Optimizer, error){
		func() (optim.Optimizer, error) {
			return optim.NewSGD(params, optim.WithLR(0.1), optim.WithMomentum(0.9))
		},
		func() (optim.Optimizer, error) { return optim.NewAdamW(params) },
	} {
		o, err := mk()
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Step(); err != nil {
			t.Fatal(err)
		}
		if err := closeTo("skipped", params[2].Value.Data(), before.Data(), 0, 0); err != nil {
			t.Error(err)
		}
	}
}

// TestResume checks that State and LoadState continue a run exactly: 3 steps,
// checkpoint, 2 more steps in a fresh optimizer equals 5 steps in one.
func TestResume(t *testing.T) {
	makers := map[string]func([]*layers.Param) (optim.Optimizer, error){
		"sgd": func(p []*layers.Param) (optim.Optimizer, error) {
			return optim.NewSGD(p, optim.WithLR(0.1), optim.WithMomentum(0.9), optim.WithDampening(0.3), optim.WithWeightDecay(1e-3))
		},
		"adamw": func(p []*layers.Param) (optim.Optimizer, error) {
			sched := optim.ScheduleFunc(func(s int) float64 { return 1e-2 / float64(s+1) })
			return optim.NewAdamW(p, optim.WithSchedule(sched))
		},
	}
	for name, mk := range makers {
		t.Run(name, func(t *testing.T) {
			ref, cont := vggLike(5), vggLike(5)
			a, _ := mk(ref)
			b, _ := mk(cont)
			for i := 0; i < 3; i++ {
				a.Step()
				b.Step()
			}
			// Save b's state as a checkpoint would: copies, not aliases.
			st := b.State()
			saved := optim.State{Step: st.Step, Updates: st.Updates}
			for _, tn := range st.Tensors {
				saved.Tensors = append(saved.Tensors, &layers.Param{Name: tn.Name, Value: tn.Value.Clone()})
			}
			resumed, _ := mk(cont)
			if err := resumed.LoadState(saved); err != nil {
				t.Fatal(err)
			}
			if resumed.StepCount() != 3 || resumed.LR() != a.LR() {
				t.Fatalf("resumed at step %d with lr %g, want 3 and %g", resumed.StepCount(), resumed.LR(), a.LR())
			}
			for i := 0; i < 2; i++ {
				a.Step()
				resumed.Step()
			}
			for i := range ref {
				if err := closeTo(ref[i].Name, cont[i].Value.Data(), ref[i].Value.Data(), 0, 0); err != nil {
					t.Error(err)
				}
			}
			// Mismatched states are refused.
			short := saved
			short.Tensors = saved.Tensors[1:]
			if err := resumed.LoadState(short); !errors.Is(err, optim.ErrStateMismatch) || !strings.Contains(err.Error(), "missing") {
				t.Errorf("LoadState without %s: %v", saved.Tensors[0].Name, err)
			}
			extra := saved
			extra.Tensors = append(append([]*layers.Param(nil), saved.Tensors...), &layers.Param{Name: "moments.nope", Value: tensor.New(1)})
			if err := resumed.LoadState(extra); err == nil || !strings.Contains(err.Error(), "moments.nope") {
				t.Errorf("LoadState with an extra tensor: %v", err)
			}
			wrong := saved
			wrong.Tensors = append([]*layers.Param(nil), saved.Tensors...)
			wrong.Tensors[0] = &layers.Param{Name: saved.Tensors[0].Name, Value: tensor.New(2)}
			if err := resumed.LoadState(wrong); err == nil || !strings.Contains(err.Error(), "elements") {
				t.Errorf("LoadState with a wrong size: %v", err)
			}
		})
	}
}

func TestParamsChangedHook(t *testing.T) {
	calls := 0
	o, err := optim.NewSGD(vggLike(6), optim.WithLR(0.1), optim.WithParamsChanged(func() { calls++ }))
	if err != nil {
		t.Fatal(err)
	}
	o.Step()
	o.SkipStep()
	o.Step()
	if calls != 2 || o.StepCount() != 3 || o.State().Updates != 2 {
		t.Errorf("hook calls %d, steps %d, updates %d; want 2, 3, 2", calls, o.StepCount(), o.State().Updates)
	}
}

func TestClipGradNorm(t *testing.T) {
	params := vggLike(7)
	var ss float64
	orig := make([][]float32, len(params))
	for i, p := range params {
		orig[i] = append([]float32(nil), p.Grad.Data()...)
		for _, g := range orig[i] {
			ss += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(ss)
	got, err := optim.ClipGradNorm(params, norm*2) // below the limit: untouched
	if err != nil || math.Abs(got-norm) > 1e-12*norm {
		t.Fatalf("ClipGradNorm = %g, %v; want %g", got, err, norm)
	}
	for i, p := range params {
		if err := closeTo(p.Name, p.Grad.Data(), orig[i], 0, 0); err != nil {
			t.Error("clipping below the limit changed a gradient:", err)
		}
	}
	const maxNorm = 0.5
	optim.ClipGradNorm(params, maxNorm)
	coef := float64(float32(maxNorm) / (float32(norm) + 1e-6))
	for i, p := range params {
		want := make([]float32, len(orig[i]))
		for j, g := range orig[i] {
			want[j] = float32(float64(g) * coef)
		}
		if err := closeTo(p.Name, p.Grad.Data(), want, 0, 1e-7); err != nil {
			t.Error(err)
		}
	}
	if n := optim.GradNorm(params); math.Abs(n-maxNorm) > 1e-6 {
		t.Errorf("norm after clipping %g, want %g", n, maxNorm)
	}
	params[3].Grad.Data()[1] = float32(math.NaN())
	if n, _ := optim.ClipGradNorm(params, 1); !math.IsNaN(n) || !math.IsNaN(float64(params[0].Grad.Data()[0])) {
		t.Errorf("a NaN gradient gives norm %g and leaves other gradients finite; torch makes them NaN", n)
	}
	if _, err := optim.ClipGradNorm(params, -1); err == nil {
		t.Error("ClipGradNorm accepted a negative max norm")
	}
}

func TestEMA(t *testing.T) {
	params := vggLike(8)
	params = params[:len(params)-1] // 4000 float64 reference updates: keep it small
	changed := 0
	e, err := optim.NewEMA(params, 0.9999, optim.EMAOnSwap(func() { changed++ }))
	if err != nil {
		t.Fatal(err)
	}
	// float64 reference of MindCV's rule.
	ref := make([][]float64, len(params))
	for i, p := range params {
		for _, v := range p.Value.Data() {
			ref[i] = append(ref[i], float64(v))
		}
	}
	r := rand.New(rand.NewPCG(9, 9))
	for u := 1; u <= 4000; u++ {
		for _, p := range params { // the "training" moves the weights
			for j := range p.Value.Data() {
				p.Value.Data()[j] += 0.01 * (2*r.Float32() - 1)
			}
		}
		e.Update()
		d := 0.9999 * (1 - math.Exp(-float64(u)/2000))
		if got := e.Decay(u); math.Abs(got-d) > 1e-15 {
			t.Fatalf("Decay(%d) = %g, want %g", u, got, d)
		}
		for i, p := range params {
			for j, v := range p.Value.Data() {
				ref[i][j] = d*ref[i][j] + (1-d)*float64(v)
			}
		}
	}
	for i, a := range e.Averages() {
		if want := "ema." + params[i].Name; a.Name != want {
			t.Errorf("average %d named %q, want %q", i, a.Name, want)
		}
		for j, v := range a.Value.Data() {
			if math.Abs(float64(v)-ref[i][j]) > 1e-5 {
				t.Fatalf("%s[%d] = %g, float64 reference %g", a.Name, j, v, ref[i][j])
			}
		}
	}
	// Swap twice is the identity; once exchanges.
	w0, a0 := params[0].Value.Data()[0], e.Averages()[0].Value.Data()[0]
	e.Swap()
	if params[0].Value.Data()[0] != a0 || e.Averages()[0].Value.Data()[0] != w0 {
		t.Error("Swap did not exchange values")
	}
	e.Swap()
	if params[0].Value.Data()[0] != w0 || changed != 2 {
		t.Errorf("Swap twice: value %g (want %g), hook calls %d (want 2)", params[0].Value.Data()[0], w0, changed)
	}
	// Resume.
	e2, _ := optim.NewEMA(params, 0.9999)
	if err := e2.LoadState(e.State()); err != nil || e2.Updates() != 4000 {
		t.Fatalf("LoadState: %v, updates %d", err, e2.Updates())
	}
	e.Update()
	e2.Update()
	if err := closeTo("ema", e2.Averages()[6].Value.Data(), e.Averages()[6].Value.Data(), 0, 0); err != nil {
		t.Error(err)
	}
	noWarm, _ := optim.NewEMA(params, 0.99, optim.EMAWarmup(0))
	if noWarm.Decay(1) != 0.99 {
		t.Errorf("without warm-up Decay(1) = %g, want 0.99", noWarm.Decay(1))
	}
	if _, err := optim.NewEMA(params, 1.5); err == nil {
		t.Error("NewEMA accepted decay 1.5")
	}
}

func TestAccumulator(t *testing.T) {
	for _, red := range []optim.Reduction{optim.Mean, optim.Sum} {
		params := vggLike(10)
		const k = 3
		acc, err := optim.NewAccumulator(params, k, red)
		if err != nil {
			t.Fatal(err)
		}
		sum := make([][]float64, len(params))
		for i, p := range params {
			sum[i] = make([]float64, p.Grad.Len())
		}
		r := rand.New(rand.NewPCG(11, uint64(red)))
		for round := 0; round < 2; round++ {
			for m := 1; m <= k; m++ {
				for i, p := range params {
					for j := range p.Grad.Data() {
						g := 2*r.Float32() - 1
						p.Grad.Data()[j] = g
						sum[i][j] += float64(g)
					}
				}
				ready, err := acc.Add()
				if err != nil {
					t.Fatal(err)
				}
				if ready != (m == k) || acc.Pending() != m%k {
					t.Fatalf("micro-batch %d: ready %v, pending %d", m, ready, acc.Pending())
				}
			}
			for i, p := range params {
				for j, g := range p.Grad.Data() {
					want := sum[i][j]
					if red == optim.Mean {
						want /= k
					}
					if math.Abs(float64(g)-want) > 1e-6 {
						t.Fatalf("%v round %d: %s[%d] = %g, want %g", red, round, p.Name, j, g, want)
					}
					sum[i][j] = 0
				}
			}
		}
	}
	// A pending sum survives a checkpoint.
	params := vggLike(12)
	a, _ := optim.NewAccumulator(params, 2, optim.Mean)
	a.Add()
	b, _ := optim.NewAccumulator(params, 2, optim.Mean)
	if err := b.LoadState(a.State()); err != nil || b.Pending() != 1 {
		t.Fatalf("LoadState: %v, pending %d", err, b.Pending())
	}
	if ready, _ := b.Add(); !ready {
		t.Error("restored accumulator did not complete its cycle")
	}
	one, _ := optim.NewAccumulator(params, 1, optim.Mean)
	before := params[0].Grad.Clone()
	if ready, _ := one.Add(); !ready || closeTo("k=1", params[0].Grad.Data(), before.Data(), 0, 0) != nil {
		t.Error("k=1 must pass gradients through unchanged")
	}
	if _, err := optim.NewAccumulator(params, 0, optim.Mean); err == nil {
		t.Error("NewAccumulator accepted k=0")
	}
}

func TestNoAllocationsPerStep(t *testing.T) {
	params := vggLike(13)
	sgd, _ := optim.NewSGD(params, optim.WithLR(1e-3), optim.WithMomentum(0.9), optim.WithNesterov(true))
	adam, _ := optim.NewAdamW(params, optim.WithLR(1e-4))
	ema, _ := optim.NewEMA(params, 0.999)
	acc, _ := optim.NewAccumulator(params, 2, optim.Mean)
	sched, _ := optim.NewSchedule(optim.ScheduleConfig{Name: "warmup_cosine_decay", LR: 0.01, WarmupEpochs: 1, DecayEpochs: 1, NumEpochs: 2, StepsPerEpoch: 10})
	withSched, _ := optim.NewSGD(params, optim.WithSchedule(sched), optim.WithMomentum(0.9))
	for name, fn := range map[string]func(){
		"SGD.Step":          func() { sgd.Step() },
		"AdamW.Step":        func() { adam.Step() },
		"SGD+schedule.Step": func() { withSched.Step() },
		"EMA.Update":        func() { ema.Update() },
		"Accumulator.Add":   func() { acc.Add() },
		"ClipGradNorm":      func() { optim.ClipGradNorm(params, 1) },
	} {
		fn() // the first call may set things up
		if n := testing.AllocsPerRun(20, fn); n != 0 {
			t.Errorf("%s allocates %v times per call", name, n)
		}
	}
}

// TestLargeParam checks two Nesterov steps on a tensor that the worker pool splits
// against a float64 reference.
func TestLargeParam(t *testing.T) {
	params := newParams(14, "w", []int{1 << 18})
	p := params[0]
	w0 := append([]float32(nil), p.Value.Data()...)
	g := append([]float32(nil), p.Grad.Data()...)
	o, err := optim.NewSGD(params, optim.WithLR(0.1), optim.WithMomentum(0.9), optim.WithNesterov(true), optim.WithWeightDecay(0.01))
	if err != nil {
		t.Fatal(err)
	}
	o.Step()
	o.Step()
	for i, w := range p.Value.Data() {
		x, gi := float64(w0[i]), float64(g[i])
		var v float64
		for s := 0; s < 2; s++ {
			d := gi + 0.01*x
			if s == 0 {
				v = d
			} else {
				v = 0.9*v + d
			}
			x -= 0.1 * (d + 0.9*v)
		}
		if math.Abs(float64(w)-x) > 1e-6 {
			t.Fatalf("w[%d] = %g, float64 reference %g", i, w, x)
		}
	}
}

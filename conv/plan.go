package conv

import (
	"fmt"
	"time"
)

// Option configures a Plan.
type Option func(*config)

type config struct {
	alg            Algorithm
	relu           bool
	maxWeightBytes int // 0: no limit
	autotune       bool
	sharedWeights  bool
}

// WithAlgorithm forces an algorithm (Auto, the default, lets the planner choose per
// batch size). Forcing one that does not apply to the geometry is an error.
func WithAlgorithm(a Algorithm) Option { return func(c *config) { c.alg = a } }

// WithReLU fuses a ReLU into Forward: y = max(0, conv(x) + b).
func WithReLU(on bool) Option { return func(c *config) { c.relu = on } }

// WithMaxWeightBytes bounds the memory of the prepared (packed or transformed)
// forward weights. When the chosen algorithm's form is larger, the planner falls back
// to a cheaper one; when even implicit GEMM's packed weights exceed the bound,
// SetWeights fails. 0 means no bound.
func WithMaxWeightBytes(n int) Option { return func(c *config) { c.maxWeightBytes = n } }

// WithAutotune makes the planner time every applicable algorithm once, on the first
// Forward with each batch size, and keep the fastest (like cuDNN's find). It needs
// WithAlgorithm(Auto).
func WithAutotune(on bool) Option { return func(c *config) { c.autotune = on } }

// WithSharedWeights makes SetWeights keep the caller's slices instead of copying
// them: the caller must leave them unchanged until its next SetWeights, because
// kernels prepare their weights from them lazily (the backward-data kernel during
// the next BackwardData). Training, which sets new weights every step, saves a
// copy of every weight per step (about 7 ms of a CIFAR VGG-16 step).
func WithSharedWeights(on bool) Option { return func(c *config) { c.sharedWeights = on } }

// Plan is a convolution of a fixed geometry with its weights prepared for the chosen
// algorithm. After the first call with a given batch size, SetWeights, Forward,
// BackwardData, BackwardDataMasked and BackwardFilter allocate nothing (their
// scratch lives in the plan, or for Winograd in a pool every plan shares, which
// stops growing once it holds the largest layer's buffers for each thread; new
// weights are prepared in place). A Plan is not safe for concurrent use; different
// Plans may run concurrently.
type Plan struct {
	g   Geometry
	cfg config

	w, bias []float32 // the plan's copies of the weights (bias nil when absent)
	hasW    bool

	// Forward kernels, built on demand per algorithm; stale after SetWeights
	// until next used.
	kern  [numAlgorithms]kernel
	stale [numAlgorithms]bool
	algN  map[int]Algorithm // Auto's choice per batch size
	last  Algorithm         // algorithm of the last Forward

	bwdData  backwardData
	bwdFilt  backwardFilter
	bwdStale bool
}

const numAlgorithms = int(WinogradF63) + 1

// NewPlan returns a plan for g. Weights must be given with SetWeights before Forward.
func NewPlan(g Geometry, opts ...Option) (*Plan, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	p := &Plan{g: g, algN: map[int]Algorithm{}}
	for _, o := range opts {
		o(&p.cfg)
	}
	c := p.cfg
	switch {
	case c.alg < Auto || int(c.alg) >= numAlgorithms:
		return nil, fmt.Errorf("conv: unknown algorithm %v", c.alg)
	case c.maxWeightBytes < 0:
		return nil, fmt.Errorf("conv: WithMaxWeightBytes(%d) is negative", c.maxWeightBytes)
	case c.autotune && c.alg != Auto:
		return nil, fmt.Errorf("conv: WithAutotune needs WithAlgorithm(Auto), not %v", c.alg)
	}
	if c.alg != Auto {
		if err := applicable(c.alg, g); err != nil {
			return nil, err
		}
	}
	p.last = c.alg
	if p.last == Auto {
		p.last = chooseAlgorithm(g, 1)
	}
	p.bwdData.init(g)
	p.bwdFilt.init(g)
	return p, nil
}

// applicable reports why algorithm a cannot compute g, or nil.
func applicable(a Algorithm, g Geometry) error {
	switch a {
	case Im2col:
		return nil
	case WinogradF23, WinogradF43, WinogradF63:
		if !g.Is3x3s1() {
			return fmt.Errorf("conv: %v needs a 3×3 kernel with stride 1 and dilation 1, not %v", a, g)
		}
		if winogradKernels[a] == nil {
			return fmt.Errorf("conv: %v is not built into this binary", a)
		}
		return nil
	}
	return fmt.Errorf("conv: %v is not an algorithm that can be forced", a)
}

// newKernel builds algorithm a's kernel for g.
func newKernel(a Algorithm, g Geometry) (kernel, error) {
	if a == Im2col {
		return newIm2colKernel(g), nil
	}
	if err := applicable(a, g); err != nil {
		return nil, err
	}
	return winogradKernels[a](g)
}

// Geometry returns the plan's geometry.
func (p *Plan) Geometry() Geometry { return p.g }

// ReLU reports whether Forward fuses a ReLU (WithReLU(true)).
func (p *Plan) ReLU() bool { return p.cfg.relu }

// Algorithm returns the algorithm of the last Forward; before any, the one a batch
// of 1 would use.
func (p *Plan) Algorithm() Algorithm { return p.last }

// WeightBytes returns the memory held by the prepared weights of every algorithm the
// plan has built, backward passes included, plus the plan's copy of the weights
// (none WithSharedWeights).
func (p *Plan) WeightBytes() int {
	s := 0
	if !p.cfg.sharedWeights {
		s = 4 * (len(p.w) + len(p.bias))
	}
	for _, k := range p.kern {
		if k != nil {
			s += k.weightBytes()
		}
	}
	return s + p.bwdData.weightBytes()
}

// SetWeights sets the weights w (K×C×R×S) and bias (K, or nil for none). The slices
// are copied, unless the plan was made WithSharedWeights. Call it again after every
// optimizer step.
func (p *Plan) SetWeights(w, bias []float32) error {
	g := p.g
	if want := g.K * g.C * g.R * g.S; len(w) != want {
		return fmt.Errorf("conv: weights for %v have %d elements, want %d (K×C×R×S)", g, len(w), want)
	}
	if bias != nil && len(bias) != g.K {
		return fmt.Errorf("conv: bias for %v has %d elements, want %d", g, len(bias), g.K)
	}
	switch {
	case p.cfg.sharedWeights:
		p.w, p.bias = w, bias
	case bias == nil:
		p.w, p.bias = append(p.w[:0], w...), nil
	default:
		p.w, p.bias = append(p.w[:0], w...), append(p.bias[:0], bias...)
	}
	// Kernels refresh their prepared weights when next used.
	for i := range p.stale {
		p.stale[i] = p.kern[i] != nil
	}
	p.bwdStale = true
	if !p.hasW && p.cfg.alg != Auto {
		// Fail early when a forced algorithm's weights exceed the bound.
		if _, err := p.kernel(p.cfg.alg); err != nil {
			return err
		}
	}
	p.hasW = true
	return nil
}

// kernel returns algorithm a's forward kernel with the current weights, building it
// or refreshing its weights as needed, within the weight-memory bound.
func (p *Plan) kernel(a Algorithm) (kernel, error) {
	k := p.kern[a]
	if k != nil && !p.stale[a] {
		return k, nil
	}
	if k == nil {
		var err error
		if k, err = newKernel(a, p.g); err != nil {
			return nil, err
		}
	}
	k.setWeights(p.w, p.bias)
	if max := p.cfg.maxWeightBytes; max > 0 && k.weightBytes() > max {
		p.kern[a] = nil
		return nil, fmt.Errorf("conv: %v weights for %v need %d bytes, over the limit of %d", a, p.g, k.weightBytes(), max)
	}
	p.kern[a], p.stale[a] = k, false
	return k, nil
}

// forwardKernel returns the kernel for a batch of n: the forced algorithm, or Auto's
// choice for n (timed when autotuning), falling back to cheaper algorithms when the
// choice's weights exceed the bound.
func (p *Plan) forwardKernel(y, x []float32, n int) (kernel, Algorithm, error) {
	if a := p.cfg.alg; a != Auto {
		k, err := p.kernel(a)
		return k, a, err
	}
	if a, ok := p.algN[n]; ok {
		k, err := p.kernel(a)
		return k, a, err
	}
	var a Algorithm
	if p.cfg.autotune {
		a = p.autotune(y, x, n)
	} else {
		a = chooseAlgorithm(p.g, n)
	}
	var err error
	for _, c := range fallbacks(a) {
		var k kernel
		if k, err = p.kernel(c); err == nil {
			p.algN[n] = c
			return k, c, nil
		}
	}
	return nil, Auto, err
}

// fallbacks lists a and then the algorithms with smaller prepared weights.
func fallbacks(a Algorithm) []Algorithm {
	switch a {
	case WinogradF63:
		return []Algorithm{WinogradF63, WinogradF43, WinogradF23, Im2col}
	case WinogradF43:
		return []Algorithm{WinogradF43, WinogradF23, Im2col}
	case WinogradF23:
		return []Algorithm{WinogradF23, Im2col}
	}
	return []Algorithm{Im2col}
}

// autotune runs every applicable algorithm within the weight bound on (y, x) and
// returns the fastest; the others' prepared weights are dropped.
func (p *Plan) autotune(y, x []float32, n int) Algorithm {
	best, bestT := Im2col, time.Duration(1<<62)
	for a := Im2col; int(a) < numAlgorithms; a++ {
		if applicable(a, p.g) != nil {
			continue
		}
		k, err := p.kernel(a)
		if err != nil {
			continue
		}
		var t time.Duration
		for range 2 { // the first run warms caches and scratch
			t0 := time.Now()
			k.forward(y, x, n, p.cfg.relu)
			t = time.Since(t0)
		}
		if t < bestT {
			best, bestT = a, t
		}
	}
	for a := range p.kern {
		if Algorithm(a) != best && !p.inUse(Algorithm(a)) {
			p.kern[a] = nil
		}
	}
	return best
}

// inUse reports whether a batch size already chose a.
func (p *Plan) inUse(a Algorithm) bool {
	for _, b := range p.algN {
		if a == b {
			return true
		}
	}
	return false
}

// Forward computes y = conv(x) + bias (then ReLU with WithReLU) for a batch of n:
// x is n×C×H×W and y is n×K×OutH×OutW, both NCHW.
func (p *Plan) Forward(y, x []float32, n int) error {
	g := p.g
	if err := p.checkWeights(); err != nil {
		return err
	}
	if err := p.check(n, "x", len(x), g.C*g.H*g.W, "y", len(y), g.K*g.OutH()*g.OutW()); err != nil {
		return err
	}
	k, a, err := p.forwardKernel(y, x, n)
	if err != nil {
		return err
	}
	p.last = a
	k.forward(y, x, n, p.cfg.relu)
	return nil
}

// BackwardData computes dx = ∂L/∂x (n×C×H×W, overwritten) from dy = ∂L/∂y
// (n×K×OutH×OutW). With WithReLU, dy must already be masked by the ReLU.
func (p *Plan) BackwardData(dx, dy []float32, n int) error {
	return p.backwardData(dx, dy, nil, n)
}

// BackwardDataMasked is BackwardData followed by the backward pass of a ReLU whose
// output is mask (n×C×H×W; in a network, this convolution's input x): dx = ∂L/∂x
// where mask > 0 or is NaN, and 0 where mask ≤ 0 (−0 included). That is bit for
// bit what asm.ReLUBackward(dx, dx, mask) makes of BackwardData's result, NaN and
// ±Inf in dx included, but the mask is applied where dx is written, which saves
// the ReLU's own pass over three activation-sized arrays.
func (p *Plan) BackwardDataMasked(dx, dy, mask []float32, n int) error {
	if mask == nil {
		return fmt.Errorf("conv: BackwardDataMasked for %v: mask is nil", p.g)
	}
	return p.backwardData(dx, dy, mask, n)
}

// backwardData runs BackwardData, masked when mask is non-nil.
func (p *Plan) backwardData(dx, dy, mask []float32, n int) error {
	g := p.g
	if err := p.checkWeights(); err != nil {
		return err
	}
	if err := p.check(n, "dy", len(dy), g.K*g.OutH()*g.OutW(), "dx", len(dx), g.C*g.H*g.W); err != nil {
		return err
	}
	if mask != nil && len(mask) != len(dx) {
		return fmt.Errorf("conv: mask for %v has %d elements, want %d (batch %d × %d, the size of dx)", g, len(mask), len(dx), n, g.C*g.H*g.W)
	}
	if p.bwdStale {
		p.bwdData.stale, p.bwdStale = true, false
	}
	p.bwdData.run(dx, dy, mask, n, p.w, p.cfg)
	return nil
}

// BackwardFilter computes dw = ∂L/∂w (K×C×R×S) and db = ∂L/∂b (K), both overwritten,
// from the forward input x and dy = ∂L/∂y, summed over the batch of n. db may be nil.
func (p *Plan) BackwardFilter(dw, db, x, dy []float32, n int) error {
	g := p.g
	if err := p.check(n, "x", len(x), g.C*g.H*g.W, "dy", len(dy), g.K*g.OutH()*g.OutW()); err != nil {
		return err
	}
	if want := g.K * g.C * g.R * g.S; len(dw) != want {
		return fmt.Errorf("conv: dw for %v has %d elements, want %d (K×C×R×S)", g, len(dw), want)
	}
	if db != nil && len(db) != g.K {
		return fmt.Errorf("conv: db for %v has %d elements, want %d", g, len(db), g.K)
	}
	p.bwdFilt.run(dw, db, x, dy, n)
	return nil
}

func (p *Plan) checkWeights() error {
	if !p.hasW {
		return fmt.Errorf("conv: plan for %v has no weights: call SetWeights first", p.g)
	}
	return nil
}

// check validates the batch size and the lengths of an input and an output tensor
// (per-image sizes given).
func (p *Plan) check(n int, in string, lin, perIn int, out string, lout, perOut int) error {
	switch {
	case n <= 0:
		return fmt.Errorf("conv: batch size %d must be positive", n)
	case lin != n*perIn:
		return fmt.Errorf("conv: %s for %v has %d elements, want %d (batch %d × %d)", in, p.g, lin, n*perIn, n, perIn)
	case lout != n*perOut:
		return fmt.Errorf("conv: %s for %v has %d elements, want %d (batch %d × %d)", out, p.g, lout, n*perOut, n, perOut)
	}
	return nil
}

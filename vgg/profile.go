package vgg

import (
	"fmt"
	"slices"
	"time"

	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/tensor"
)

// LayerProfile is one layer's share of a forward pass.
type LayerProfile struct {
	Name        string // state-dict prefix, e.g. "features.0"
	Layer       string // the layer, e.g. "Conv2d(3→64, k3 s1 p1)"
	OutShape    []int
	Algorithm   string        // the convolution algorithm, for Conv2d on the CPU
	WeightBytes int           // memory of the convolution's prepared weights
	FLOPs       int64         // of a Conv2d (direct-convolution count) or Linear; 0 for the rest
	Time        time.Duration // median over the runs, in the pass: caches as the model leaves them
	// Warm is the median time of the same layer run again at once on the same input:
	// its weights, input and scratch then come from the caches. Time − Warm is what
	// the rest of the pass costs it (at batch 1, weights streamed from DRAM). It is
	// 0 in training mode, where a second run would update batch norm again.
	Warm time.Duration
}

// SetGradHook calls h with each layer's parameters as soon as Backward has written
// their gradients (the classifier's first): data-parallel training reduces them
// while the rest of the backward pass runs. nil removes it.
func (m *Model) SetGradHook(h layers.GradHook) {
	m.classifier.SetGradHook(h)
	m.features.SetGradHook(h)
}

// Profile runs the network on x layer by layer, runs times after one warm-up pass,
// and returns each layer's median time, output shape and FLOPs, for convolutions
// the algorithm chosen and the memory of its prepared weights, and the median time
// of an immediate second run of each layer (LayerProfile.Warm).
func (m *Model) Profile(x *tensor.Tensor, runs int) ([]LayerProfile, error) {
	if runs < 1 {
		return nil, fmt.Errorf("vgg: Profile needs at least one run, got %d", runs)
	}
	if err := m.checkInput(x.Shape()); err != nil {
		return nil, err
	}
	type stage struct {
		name string
		l    layers.Layer
	}
	var stages []stage
	for i, l := range m.features.Layers() {
		stages = append(stages, stage{fmt.Sprintf("features.%d", i), l})
	}
	if m.avgpool != nil {
		stages = append(stages, stage{"avgpool", m.avgpool})
	}
	stages = append(stages, stage{"flatten", m.flatten})
	for i, l := range m.classifier.Layers() {
		stages = append(stages, stage{fmt.Sprintf("classifier.%d", i), l})
	}
	times := make([][]time.Duration, len(stages))
	warm := make([][]time.Duration, len(stages))
	out := make([]LayerProfile, len(stages))
	for r := 0; r <= runs; r++ {
		y := x
		for i, s := range stages {
			in := y
			start := time.Now()
			var err error
			if y, err = s.l.Forward(in); err != nil {
				return nil, fmt.Errorf("vgg: %s: %w", s.name, err)
			}
			took := time.Since(start)
			if !m.training { // a second run would update batch norm's statistics again
				start = time.Now()
				if y, err = s.l.Forward(in); err != nil {
					return nil, fmt.Errorf("vgg: %s: %w", s.name, err)
				}
				if r > 0 {
					warm[i] = append(warm[i], time.Since(start))
				}
			}
			if r > 0 {
				times[i] = append(times[i], took)
			}
			out[i].OutShape = append(out[i].OutShape[:0], y.Shape()...)
		}
	}
	for i, s := range stages {
		slices.Sort(times[i])
		slices.Sort(warm[i])
		o := &out[i]
		o.Name, o.Layer = s.name, fmt.Sprint(s.l)
		o.Time = times[i][len(times[i])/2]
		if len(warm[i]) > 0 {
			o.Warm = warm[i][len(warm[i])/2]
		}
		switch l := s.l.(type) {
		case *layers.Conv2d:
			if p := l.Plan(); p != nil {
				o.Algorithm, o.WeightBytes = p.Algorithm().String(), p.WeightBytes()
			}
			// 2 FLOPs per weight per output pixel.
			o.FLOPs = 2 * int64(l.Params()[0].Value.Len()) * int64(o.OutShape[0]*o.OutShape[2]*o.OutShape[3])
		case *layers.Linear:
			o.FLOPs = 2 * int64(l.Params()[0].Value.Len()) * int64(o.OutShape[0])
		}
	}
	return out, nil
}

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
	Time        time.Duration // median over the runs
}

// SetGradHook calls h with each layer's parameters as soon as Backward has written
// their gradients (the classifier's first): data-parallel training reduces them
// while the rest of the backward pass runs. nil removes it.
func (m *Model) SetGradHook(h layers.GradHook) {
	m.classifier.SetGradHook(h)
	m.features.SetGradHook(h)
}

// Profile runs the network on x layer by layer, runs times after one warm-up pass,
// and returns each layer's median time, output shape, and for convolutions the
// algorithm chosen and the memory of its prepared weights.
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
	out := make([]LayerProfile, len(stages))
	for r := 0; r <= runs; r++ {
		y := x
		for i, s := range stages {
			start := time.Now()
			var err error
			if y, err = s.l.Forward(y); err != nil {
				return nil, fmt.Errorf("vgg: %s: %w", s.name, err)
			}
			if r > 0 {
				times[i] = append(times[i], time.Since(start))
			}
			out[i].OutShape = append(out[i].OutShape[:0], y.Shape()...)
		}
	}
	for i, s := range stages {
		slices.Sort(times[i])
		out[i].Name, out[i].Layer, out[i].Time = s.name, fmt.Sprint(s.l), times[i][len(times[i])/2]
		if c, ok := s.l.(*layers.Conv2d); ok {
			if p := c.Plan(); p != nil {
				out[i].Algorithm, out[i].WeightBytes = p.Algorithm().String(), p.WeightBytes()
			}
		}
	}
	return out, nil
}

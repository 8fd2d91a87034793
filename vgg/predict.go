package vgg

import (
	"fmt"
	"image"
	"math"

	"github.com/govgg/govgg/tensor"
)

// Prediction is one class and its softmax probability.
type Prediction struct {
	Class       int
	Label       string
	Probability float32
}

// Predict classifies one image: torchvision's evaluation preprocessing (resize the
// short side to 256, centre-crop 224; for a MindCV-flavour model the same with
// crop_pct 0.875), a forward pass in evaluation mode, softmax, and the top k classes,
// most probable first.
func (m *Model) Predict(img image.Image, k int) ([]Prediction, error) {
	if m.opts.inChannels != 3 {
		return nil, fmt.Errorf("vgg: Predict needs a 3-channel model, %s has %d input channels", m.name, m.opts.inChannels)
	}
	if k <= 0 {
		return nil, fmt.Errorf("vgg: Predict needs k ≥ 1, got %d", k)
	}
	crop := 224
	if m.avgpool == nil {
		crop = m.imageSize
	}
	resize := int(math.Floor(float64(crop) / 0.875))
	x := tensor.New(1, 3, crop, crop)
	if _, err := Preprocess(x.Data(), img, resize, crop); err != nil {
		return nil, err
	}
	wasTraining := m.training
	if wasTraining {
		m.SetTraining(false)
		defer m.SetTraining(true)
	}
	logits, err := m.Forward(x)
	if err != nil {
		return nil, err
	}
	return TopK(logits.Data(), k, m.ClassNames()), nil
}

// TopK returns the k most probable classes of one row of logits under softmax.
func TopK(logits []float32, k int, names []string) []Prediction {
	k = min(k, len(logits))
	maxv := float32(math.Inf(-1))
	for _, v := range logits {
		maxv = max(maxv, v)
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v - maxv))
	}
	out := make([]Prediction, 0, k)
	used := make([]bool, len(logits))
	for len(out) < k {
		best := -1
		for i, v := range logits {
			if !used[i] && (best < 0 || v > logits[best]) {
				best = i
			}
		}
		used[best] = true
		p := Prediction{Class: best, Probability: float32(math.Exp(float64(logits[best]-maxv)) / sum)}
		if best < len(names) {
			p.Label = names[best]
		}
		out = append(out, p)
	}
	return out
}

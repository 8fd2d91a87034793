package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/govgg/govgg/data"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/vgg"
)

// Metrics are the evaluation results MindCV reports: mean loss and Top-1 / Top-5
// accuracy as fractions.
type Metrics struct {
	Loss, Top1, Top5 float64
	Samples          int
	// HasTop5 is false for fewer than 5 classes, where MindCV leaves Top-5 out.
	HasTop5 bool
}

// String formats the metrics for a log line.
func (m Metrics) String() string {
	if m.HasTop5 {
		return fmt.Sprintf("Top_1_Accuracy: %.6f, Top_5_Accuracy: %.6f, loss: %.6f", m.Top1, m.Top5, m.Loss)
	}
	return fmt.Sprintf("Top_1_Accuracy: %.6f, loss: %.6f", m.Top1, m.Loss)
}

// Dict formats the metrics as MindCV's validate.py prints them, a Python dict:
// {'Top_1_Accuracy': 0.9123, 'Top_5_Accuracy': 0.9987, 'loss': 0.31}.
func (m Metrics) Dict() string {
	var b strings.Builder
	b.WriteString("{'Top_1_Accuracy': " + pyFloat(m.Top1))
	if m.HasTop5 {
		b.WriteString(", 'Top_5_Accuracy': " + pyFloat(m.Top5))
	}
	b.WriteString(", 'loss': " + pyFloat(m.Loss) + "}")
	return b.String()
}

// pyFloat formats x as Python's repr of a float does: the shortest string that reads
// back exactly, with a ".0" on whole numbers and an exponent outside [1e-4, 1e16).
func pyFloat(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	if a := math.Abs(x); a != 0 && (a < 1e-4 || a >= 1e16) {
		s := strconv.FormatFloat(x, 'e', -1, 64) // 1e-05 in Python, 1e-05 here
		return s
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// Evaluate runs model in evaluation mode over every batch of loader and returns the
// mean loss (over samples) and Top-1 / Top-5 accuracy. With d.ReduceSums the counts
// are summed over ranks first. The model's training mode is restored afterwards.
func Evaluate(ctx context.Context, model *vgg.Model, loss *layers.CrossEntropy, loader *data.Loader, d Distributed) (Metrics, error) {
	return evaluate(ctx, model, loss, loader, d, nil)
}

// evaluate is Evaluate calling onBatch(done, total) after each batch.
func evaluate(ctx context.Context, model *vgg.Model, loss *layers.CrossEntropy, loader *data.Loader, d Distributed, onBatch func(done, total int)) (Metrics, error) {
	if model == nil || loss == nil || loader == nil {
		return Metrics{}, errors.New("train: Evaluate needs a model, a loss and a loader")
	}
	wasTraining := model.Training()
	model.SetTraining(false)
	defer model.SetTraining(wasTraining)
	it, err := loader.Epoch(ctx, 0, 0)
	if err != nil {
		return Metrics{}, err
	}
	defer it.Close()
	sums := make([]float64, 4) // loss·n, top1, top5, n
	for {
		b, err := it.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Metrics{}, err
		}
		logits, err := model.Forward(b.Images)
		if err != nil {
			return Metrics{}, err
		}
		l, _, err := loss.Forward(logits, b.Labels)
		if err != nil {
			return Metrics{}, err
		}
		n := len(b.Labels)
		c := logits.Shape()[1]
		out := logits.Data()
		for i, label := range b.Labels {
			row := out[i*c : (i+1)*c]
			r := rank(row, label)
			if r < 1 {
				sums[1]++
			}
			if r < 5 {
				sums[2]++
			}
		}
		sums[0] += float64(l) * float64(n)
		sums[3] += float64(n)
		if onBatch != nil {
			onBatch(b.Step+1, loader.Steps())
		}
	}
	if d.ReduceSums != nil {
		if err := d.ReduceSums(sums); err != nil {
			return Metrics{}, fmt.Errorf("train: reducing evaluation counts: %w", err)
		}
	}
	if sums[3] == 0 {
		return Metrics{}, errors.New("train: the evaluation loader has no samples")
	}
	return Metrics{
		Loss: sums[0] / sums[3], Top1: sums[1] / sums[3], Top5: sums[2] / sums[3],
		Samples: int(sums[3]), HasTop5: model.NumClasses() >= 5,
	}, nil
}

// rank counts the classes scored strictly above the label's (0: a Top-1 hit). A NaN
// score of the label counts as a miss.
func rank(row []float32, label int) int {
	v := row[label]
	if v != v {
		return len(row)
	}
	r := 0
	for j, x := range row {
		if j != label && x > v {
			r++
		}
	}
	return r
}

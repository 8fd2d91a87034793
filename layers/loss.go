package layers

import (
	"fmt"

	"github.com/govgg/govgg/tensor"
)

// CrossEntropy is softmax cross-entropy with label smoothing and mean reduction,
// PyTorch's F.cross_entropy(logits, target, label_smoothing=ε): each row's target
// distribution q = (1−ε)·t + ε/C, where t is the one-hot label or a given
// probability row (mixup/cutmix), and the loss is the mean over rows of
// −Σ_c q_c·log softmax(logits)_c, computed with log-sum-exp in float64.
//
// Forward also writes dL/dlogits = (softmax(logits) − q)/N into a buffer the loss
// keeps, valid until the next call. On a backend with memory of its own it may
// exist only there (the next layer's Backward reads it there); host code that
// reads it calls the backend's ToHost first (see HostSync).
type CrossEntropy struct {
	backendRef
	smoothing float32
	grad      *tensor.Tensor
	shape     []int
}

// NewCrossEntropy returns the loss with label smoothing ε in [0, 1] (0.1 in the
// MindCV recipe, 0 for plain cross-entropy).
func NewCrossEntropy(labelSmoothing float32) (*CrossEntropy, error) {
	if !(labelSmoothing >= 0 && labelSmoothing <= 1) {
		return nil, fmt.Errorf("layers: CrossEntropy: label smoothing must be in [0, 1], got %g", labelSmoothing)
	}
	return &CrossEntropy{smoothing: labelSmoothing}, nil
}

// LabelSmoothing returns ε.
func (l *CrossEntropy) LabelSmoothing() float32 { return l.smoothing }

func (l *CrossEntropy) check(logits *tensor.Tensor) (rows, classes int, err error) {
	if logits == nil {
		return 0, 0, fmt.Errorf("layers: CrossEntropy: nil logits")
	}
	s := logits.Shape()
	if len(s) != 2 || s[0] <= 0 || s[1] <= 0 {
		return 0, 0, fmt.Errorf("layers: CrossEntropy: logits must be N×C with N, C > 0, got shape %v", s)
	}
	return s[0], s[1], nil
}

// Forward returns the loss for integer labels (one per row, in [0, C)) and
// dL/dlogits.
func (l *CrossEntropy) Forward(logits *tensor.Tensor, labels []int) (float32, *tensor.Tensor, error) {
	rows, classes, err := l.check(logits)
	if err != nil {
		return 0, nil, err
	}
	if len(labels) != rows {
		return 0, nil, fmt.Errorf("layers: CrossEntropy: %d labels for %d rows of logits", len(labels), rows)
	}
	return l.run(logits, labels, nil, rows, classes)
}

// ForwardSoft returns the loss for target probabilities (N×C, rows summing to 1)
// and dL/dlogits.
func (l *CrossEntropy) ForwardSoft(logits, target *tensor.Tensor) (float32, *tensor.Tensor, error) {
	rows, classes, err := l.check(logits)
	if err != nil {
		return 0, nil, err
	}
	if target == nil || !tensor.SameShape(target.Shape(), logits.Shape()) {
		var ts []int
		if target != nil {
			ts = target.Shape()
		}
		return 0, nil, fmt.Errorf("layers: CrossEntropy: target shape %v does not match logits shape %v", ts, logits.Shape())
	}
	return l.run(logits, nil, target.Data(), rows, classes)
}

func (l *CrossEntropy) run(logits *tensor.Tensor, labels []int, soft []float32, rows, classes int) (float32, *tensor.Tensor, error) {
	l.shape = append(l.shape[:0], rows, classes)
	l.grad = tensor.Ensure(l.grad, l.shape...)
	loss, err := l.softmax().SoftmaxCrossEntropy(l.grad.Data(), logits.Data(), labels, soft, rows, classes, l.smoothing)
	if err != nil {
		return 0, nil, err
	}
	return float32(loss), l.grad, nil
}

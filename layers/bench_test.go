package layers

import (
	"testing"

	"github.com/govgg/govgg/tensor"
)

func benchLayer(b *testing.B, l Layer, shape []int, train bool) {
	x := tensor.New(shape...)
	for i := range x.Data() {
		x.Data()[i] = float32(i%23) - 11
	}
	l.SetTraining(train)
	y, err := l.Forward(x)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(4 * x.Len()))
	for b.Loop() {
		if _, err := l.Forward(x); err != nil {
			b.Fatal(err)
		}
		if train {
			if _, err := l.Backward(y); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// VGG16-sized activations at batch 1 (conv1_2 output: 64×224×224).
func BenchmarkReLU(b *testing.B)    { benchLayer(b, NewReLU(), []int{1, 64, 224, 224}, false) }
func BenchmarkMaxPool(b *testing.B) { benchLayer(b, NewMaxPool2d(2, 2), []int{1, 64, 224, 224}, false) }
func BenchmarkBatchNormEval(b *testing.B) {
	benchLayer(b, NewBatchNorm2d(64), []int{1, 64, 224, 224}, false)
}
func BenchmarkBatchNormTrainStep(b *testing.B) {
	benchLayer(b, NewBatchNorm2d(64), []int{4, 64, 56, 56}, true)
}
func BenchmarkMaxPoolTrainStep(b *testing.B) {
	benchLayer(b, NewMaxPool2d(2, 2), []int{4, 64, 112, 112}, true)
}

// FC6 of VGG16 at batch 1 and 8: a weight-bandwidth-bound product.
func BenchmarkLinearFC6Batch1(b *testing.B) {
	benchLayer(b, NewLinear(25088, 4096, true), []int{1, 25088}, false)
}
func BenchmarkLinearFC6Batch8(b *testing.B) {
	benchLayer(b, NewLinear(25088, 4096, true), []int{8, 25088}, false)
}

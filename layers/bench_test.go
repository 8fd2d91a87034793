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

// A small VGG-style network's training step (forward, loss, backward): the
// per-layer overheads (backend dispatch, host-sync hooks) on the CPU path.
func BenchmarkSmallNetTrainStep(b *testing.B) {
	c1, _ := NewConv2d(3, 16, 3, 1, 1, true)
	c2, _ := NewConv2d(16, 32, 3, 1, 1, true)
	net := NewSequential(c1, NewBatchNorm2d(16), NewReLU(), NewMaxPool2d(2, 2),
		c2, NewReLU(), NewMaxPool2d(2, 2), NewFlatten(),
		NewLinear(32*8*8, 64, true), NewReLU(), NewDropout(0.5, 1), NewLinear(64, 10, true))
	net.SetTraining(true)
	ce, _ := NewCrossEntropy(0.1)
	x := tensor.New(8, 3, 32, 32)
	for i := range x.Data() {
		x.Data()[i] = float32(i%23) - 11
	}
	labels := []int{0, 1, 2, 3, 4, 5, 6, 7}
	for b.Loop() {
		y, err := net.Forward(x)
		if err != nil {
			b.Fatal(err)
		}
		_, g, err := ce.Forward(y, labels)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := net.Backward(g); err != nil {
			b.Fatal(err)
		}
	}
}

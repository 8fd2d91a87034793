//go:build ascend && ascendstub

package npu

import (
	"math/rand/v2"
	"testing"

	"github.com/govgg/govgg/conv"
	"github.com/govgg/govgg/layers"
)

// BenchmarkCallOverhead measures the host-side cost the binding adds to one warm
// operator call (key, executor lookup, mirror bookkeeping, copies to and from the
// stub's host "device"): a ReLU of 16 elements, and a 3×3 convolution on 1×1×4×4.
func BenchmarkCallOverhead(b *testing.B) {
	be, err := New()
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	b.Run("ReLU16", func(b *testing.B) {
		x, y := make([]float32, 16), make([]float32, 16)
		b.ReportAllocs()
		for b.Loop() {
			if err := be.ReLU(y, x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Conv4x4", func(b *testing.B) {
		op, err := be.NewConv(conv.Square3x3(1, 1, 4, 4))
		if err != nil {
			b.Fatal(err)
		}
		if err := op.SetWeights(make([]float32, 9), []float32{0}); err != nil {
			b.Fatal(err)
		}
		x, y := make([]float32, 16), make([]float32, 16)
		b.ReportAllocs()
		for b.Loop() {
			if err := op.Forward(y, x, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestSteadyStateAllocations: a warm training step through the backend allocates
// nothing in the binding (the layers allocate nothing either).
func TestSteadyStateAllocations(t *testing.T) {
	be := newStubBackend(t, WithLogger(func(string, ...any) {}))
	_, net := twin(t)
	net.SetBackend(be)
	net.SetTraining(true)
	ce, err := layers.NewCrossEntropy(0.1)
	if err != nil {
		t.Fatal(err)
	}
	ce.SetBackend(be)
	x := randTensor(rand.New(rand.NewPCG(17, 18)), 2, 3, 8, 8)
	labels := []int{0, 1}
	run := func() {
		y, err := net.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		_, g, err := ce.Forward(y, labels)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := net.Backward(g); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if a := testing.AllocsPerRun(5, run); a != 0 {
		t.Errorf("a warm training step allocates %g times", a)
	}
}

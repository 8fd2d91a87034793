package layers

import (
	"strings"
	"testing"

	"github.com/govgg/govgg/tensor"
)

// reluOnly is a backend that implements only the activation group, counting calls
// and delegating the arithmetic to the CPU backend.
type reluOnly struct{ fwd, bwd int }

func (b *reluOnly) Name() string { return "relu-only" }

func (b *reluOnly) ReLU(y, x []float32) error {
	b.fwd++
	return CPU().(ActivationBackend).ReLU(y, x)
}

func (b *reluOnly) ReLUBackward(dx, dy, y []float32) error {
	b.bwd++
	return CPU().(ActivationBackend).ReLUBackward(dx, dy, y)
}

func TestBackendFallback(t *testing.T) {
	be := &reluOnly{}
	lin := NewLinear(3, 2, true)
	net := NewSequential(lin, NewReLU(), NewLinear(2, 2, false), NewReLU())
	net.SetBackend(be)
	x := mustTensor(t, []float32{1, -2, 3, 0.5, 0.25, -1}, 2, 3)
	y, err := net.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.Backward(y); err != nil {
		t.Fatal(err)
	}
	if be.fwd != 2 || be.bwd != 2 {
		t.Errorf("backend saw %d ReLU forwards and %d backwards, want 2 and 2", be.fwd, be.bwd)
	}
	// Linear fell back to the CPU's GEMM: its gradient is still right.
	if lin.weight.Grad.Data()[0] == 0 && lin.weight.Grad.Data()[1] == 0 && lin.weight.Grad.Data()[2] == 0 {
		t.Error("Linear computed no gradient on the fallback path")
	}
	net.SetBackend(nil)
	if _, err := net.Forward(x); err != nil {
		t.Fatal(err)
	}
	if be.fwd != 2 {
		t.Error("SetBackend(nil) did not return the layers to the default backend")
	}
}

func TestBackendRegistry(t *testing.T) {
	be := &reluOnly{}
	if err := RegisterBackend("test-relu", be); err != nil {
		t.Fatal(err)
	}
	if err := RegisterBackend("test-relu", be); err == nil {
		t.Error("registering a name twice: no error")
	}
	if err := UseBackend("no-such"); err == nil || !strings.Contains(err.Error(), `unknown backend "no-such"`) {
		t.Errorf("UseBackend(unknown): err = %v", err)
	}
	if err := UseBackend("test-relu"); err != nil {
		t.Fatal(err)
	}
	defer UseBackend("cpu")
	if DefaultBackend().Name() != "relu-only" {
		t.Errorf("DefaultBackend() = %s", DefaultBackend().Name())
	}
	if _, err := NewReLU().Forward(tensor.New(1, 4)); err != nil {
		t.Fatal(err)
	}
	if be.fwd != 1 {
		t.Errorf("the default backend saw %d calls, want 1", be.fwd)
	}
	if got := strings.Join(Backends(), ","); !strings.Contains(got, "cpu") || !strings.Contains(got, "test-relu") {
		t.Errorf("Backends() = %s", got)
	}
}

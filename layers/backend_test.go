package layers

import (
	"slices"
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

func TestCPUBackendErrors(t *testing.T) {
	cpu := CPU()
	short := make([]float32, 3)
	long := make([]float32, 100)
	ps := PoolShape{N: 1, C: 2, H: 4, W: 4, Kernel: 3, Stride: 1}
	errs := []error{
		cpu.(ActivationBackend).ReLU(short, long),
		cpu.(ActivationBackend).ReLUBackward(long, short, long),
		cpu.(PoolBackend).MaxPool2d(long, make([]int32, 8), short, ps),
		cpu.(PoolBackend).MaxPool2dBackward(long, []int32{0, 1, 2, 99, 0, 0, 0, 0}, long, ps),
		cpu.(PoolBackend).MaxPool2d(long, make([]int32, 100), long, PoolShape{N: 1, C: 1, H: 2, W: 2, Kernel: 3, Stride: 1}),
		cpu.(BatchNormBackend).BatchNormTrain(long, short, short, short, long, short, short, 2, 4, 5, 1e-5),
		cpu.(BatchNormBackend).ChannelAffine(long, short, long, long, long, 2, 4, 20),
		cpu.(SoftmaxBackend).Softmax(long, short, 2, 5, 1),
		cpu.(DropoutBackend).Dropout(short, long, long, 0.5, 1, 1),
	}
	for i, err := range errs {
		if err == nil {
			t.Errorf("call %d: no error for inconsistent sizes", i)
		}
	}
	_, err := cpu.(SoftmaxBackend).SoftmaxCrossEntropy(long, long, []int{1}, long, 2, 5, 0)
	if err == nil {
		t.Error("SoftmaxCrossEntropy with both labels and soft targets: no error")
	}
	if err := cpu.(ActivationBackend).ReLU(short, long); !strings.Contains(err.Error(), "y has 3 elements, needs 100") {
		t.Errorf("error text %q", err)
	}
}

// syncCounter is the CPU backend plus HostSync, recording which buffers the layers
// bring to the host and announce as written.
type syncCounter struct {
	cpuBackend
	toHost, wrote map[*float32]int
}

func (b *syncCounter) Name() string { return "sync-counter" }

func (b *syncCounter) ToHost(buf []float32) error { b.toHost[&buf[0]]++; return nil }

func (b *syncCounter) HostWrote(buf []float32) { b.wrote[&buf[0]]++ }

// TestHostSyncCalls: a training step brings every gradient to the host once and
// announces every parameter that the backend reads (Linear, BatchNorm2d; Conv2d
// re-sends its weights through SetWeights) once, before the next Forward; ToHost
// reaches the backend of a Sequential's children.
func TestHostSyncCalls(t *testing.T) {
	c, err := NewConv2d(2, 3, 3, 1, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	bn, lin := NewBatchNorm2d(3), NewLinear(3*2*2, 4, true)
	net := NewSequential(c, bn, NewReLU(), NewMaxPool2d(2, 2), NewFlatten(), lin)
	be := &syncCounter{toHost: map[*float32]int{}, wrote: map[*float32]int{}}
	net.SetBackend(be)
	net.SetTraining(true)
	x := tensor.New(2, 2, 4, 4)
	for i := range x.Data() {
		x.Data()[i] = float32(i%7) - 3
	}
	for step := 1; step <= 2; step++ {
		clear(be.toHost)
		clear(be.wrote)
		y, err := net.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		if err := ToHost(net, y); err != nil {
			t.Fatal(err)
		}
		if be.toHost[&y.Data()[0]] != 1 {
			t.Errorf("step %d: ToHost(net, logits) did not reach the backend", step)
		}
		if _, err := net.Backward(y); err != nil {
			t.Fatal(err)
		}
		for _, p := range net.Params() {
			if n := be.toHost[&p.Grad.Data()[0]]; n != 1 {
				t.Errorf("step %d: gradient of %s brought to the host %d times, want 1", step, p.Name, n)
			}
			want := 1
			if strings.HasPrefix(p.Name, "0.") {
				want = 0 // the conv's weights go through SetWeights
			}
			if n := be.wrote[&p.Value.Data()[0]]; n != want {
				t.Errorf("step %d: %s announced %d times, want %d", step, p.Name, n, want)
			}
		}
		if be.toHost[&bn.mean[0]] != 1 || be.toHost[&bn.variance[0]] != 1 {
			t.Errorf("step %d: batch statistics not brought to the host for the running update", step)
		}
	}
}

// gemmSync has a GEMM and HostSync but no LinearBackend: Linear adds its bias and
// sums its bias gradient on the host and must say so.
type gemmSync struct{ toHost, wrote []*float32 }

func (b *gemmSync) Name() string { return "gemm-sync" }

func (b *gemmSync) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) error {
	return CPU().(GemmBackend).Sgemm(transA, transB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc)
}

func (b *gemmSync) ToHost(buf []float32) error { b.toHost = append(b.toHost, &buf[0]); return nil }

func (b *gemmSync) HostWrote(buf []float32) { b.wrote = append(b.wrote, &buf[0]) }

func TestLinearOnGemmBackend(t *testing.T) {
	be := &gemmSync{}
	ref, lin := NewLinear(3, 2, true), NewLinear(3, 2, true)
	for i, p := range lin.Params() {
		copy(p.Value.Data(), ref.Params()[i].Value.Data())
	}
	lin.SetBackend(be)
	x := mustTensor(t, []float32{1, -2, 3, 0.5, 0.25, -1}, 2, 3)
	dy := mustTensor(t, []float32{1, 2, -1, 0.5}, 2, 2)
	var got, want [][]float32
	for _, l := range []*Linear{ref, lin} {
		y, err := l.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		dx, err := l.Backward(dy)
		if err != nil {
			t.Fatal(err)
		}
		out := [][]float32{y.Data(), dx.Data(), l.weight.Grad.Data(), l.bias.Grad.Data()}
		if l == lin {
			got = out
		} else {
			want = out
		}
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("result %d: %v, want %v", i, got[i], want[i])
		}
	}
	if !slices.Contains(be.wrote, &lin.y.Data()[0]) {
		t.Error("the bias written into y on the host was not announced")
	}
	if !slices.Contains(be.toHost, &dy.Data()[0]) {
		t.Error("dy was not brought to the host for the bias gradient")
	}
}

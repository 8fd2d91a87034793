//go:build ascend && ascendstub

package npu

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/optim"
	"github.com/govgg/govgg/tensor"
	"github.com/govgg/govgg/train"
	"github.com/govgg/govgg/vgg"
)

// These tests run whole VGG models on the stub backend: the host↔device copies of
// a warm inference forward and of a warm training step, counted by the backend
// and by the stubs, and the numbers, which must equal the CPU backend's.

// smallVGG is VGG-11 with batch norm at 1/16 width with a 32-wide classifier
// (two dropouts) over a 1×1 feature map: 32×32 inputs, every layer kind of a VGG.
func smallVGG(t *testing.T, pool int) *vgg.Model {
	t.Helper()
	m, err := vgg.New11(vgg.WithBatchNorm(true), vgg.WithWidthDivisor(16), vgg.WithHidden(32),
		vgg.WithNumClasses(10), vgg.WithPoolSize(pool), vgg.WithSeed(5))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// copies are the host↔device transfers of some span of work.
type copies struct{ up, upBytes, down, downBytes int64 }

func (c copies) String() string {
	return fmt.Sprintf("%d up (%d B), %d down (%d B)", c.up, c.upBytes, c.down, c.downBytes)
}

// measure runs f and returns the copies it made, checking that the backend's
// counters agree with the stubs'.
func measure(t *testing.T, be *Backend, f func()) copies {
	t.Helper()
	s0, l0 := be.Stats(), stubLive()
	f()
	s1, l1 := be.Stats(), stubLive()
	c := copies{s1.Uploads - s0.Uploads, s1.UploadBytes - s0.UploadBytes, s1.Downloads - s0.Downloads, s1.DownloadBytes - s0.DownloadBytes}
	if c.up != l1.H2D-l0.H2D || c.down != l1.D2H-l0.D2H {
		t.Errorf("backend counted %v, the stubs %d up and %d down", c, l1.H2D-l0.H2D, l1.D2H-l0.D2H)
	}
	return c
}

func bytesOf(ps []*layers.Param) (n int64) {
	for _, p := range ps {
		n += int64(4 * p.Value.Len())
	}
	return n
}

// TestVGGInferenceCopies: a warm evaluation forward copies the image up and the
// logits down, nothing else, and gives the CPU's logits.
func TestVGGInferenceCopies(t *testing.T) {
	be := newStubBackend(t)
	cpuM, m := smallVGG(t, 1), smallVGG(t, 1)
	m.SetBackend(be)
	x := randTensor(rand.New(rand.NewPCG(21, 22)), 2, 3, 32, 32)
	var y *tensor.Tensor
	forward := func() {
		var err error
		if y, err = m.Forward(x); err != nil {
			t.Fatal(err)
		}
	}
	first := measure(t, be, forward)
	for i := 0; i < 2; i++ {
		x.Data()[i] += 0.5 // a new image in the same buffer
		warm := measure(t, be, forward)
		want := copies{1, int64(4 * x.Len()), 1, int64(4 * y.Len())}
		if warm != want {
			t.Errorf("warm forward %d: %v, want %v (image up, logits down)", i, warm, want)
		}
		yc, err := cpuM.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "logits", y.Data(), yc.Data(), 1e-4)
	}
	t.Logf("inference forward, batch 2: first %v; warm %v", first, measure(t, be, forward))
}

// trainStep is one step of model training: forward, loss, backward, optimizer.
type trainStep struct {
	m   *vgg.Model
	ce  *layers.CrossEntropy
	opt optim.Optimizer
}

func newTrainStep(t *testing.T, m *vgg.Model, be layers.Backend) *trainStep {
	t.Helper()
	m.SetBackend(be)
	ce, err := layers.NewCrossEntropy(0.1)
	if err != nil {
		t.Fatal(err)
	}
	ce.SetBackend(be)
	opt, err := optim.NewSGD(m.Params(), optim.WithLR(0.05), optim.WithMomentum(0.9),
		optim.WithWeightDecay(1e-4), optim.WithParamsChanged(m.ParamsChanged))
	if err != nil {
		t.Fatal(err)
	}
	m.SetTraining(true)
	return &trainStep{m, ce, opt}
}

func (s *trainStep) run(t *testing.T, x *tensor.Tensor, labels []int) (logits []float32, loss float32) {
	t.Helper()
	y, err := s.m.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	loss, g, err := s.ce.Forward(y, labels)
	if err != nil {
		t.Fatal(err)
	}
	logits = slices.Clone(y.Data())
	if err := s.m.Backward(g); err != nil {
		t.Fatal(err)
	}
	if err := s.opt.Step(); err != nil {
		t.Fatal(err)
	}
	return logits, loss
}

// TestVGGTrainingStepCopies: a warm training step (SGD with momentum on the host)
// gives the CPU's logits, loss, gradients and updated parameters, and copies
// exactly: up, the image, the labels, every parameter (the optimizer changed them
// on the host) and the two dropout masks (drawn on the host); down, the logits
// (vgg.Model.Forward returns them on the host), the loss, every parameter
// gradient (the optimizer reads them) and each batch norm's batch mean and 1/std
// (its running statistics are updated on the host).
func TestVGGTrainingStepCopies(t *testing.T) {
	be := newStubBackend(t, WithLogger(func(string, ...any) {}))
	cpuM, m := smallVGG(t, 1), smallVGG(t, 1)
	cpuS, s := newTrainStep(t, cpuM, nil), newTrainStep(t, m, be)
	r := rand.New(rand.NewPCG(23, 24))
	x := randTensor(r, 2, 3, 32, 32)
	labels := []int{3, 8}

	params := m.Params()
	nBN, bnBytes := 0, int64(0)
	for _, l := range m.Features().Layers() {
		if bn, ok := l.(*layers.BatchNorm2d); ok {
			nBN++
			bnBytes += 2 * int64(4*bn.Params()[0].Value.Len())
		}
	}
	const dropouts, batch, classes, hidden = 2, 2, 10, 32
	want := copies{
		up:        1 + 1 + int64(len(params)) + dropouts,
		upBytes:   int64(4*x.Len()) + 8*batch + bytesOf(params) + dropouts*4*batch*hidden,
		down:      1 + 1 + int64(len(params)) + int64(2*nBN),
		downBytes: 4*batch*classes + 4 + bytesOf(params) + bnBytes,
	}
	for step := 0; step < 4; step++ {
		for i := range x.Data() {
			x.Data()[i] = float32(r.NormFloat64())
		}
		yc, lc := cpuS.run(t, x, labels)
		var yn []float32
		var ln float32
		got := measure(t, be, func() { yn, ln = s.run(t, x, labels) })
		near(t, fmt.Sprintf("step %d logits", step), yn, yc, 1e-4)
		near(t, fmt.Sprintf("step %d loss", step), []float32{ln}, []float32{lc}, 1e-5)
		pc := cpuM.Params()
		for i, p := range params {
			near(t, fmt.Sprintf("step %d grad %s", step, p.Name), p.Grad.Data(), pc[i].Grad.Data(), 1e-3)
			near(t, fmt.Sprintf("step %d updated %s", step, p.Name), p.Value.Data(), pc[i].Value.Data(), 1e-4)
		}
		for i, b := range m.Buffers() {
			near(t, fmt.Sprintf("step %d %s", step, b.Name), b.Value.Data(), cpuM.Buffers()[i].Value.Data(), 1e-4)
		}
		if step == 0 {
			t.Logf("training step, batch 2, first: %v", got)
			continue
		}
		if got != want {
			t.Errorf("warm step %d: %v, want %v", step, got, want)
		}
		if step == 3 {
			t.Logf("training step, batch 2, warm: %v (%d parameter tensors, %d batch norms)", got, len(params), nBN)
		}
	}
	if f := be.Stats().Fallbacks; f != 0 {
		t.Errorf("%d calls ran on the CPU, want none", f)
	}
}

// TestVGGAdaptivePoolOnHost: the adaptive pool computes on the host, so its input
// and gradient come down and its output and input gradient go up; the results
// still equal the CPU's.
func TestVGGAdaptivePoolOnHost(t *testing.T) {
	be := newStubBackend(t, WithLogger(func(string, ...any) {}))
	cpuM, m := smallVGG(t, 2), smallVGG(t, 2) // 1×1 feature map pooled to 2×2
	cpuS, s := newTrainStep(t, cpuM, nil), newTrainStep(t, m, be)
	x := randTensor(rand.New(rand.NewPCG(25, 26)), 2, 3, 32, 32)
	for step := 0; step < 2; step++ {
		yc, lc := cpuS.run(t, x, []int{1, 2})
		yn, ln := s.run(t, x, []int{1, 2})
		near(t, "logits", yn, yc, 1e-4)
		near(t, "loss", []float32{ln}, []float32{lc}, 1e-5)
		pc := cpuM.Params()
		for i, p := range m.Params() {
			near(t, "updated "+p.Name, p.Value.Data(), pc[i].Value.Data(), 1e-4)
		}
	}
	m.SetTraining(false)
	cpuM.SetTraining(false)
	yn, err := m.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	yc, err := cpuM.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "eval logits", yn.Data(), yc.Data(), 1e-4)
}

// TestTrainerOnDevice: train.Trainer's step (gradient clipping and the EMA read
// and write the gradients and parameters on the host) gives the CPU's parameters,
// batch-norm statistics and loss when the model and its loss run on the device.
func TestTrainerOnDevice(t *testing.T) {
	be := newStubBackend(t, WithLogger(func(string, ...any) {}))
	var trainers [2]*train.Trainer
	var models [2]*vgg.Model
	for i, b := range []layers.Backend{nil, be} {
		m := smallVGG(t, 1)
		m.SetBackend(b)
		ce, err := layers.NewCrossEntropy(0.1)
		if err != nil {
			t.Fatal(err)
		}
		ce.SetBackend(b)
		opt, err := optim.NewSGD(m.Params(), optim.WithLR(0.05), optim.WithMomentum(0.9), optim.WithParamsChanged(m.ParamsChanged))
		if err != nil {
			t.Fatal(err)
		}
		if trainers[i], err = train.New(m, opt, ce, train.WithClipGrad(0.5), train.WithEMA(0.9), train.WithProgress(false)); err != nil {
			t.Fatal(err)
		}
		models[i] = m
	}
	r := rand.New(rand.NewPCG(27, 28))
	x := randTensor(r, 2, 3, 32, 32)
	for step := 0; step < 3; step++ {
		var loss [2]float32
		for i, tr := range trainers {
			var err error
			if loss[i], err = tr.Step(x, []int{step, 9 - step}); err != nil {
				t.Fatal(err)
			}
		}
		near(t, fmt.Sprintf("step %d loss", step), loss[1:], loss[:1], 1e-5)
		for i, p := range models[1].StateDict() {
			near(t, fmt.Sprintf("step %d %s", step, p.Name), p.Value.Data(), models[0].StateDict()[i].Value.Data(), 1e-4)
		}
		x.Data()[step] += 1
	}
}

//go:build ascend && ascendstub

package npu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/govgg/govgg/conv"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/tensor"
)

// These tests run the backend against the C stubs of stub_ascend.c, which compute
// float64-accumulated reference results: a network on the "NPU" must match the same
// network on the CPU backend, which checks the bindings' descriptors and the
// residency rules (a stale mirror gives wrong numbers), and the stubs' log and
// counters check call order, executor reuse and that everything created is destroyed.

// smallNet is a VGG in miniature: conv-BN-ReLU-pool, conv-ReLU-pool, then the
// classifier Linear-ReLU-Dropout-Linear.
func smallNet(t *testing.T) *layers.Sequential {
	t.Helper()
	c1, err := layers.NewConv2d(3, 4, 3, 1, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := layers.NewConv2d(4, 6, 3, 1, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	return layers.NewSequential(c1, layers.NewBatchNorm2d(4), layers.NewReLU(), layers.NewMaxPool2d(2, 2),
		c2, layers.NewReLU(), layers.NewMaxPool2d(2, 2), layers.NewFlatten(),
		layers.NewLinear(6*2*2, 8, true), layers.NewReLU(), layers.NewDropout(0.5, 7), layers.NewLinear(8, 5, true))
}

// twin returns two copies of smallNet with equal parameters.
func twin(t *testing.T) (a, b *layers.Sequential) {
	a, b = smallNet(t), smallNet(t)
	pa, pb := a.Params(), b.Params()
	for i := range pa {
		copy(pb[i].Value.Data(), pa[i].Value.Data())
	}
	b.ParamsChanged()
	return a, b
}

func randTensor(r *rand.Rand, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	for i := range x.Data() {
		x.Data()[i] = float32(r.NormFloat64())
	}
	return x
}

// withPoison fills every host buffer whose device copy is newer with NaN, so a
// test that reads one without ToHost fails.
func withPoison() Option { return func(c *config) { c.poison = true } }

func newStubBackend(t *testing.T, opts ...Option) *Backend {
	t.Helper()
	b, err := New(append([]Option{withPoison()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

// host brings s to the host and returns it.
func host(t *testing.T, be *Backend, s []float32) []float32 {
	t.Helper()
	if err := be.ToHost(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func near(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(w) != math.IsNaN(g) || math.Abs(g-w) > tol*(1+math.Abs(w)) {
			t.Fatalf("%s[%d] = %g, want %g", what, i, g, w)
		}
	}
}

// step runs a training step (forward, cross-entropy, backward) and returns the
// logits and the loss.
func step(t *testing.T, net *layers.Sequential, be layers.Backend, x *tensor.Tensor, labels []int) ([]float32, float32) {
	t.Helper()
	ce, err := layers.NewCrossEntropy(0.1)
	if err != nil {
		t.Fatal(err)
	}
	ce.SetBackend(be)
	y, err := net.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	if err := layers.ToHost(net, y); err != nil {
		t.Fatal(err)
	}
	loss, grad, err := ce.Forward(y, labels)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.Backward(grad); err != nil {
		t.Fatal(err)
	}
	return slices.Clone(y.Data()), loss
}

func TestTrainingStepMatchesCPU(t *testing.T) {
	be := newStubBackend(t, WithLogger(func(string, ...any) {}))
	cpuNet, npuNet := twin(t)
	npuNet.SetBackend(be)
	for _, n := range []*layers.Sequential{cpuNet, npuNet} {
		n.SetTraining(true)
	}
	r := rand.New(rand.NewPCG(1, 2))
	x := randTensor(r, 2, 3, 8, 8)
	labels := []int{1, 4}
	for it := 0; it < 3; it++ {
		yc, lc := step(t, cpuNet, nil, x, labels)
		yn, ln := step(t, npuNet, be, x, labels)
		near(t, fmt.Sprintf("step %d logits", it), yn, yc, 1e-4)
		near(t, fmt.Sprintf("step %d loss", it), []float32{ln}, []float32{lc}, 1e-5)
		pc, pn := cpuNet.Params(), npuNet.Params()
		for i := range pc {
			near(t, fmt.Sprintf("step %d grad %s", it, pc[i].Name), pn[i].Grad.Data(), pc[i].Grad.Data(), 1e-3)
		}
		// An SGD step on the host, as an optimizer does (between Backward and
		// the next Forward, which the layers assume without ParamsChanged);
		// then the user's input buffer is refilled in place, as a data loader does.
		for _, ps := range [][]*layers.Param{pc, pn} {
			for _, p := range ps {
				for j, g := range p.Grad.Data() {
					p.Value.Data()[j] -= 0.05 * g
				}
			}
		}
		for i := range x.Data() {
			x.Data()[i] = float32(r.NormFloat64())
		}
	}
	// Evaluation mode: the Sequential folds BN into the conv and fuses the ReLU.
	cpuNet.SetTraining(false)
	npuNet.SetTraining(false)
	for it := 0; it < 2; it++ {
		yc, err := cpuNet.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(yc.Data())
		yn, err := npuNet.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "eval logits", host(t, be, yn.Data()), want, 1e-4)
		x.Data()[it] += 1
	}
	if s := be.Stats(); s.Fallbacks != 0 {
		t.Errorf("%d calls ran on the CPU, want none", s.Fallbacks)
	}
}

// TestForwardCalls checks, for an evaluation forward, the operators and their
// order, the descriptors of the first convolution, that a second forward reuses
// every executor, and what it copies.
func TestForwardCalls(t *testing.T) {
	be := newStubBackend(t)
	_, net := twin(t)
	net.SetBackend(be)
	x := randTensor(rand.New(rand.NewPCG(3, 4)), 2, 3, 8, 8)
	stubLogReset()
	if _, err := net.Forward(x); err != nil {
		t.Fatal(err)
	}
	var phase1, phase2 []string
	var conv *stubRec
	for _, r := range stubLog() {
		if name, ok := strings.CutSuffix(r.Op, "GetWorkspaceSize"); ok {
			phase1 = append(phase1, name)
			if conv == nil && name == "aclnnConvolution" {
				conv = &r
			}
			continue
		}
		if strings.HasPrefix(r.Op, "aclnn") {
			phase2 = append(phase2, r.Op)
		}
	}
	want := []string{"aclnnConvolution", "aclnnInplaceRelu", "aclnnMaxPool2dWithIndices", // BN folded, ReLU fused
		"aclnnConvolution", "aclnnInplaceRelu", "aclnnMaxPool2dWithIndices",
		"aclnnMm", "aclnnInplaceAdd", "aclnnInplaceRelu", "aclnnMm", "aclnnInplaceAdd"} // Dropout is the identity
	if !slices.Equal(phase2, want) || !slices.Equal(phase1, want) {
		t.Fatalf("operators:\nphase 1 %v\nphase 2 %v\nwant    %v", phase1, phase2, want)
	}
	// input, weight, bias, output of conv 1 (3→4 on 2×3×8×8).
	type d struct {
		dims, strides []int64
	}
	wantT := []d{{[]int64{2, 3, 8, 8}, []int64{192, 64, 8, 1}}, {[]int64{4, 3, 3, 3}, []int64{27, 9, 3, 1}},
		{[]int64{4}, []int64{1}}, {[]int64{2, 4, 8, 8}, []int64{256, 64, 8, 1}}}
	for i, w := range wantT {
		got := conv.Tensors[i]
		if !slices.Equal(got.Dims, w.dims) || !slices.Equal(got.Strides, w.strides) || got.DType != 0 {
			t.Errorf("conv tensor %d: dims %v strides %v dtype %d, want %v %v float", i, got.Dims, got.Strides, got.DType, w.dims, w.strides)
		}
		if wantFmt := map[bool]int{true: 2, false: 0}[i == 2]; got.Format != wantFmt {
			t.Errorf("conv tensor %d: format %d, want %d", i, got.Format, wantFmt)
		}
	}
	if conv.Cube != int(AllowDownPrecision) {
		t.Errorf("conv cubeMathType %d, want %d", conv.Cube, AllowDownPrecision)
	}
	// Second forward: no executor is built, only the image goes up (the
	// parameters are on the device since the first), and only the logits come
	// back, when asked for.
	before, live := be.Stats(), stubLive()
	stubLogReset()
	y, err := net.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	if err := layers.ToHost(net, y); err != nil {
		t.Fatal(err)
	}
	after, live2 := be.Stats(), stubLive()
	if after.ExecutorsBuilt != before.ExecutorsBuilt || after.ExecutorsReused-before.ExecutorsReused != int64(len(want)) {
		t.Errorf("second forward built %d and reused %d executors, want 0 and %d",
			after.ExecutorsBuilt-before.ExecutorsBuilt, after.ExecutorsReused-before.ExecutorsReused, len(want))
	}
	for _, r := range stubLog() {
		if strings.HasSuffix(r.Op, "GetWorkspaceSize") {
			t.Errorf("second forward called %s", r.Op)
		}
	}
	if up := live2.H2D - live.H2D; up != 1 || after.UploadBytes-before.UploadBytes != int64(4*x.Len()) {
		t.Errorf("second forward uploaded %d buffers (%d bytes), want the image", up, after.UploadBytes-before.UploadBytes)
	}
	if down := live2.D2H - live.D2H; down != 1 || after.DownloadBytes-before.DownloadBytes != int64(4*y.Len()) {
		t.Errorf("second forward downloaded %d buffers (%d bytes), want the logits", down, after.DownloadBytes-before.DownloadBytes)
	}
}

// TestCloseDestroysEverything: every tensor, array, scalar, executor, device buffer
// and stream the backend created is destroyed by Close.
func TestCloseDestroysEverything(t *testing.T) {
	base := stubLive()
	be, err := New(WithLogger(func(string, ...any) {}))
	if err != nil {
		t.Fatal(err)
	}
	_, net := twin(t)
	net.SetBackend(be)
	net.SetTraining(true)
	step(t, net, be, randTensor(rand.New(rand.NewPCG(5, 6)), 2, 3, 8, 8), []int{0, 3})
	if l := stubLive(); l.Executors == base.Executors || l.Tensors == base.Tensors || l.Mallocs == base.Mallocs {
		t.Fatalf("nothing was created: %+v", l)
	}
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	got := stubLive()
	got.Syncs, got.H2D, got.D2H = base.Syncs, base.H2D, base.D2H
	if got != base {
		t.Errorf("after Close: live %+v, want %+v", got, base)
	}
	if be.Stats().DeviceBytes != 0 {
		t.Errorf("DeviceBytes = %d after Close", be.Stats().DeviceBytes)
	}
	if _, err := net.Forward(tensor.New(2, 3, 8, 8)); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Forward after Close: err = %v", err)
	}
}

// TestSgemmViews: transposes and leading dimensions become strides; with ldc > n
// the padding of C survives.
func TestSgemmViews(t *testing.T) {
	be := newStubBackend(t)
	r := rand.New(rand.NewPCG(7, 8))
	fill := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
		return s
	}
	const m, n, k = 5, 7, 3
	for _, tc := range []struct {
		ta, tb      bool
		alpha, beta float32
		ldc         int
	}{{false, false, 1, 0, n}, {true, false, 1, 0, n + 2}, {false, true, 2, 0.5, n}, {true, true, 1, 1, n + 1}} {
		lda, ldb := k+1, n+3
		if tc.ta {
			lda = m + 2
		}
		if tc.tb {
			ldb = k + 1
		}
		a, b := fill(lda*max(m, k)), fill(ldb*max(k, n))
		c := fill(m * tc.ldc)
		want := slices.Clone(c)
		if err := layers.CPU().(layers.GemmBackend).Sgemm(tc.ta, tc.tb, m, n, k, tc.alpha, a, lda, b, ldb, tc.beta, want, tc.ldc); err != nil {
			t.Fatal(err)
		}
		if err := be.Sgemm(tc.ta, tc.tb, m, n, k, tc.alpha, a, lda, b, ldb, tc.beta, c, tc.ldc); err != nil {
			t.Fatal(err)
		}
		near(t, fmt.Sprintf("Sgemm%+v", tc), host(t, be, c), want, 1e-5)
	}
}

func TestDropoutMaskMatchesCPU(t *testing.T) {
	be := newStubBackend(t)
	x := randTensor(rand.New(rand.NewPCG(9, 10)), 1001).Data()
	for _, p := range []float32{0, 0.1, 0.5, 0.9, 1} {
		yc, mc := make([]float32, len(x)), make([]float32, len(x))
		yn, mn := make([]float32, len(x)), make([]float32, len(x))
		if err := layers.CPU().(layers.DropoutBackend).Dropout(yc, mc, x, p, 42, 3); err != nil {
			t.Fatal(err)
		}
		if err := be.Dropout(yn, mn, x, p, 42, 3); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(host(t, be, mn), mc) || !slices.Equal(host(t, be, yn), yc) {
			t.Errorf("p=%g: mask or output differs from the CPU backend's", p)
		}
	}
}

// TestCrossEntropy: with class indices the loss and its gradient come from
// aclnnCrossEntropyLoss(Grad) and equal the CPU's, reusing the executors; with
// probability targets it runs on the CPU with one notice; a bad label is the
// CPU's error.
func TestCrossEntropy(t *testing.T) {
	var lines []string
	be := newStubBackend(t, WithLogger(func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }))
	logits := []float32{1, 2, 3, -1, 0, 1}
	soft := []float32{0.2, 0.3, 0.5, 1, 0, 0}
	cb := layers.CPU().(layers.SoftmaxBackend)
	g, want := make([]float32, 6), make([]float32, 6)
	cases := []struct {
		labels []int
		soft   []float32
	}{{[]int{2, 0}, nil}, {nil, soft}}
	for i := 0; i < 3; i++ {
		for _, tc := range cases {
			loss, err := be.SoftmaxCrossEntropy(g, logits, tc.labels, tc.soft, 2, 3, 0.1)
			if err != nil {
				t.Fatal(err)
			}
			wl, _ := cb.SoftmaxCrossEntropy(want, logits, tc.labels, tc.soft, 2, 3, 0.1)
			near(t, "loss", []float32{float32(loss)}, []float32{float32(wl)}, 1e-6)
			near(t, "grad", host(t, be, g), want, 1e-6)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "SoftmaxCrossEntropy runs on the CPU") {
		t.Errorf("notices %q, want one about SoftmaxCrossEntropy with probability targets", lines)
	}
	if s := be.Stats(); s.ExecutorsBuilt != 2 {
		t.Errorf("%d executors built for 3 cross-entropies, want 2", s.ExecutorsBuilt)
	}
	_, werr := cb.SoftmaxCrossEntropy(make([]float32, 6), logits, []int{2, 3}, nil, 2, 3, 0)
	if _, err := be.SoftmaxCrossEntropy(make([]float32, 6), logits, []int{2, 3}, nil, 2, 3, 0); err == nil || werr == nil || err.Error() != werr.Error() {
		t.Errorf("label 3 of 3 classes: err = %v, want the CPU's %v", err, werr)
	}
}

func TestDeviceFromMPIRank(t *testing.T) {
	t.Setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1")
	stubLogReset()
	be := newStubBackend(t)
	_ = be
	var dev []int
	for _, r := range stubLog() {
		if r.Op == "aclrtSetDevice" {
			dev = append(dev, r.Cube) // the stub logs the device id there
		}
	}
	if !slices.Equal(dev, []int{1}) {
		t.Errorf("aclrtSetDevice calls %v, want [1]", dev)
	}
	t.Setenv("OMPI_COMM_WORLD_LOCAL_RANK", "7")
	if _, err := New(); err == nil || !strings.Contains(err.Error(), "device 7 does not exist") {
		t.Errorf("New on a missing device: err = %v", err)
	}
}

// TestUse: the backend is registered as "ascend"; Use makes it every layer's
// default, and options after it started are refused.
func TestUse(t *testing.T) {
	if !slices.Contains(layers.Backends(), Name) {
		t.Fatalf("backends %v lack %q", layers.Backends(), Name)
	}
	if err := Use(WithLogger(func(string, ...any) {})); err != nil {
		t.Fatal(err)
	}
	defer layers.UseBackend("cpu")
	if got := layers.DefaultBackend().Name(); got != Name {
		t.Fatalf("default backend %q", got)
	}
	before := defaultBackend.Stats().Launches
	x := tensor.New(2, 3)
	x.Data()[1] = -1
	if _, err := layers.NewReLU().Forward(x); err != nil {
		t.Fatal(err)
	}
	if defaultBackend.Stats().Launches == before {
		t.Error("a layer without a backend of its own did not run on the default ascend backend")
	}
	if err := Use(WithDevice(1)); err == nil || !strings.Contains(err.Error(), "already started") {
		t.Errorf("Use with options after start: err = %v", err)
	}
}

// TestFreeze: parameters are not uploaded again, until Invalidate; a frozen
// operand of a raw Sgemm goes up once, in Freeze.
func TestFreeze(t *testing.T) {
	be := newStubBackend(t)
	cpuNet, net := twin(t)
	net.SetBackend(be)
	x := randTensor(rand.New(rand.NewPCG(11, 12)), 2, 3, 8, 8)
	var vals [][]float32
	for _, p := range net.Params() {
		vals = append(vals, p.Value.Data())
	}
	if err := be.Freeze(vals...); err != nil {
		t.Fatal(err)
	}
	forward := func() int64 {
		t.Helper()
		before := stubLive().H2D
		y, err := net.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		want, err := cpuNet.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "logits", host(t, be, y.Data()), want.Data(), 1e-4)
		return stubLive().H2D - before
	}
	forward() // the layers announce their parameters on their first Forward
	if up := forward(); up != 1 {
		t.Errorf("warm forward with frozen weights uploaded %d buffers, want 1 (the image)", up)
	}
	// Change the classifier's weights on both nets: after Invalidate the NPU
	// uploads them again and agrees with the CPU.
	for _, n := range []*layers.Sequential{cpuNet, net} {
		for _, p := range n.Params() {
			if strings.HasPrefix(p.Name, "11.") {
				p.Value.Data()[0] += 0.5
			}
		}
	}
	be.Invalidate()
	if up := forward(); up <= 1 {
		t.Errorf("forward after Invalidate uploaded %d buffers", up)
	}

	a, w, c := make([]float32, 6), make([]float32, 12), make([]float32, 8)
	for i := range w {
		w[i] = float32(i)
	}
	if err := be.Freeze(w); err != nil {
		t.Fatal(err)
	}
	before := stubLive().H2D
	for i := 0; i < 2; i++ {
		a[i] = 1
		if err := be.Sgemm(false, false, 2, 4, 3, 1, a, 3, w, 4, 0, c, 4); err != nil {
			t.Fatal(err)
		}
	}
	if up := stubLive().H2D - before; up != 2 {
		t.Errorf("two products with a frozen operand uploaded %d buffers, want 2 (the other operand each time)", up)
	}
	if got := host(t, be, c); got[0] != 4 || got[3] != 10 || got[4] != 0 {
		t.Errorf("product with a frozen operand: %v", got)
	}
}

// TestFusedReLUProbe: the backend sees conv.WithReLU through a one-pixel CPU plan,
// whatever algorithm is forced.
func TestFusedReLUProbe(t *testing.T) {
	g := conv.Square3x3(8, 8, 12, 12)
	for _, a := range []conv.Algorithm{conv.Auto, conv.Im2col, conv.WinogradF23, conv.WinogradF43, conv.WinogradF63} {
		for _, relu := range []bool{false, true} {
			got, err := fusedReLU(g, []conv.Option{conv.WithAlgorithm(a), conv.WithReLU(relu)})
			if err != nil || got != relu {
				t.Errorf("%v, WithReLU(%v): probe says %v, %v", a, relu, got, err)
			}
		}
	}
	g = conv.Geometry{C: 3, H: 9, W: 9, K: 2, R: 5, S: 3, StrideH: 2, StrideW: 1, PadH: 2, DilH: 2, DilW: 1}
	if got, err := fusedReLU(g, []conv.Option{conv.WithReLU(true)}); err != nil || !got {
		t.Errorf("strided, dilated 5×3: probe says %v, %v", got, err)
	}
	if got, err := fusedReLU(g, nil); err != nil || got {
		t.Errorf("no options: probe says %v, %v", got, err)
	}
}

// TestOpsMatchCPU compares the operations the small network does not reach with
// the CPU backend: softmax, evaluation-mode batch norm (affine and backward), ReLU
// out of place, a 3×3/2 pooling.
func TestOpsMatchCPU(t *testing.T) {
	be := newStubBackend(t)
	cb := layers.CPU()
	r := rand.New(rand.NewPCG(13, 14))
	rnd := func(n int) []float32 { return randTensor(r, n).Data() }
	pair := func(n int) ([]float32, []float32) { return make([]float32, n), make([]float32, n) }

	const outer, c, inner = 3, 5, 4
	x, dy := rnd(outer*c*inner), rnd(outer*c*inner)
	yn, yc := pair(len(x))
	must(t, be.Softmax(yn, x, outer, c, inner), cb.(layers.SoftmaxBackend).Softmax(yc, x, outer, c, inner))
	near(t, "Softmax", host(t, be, yn), yc, 1e-6)
	dn, dc := pair(len(x))
	must(t, be.SoftmaxBackward(dn, dy, yc, outer, c, inner), cb.(layers.SoftmaxBackend).SoftmaxBackward(dc, dy, yc, outer, c, inner))
	near(t, "SoftmaxBackward", host(t, be, dn), dc, 1e-6)

	const n, ch, hw = 2, 3, 10
	x, dy = rnd(n*ch*hw), rnd(n*ch*hw)
	mean, scale, shift, gamma := rnd(ch), rnd(ch), rnd(ch), rnd(ch)
	invStd := make([]float32, ch)
	for i := range invStd {
		invStd[i] = 0.5 + float32(i)
	}
	yn, yc = pair(len(x))
	must(t, be.ChannelAffine(yn, x, mean, scale, shift, n, ch, hw), cb.(layers.BatchNormBackend).ChannelAffine(yc, x, mean, scale, shift, n, ch, hw))
	near(t, "ChannelAffine", host(t, be, yn), yc, 1e-5)
	for _, batch := range []bool{false, true} {
		dxn, dxc := pair(len(x))
		gn, gc := pair(ch)
		bn, bc := pair(ch)
		must(t, be.BatchNormBackward(dxn, gn, bn, dy, x, gamma, mean, invStd, n, ch, hw, batch),
			cb.(layers.BatchNormBackend).BatchNormBackward(dxc, gc, bc, dy, x, gamma, mean, invStd, n, ch, hw, batch))
		near(t, fmt.Sprintf("BatchNormBackward(batchStats=%v) dx", batch), host(t, be, dxn), dxc, 1e-5)
		near(t, "dgamma", host(t, be, gn), gc, 1e-5)
		near(t, "dbeta", host(t, be, bn), bc, 1e-5)
	}
	x = rnd(50)
	x[3] = float32(math.NaN())
	yn, yc = pair(len(x))
	must(t, be.ReLU(yn, x), cb.(layers.ActivationBackend).ReLU(yc, x))
	near(t, "ReLU", host(t, be, yn), yc, 0)

	s := layers.PoolShape{N: 2, C: 2, H: 7, W: 9, Kernel: 3, Stride: 2}
	x = rnd(s.N * s.C * s.H * s.W)
	out := s.N * s.C * s.OutH() * s.OutW()
	yn, yc = pair(out)
	in, ic := make([]int32, out), make([]int32, out)
	must(t, be.MaxPool2d(yn, in, x, s), cb.(layers.PoolBackend).MaxPool2d(yc, ic, x, s))
	near(t, "MaxPool2d", host(t, be, yn), yc, 0)
	if err := be.ToHost(unsafe.Slice((*float32)(unsafe.Pointer(&in[0])), len(in))); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in, ic) {
		t.Errorf("MaxPool2d indices %v, want %v", in, ic)
	}
	dy = rnd(out)
	dxn, dxc := pair(len(x))
	must(t, be.MaxPool2dBackward(dxn, in, dy, s), cb.(layers.PoolBackend).MaxPool2dBackward(dxc, ic, dy, s))
	near(t, "MaxPool2dBackward", host(t, be, dxn), dxc, 1e-6)
}

func must(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestBadInput: wrong sizes are errors that name the problem, not panics.
func TestBadInput(t *testing.T) {
	be := newStubBackend(t)
	op, err := be.NewConv(conv.Square3x3(2, 3, 4, 4))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{op.Forward(make([]float32, 96), make([]float32, 64), 2), "no weights"},
		{op.SetWeights(make([]float32, 5), nil), "want 54"},
		{be.ReLU(make([]float32, 2), make([]float32, 3)), "ReLU"},
		{be.Softmax(make([]float32, 5), make([]float32, 6), 2, 3, 1), "softmax"},
		{be.MaxPool2d(nil, nil, nil, layers.PoolShape{N: 1, C: 1, H: 1, W: 1, Kernel: 2, Stride: 2}), "max-pool"},
		{be.Sgemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2), ""},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("err = %v, want one containing %q", tc.err, tc.want)
		}
	}
	if err := op.SetWeights(make([]float32, 54), make([]float32, 3)); err != nil {
		t.Fatal(err)
	}
	if err := op.Forward(make([]float32, 96), make([]float32, 63), 2); err == nil || !strings.Contains(err.Error(), "x has 63 elements") {
		t.Errorf("Forward with a short x: %v", err)
	}
	if _, err := be.NewConv(conv.Geometry{C: 1, H: 1, W: 1, K: 1, R: 3, S: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}); err == nil {
		t.Error("NewConv accepted a kernel larger than the input")
	}
}

// TestRejectedOperatorFallsBack: an operator the device rejects in phase 1 runs on
// the CPU, logged once, and its output is not mistaken for a current device copy.
func TestRejectedOperatorFallsBack(t *testing.T) {
	var lines []string
	be := newStubBackend(t, WithLogger(func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }))
	base := stubLive()
	stubReject("aclnnRelu")
	defer stubReject("")
	x := randTensor(rand.New(rand.NewPCG(15, 16)), 64).Data()
	y, want, dx, dy := make([]float32, 64), make([]float32, 64), make([]float32, 64), make([]float32, 64)
	for i := range dy {
		dy[i] = 1
	}
	for i := 0; i < 2; i++ {
		x[0] = -x[0] // the host changes the input between calls
		if err := be.ReLU(y, x); err != nil {
			t.Fatal(err)
		}
	}
	if err := layers.CPU().(layers.ActivationBackend).ReLU(want, x); err != nil {
		t.Fatal(err)
	}
	near(t, "ReLU on the CPU", y, want, 0)
	// y was written by the CPU: the NPU's ReLU backward must upload it.
	up := stubLive().H2D
	if err := be.ReLUBackward(dx, dy, y); err != nil {
		t.Fatal(err)
	}
	host(t, be, dx)
	if stubLive().H2D-up != 2 {
		t.Errorf("ReLUBackward uploaded %d buffers, want 2 (dy and the CPU-written y)", stubLive().H2D-up)
	}
	for i := range dx {
		if (y[i] > 0) != (dx[i] == 1) {
			t.Fatalf("dx[%d] = %g for y = %g", i, dx[i], y[i])
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "ReLU runs on the CPU") {
		t.Errorf("notices %q, want one about ReLU", lines)
	}
	if l := stubLive(); l.Executors-base.Executors != 1 { // ReLU's rejected executors are gone; ThresholdBackward's is cached
		t.Errorf("%d live executors, want 1", l.Executors-base.Executors)
	}
}

// TestBatchNormEvalAfterTraining: an evaluation-mode batch norm (not folded)
// after training steps differentiates with the running statistics the host just
// wrote, not with the batch statistics still on the device.
func TestBatchNormEvalAfterTraining(t *testing.T) {
	be := newStubBackend(t)
	cb, nb := layers.NewBatchNorm2d(3), layers.NewBatchNorm2d(3)
	nb.SetBackend(be)
	r := rand.New(rand.NewPCG(17, 18))
	x, dy := randTensor(r, 2, 3, 4, 4), randTensor(r, 2, 3, 4, 4)
	for _, training := range []bool{true, true, false, false} {
		var got, want [][]float32
		for _, l := range []*layers.BatchNorm2d{cb, nb} {
			l.SetTraining(training)
			y, err := l.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			dx, err := l.Backward(dy)
			if err != nil {
				t.Fatal(err)
			}
			out := [][]float32{y.Data(), dx.Data(), l.Params()[0].Grad.Data(), l.Params()[1].Grad.Data()}
			if l == nb {
				for _, s := range out[:2] {
					host(t, be, s)
				}
				got = out
			} else {
				want = out
			}
		}
		for i, name := range []string{"y", "dx", "dgamma", "dbeta"} {
			near(t, fmt.Sprintf("training=%v %s", training, name), got[i], want[i], 1e-4)
		}
		for i, b := range nb.Buffers() {
			near(t, b.Name, b.Value.Data(), cb.Buffers()[i].Value.Data(), 1e-5)
		}
	}
}

// TestMemoryLimitEvicts: under a small device-memory limit mirrors are evicted,
// the device-newer ones copied back first, and training still matches the CPU.
func TestMemoryLimitEvicts(t *testing.T) {
	const limit = 16 << 10
	be := newStubBackend(t, WithMemoryLimit(limit), WithLogger(func(string, ...any) {}))
	free := newStubBackend(t, WithLogger(func(string, ...any) {}))
	cpuNet, npuNet := twin(t)
	_, freeNet := twin(t)
	for i, p := range freeNet.Params() {
		copy(p.Value.Data(), cpuNet.Params()[i].Value.Data())
	}
	freeNet.ParamsChanged()
	npuNet.SetBackend(be)
	freeNet.SetBackend(free)
	for _, n := range []*layers.Sequential{cpuNet, npuNet, freeNet} {
		n.SetTraining(true)
	}
	r := rand.New(rand.NewPCG(19, 20))
	x := randTensor(r, 2, 3, 8, 8)
	for it := 0; it < 3; it++ {
		yc, lc := step(t, cpuNet, nil, x, []int{0, 4})
		yn, ln := step(t, npuNet, be, x, []int{0, 4})
		step(t, freeNet, free, x, []int{0, 4})
		near(t, "logits", yn, yc, 1e-4)
		near(t, "loss", []float32{ln}, []float32{lc}, 1e-5)
		pc := cpuNet.Params()
		for i, p := range npuNet.Params() {
			near(t, "grad "+p.Name, p.Grad.Data(), pc[i].Grad.Data(), 1e-3)
			for j, g := range p.Grad.Data() {
				p.Value.Data()[j] -= 0.05 * g
				pc[i].Value.Data()[j] -= 0.05 * pc[i].Grad.Data()[j]
			}
		}
	}
	if got := be.Stats().DeviceBytes; got > limit {
		t.Errorf("%d device bytes held under a limit of %d", got, limit)
	}
	if a, b := be.Stats().Uploads, free.Stats().Uploads; a <= b {
		t.Errorf("%d uploads under the limit, %d without: nothing was evicted", a, b)
	}
}

// TestUntrackedMirrorsBounded: a caller passing a new input buffer on every call
// (a new image per Predict) does not grow the device memory without bound.
func TestUntrackedMirrorsBounded(t *testing.T) {
	be := newStubBackend(t)
	y := make([]float32, 1024)
	for i := 0; i < 100; i++ {
		x := make([]float32, 1024)
		x[i] = 1
		if err := be.ReLU(y, x); err != nil {
			t.Fatal(err)
		}
		if got := host(t, be, y); got[i] != 1 {
			t.Fatalf("call %d: y[%d] = %g", i, i, got[i])
		}
	}
	if n, limit := be.Stats().DeviceBytes, int64((maxUntracked+2)*4096+4096); n > limit {
		t.Errorf("%d device bytes after 100 calls with new inputs, want at most %d", n, limit)
	}
}

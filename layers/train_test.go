package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/tensor"
)

// refCE is the float64 label-smoothed cross-entropy of one batch.
func refCE(z []float64, rows, classes int, labels []int, soft []float64, eps float64) float64 {
	var total float64
	for r := 0; r < rows; r++ {
		row := z[r*classes : (r+1)*classes]
		m := math.Inf(-1)
		for _, v := range row {
			m = max(m, v)
		}
		var s float64
		for _, v := range row {
			s += math.Exp(v - m)
		}
		for k, v := range row {
			q := eps / float64(classes)
			if labels != nil && k == labels[r] {
				q += 1 - eps
			}
			if soft != nil {
				q += (1 - eps) * soft[r*classes+k]
			}
			total -= q * (v - m - math.Log(s))
		}
	}
	return total / float64(rows)
}

func TestCrossEntropy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const rows, classes = 4, 7
	z := randSlice(rng, rows*classes, 3)
	z[5] = 80 // large logits must not overflow
	labels := []int{0, 6, 3, 3}
	soft := make([]float64, rows*classes)
	for r := 0; r < rows; r++ {
		var s float64
		for k := 0; k < classes; k++ {
			soft[r*classes+k] = rng.Float64()
			s += soft[r*classes+k]
		}
		for k := 0; k < classes; k++ {
			soft[r*classes+k] /= s
		}
	}
	soft32 := make([]float32, len(soft))
	for i, v := range soft {
		soft32[i] = float32(v)
		soft[i] = float64(soft32[i])
	}
	for _, eps := range []float32{0, 0.1} {
		ce, err := NewCrossEntropy(eps)
		if err != nil {
			t.Fatal(err)
		}
		for _, useSoft := range []bool{false, true} {
			var loss float32
			var grad *tensor.Tensor
			var lab []int
			var sf []float64
			if useSoft {
				loss, grad, err = ce.ForwardSoft(mustTensor(t, z, rows, classes), mustTensor(t, soft32, rows, classes))
				sf = soft
			} else {
				loss, grad, err = ce.Forward(mustTensor(t, z, rows, classes), labels)
				lab = labels
			}
			if err != nil {
				t.Fatal(err)
			}
			z64 := to64(z)
			want := refCE(z64, rows, classes, lab, sf, float64(eps))
			if math.Abs(float64(loss)-want) > 1e-6*(1+math.Abs(want)) {
				t.Errorf("eps=%g soft=%v: loss %g, want %g", eps, useSoft, loss, want)
			}
			num := make([]float64, len(z64))
			for i := range z64 {
				o := z64[i]
				const h = 1e-6
				z64[i] = o + h
				a := refCE(z64, rows, classes, lab, sf, float64(eps))
				z64[i] = o - h
				b := refCE(z64, rows, classes, lab, sf, float64(eps))
				z64[i] = o
				num[i] = (a - b) / (2 * h)
			}
			closeRel(t, "dlogits", grad.Data(), num, 1e-6)
		}
	}
	ce, _ := NewCrossEntropy(0.1)
	if _, _, err := ce.Forward(mustTensor(t, z, rows, classes), []int{0, 7, 1, 1}); err == nil || !strings.Contains(err.Error(), "label 7 of row 1 is outside [0, 7)") {
		t.Errorf("bad label: err = %v", err)
	}
	if _, _, err := ce.Forward(mustTensor(t, z, rows, classes), []int{0}); err == nil {
		t.Error("wrong label count: no error")
	}
	if _, err := NewCrossEntropy(-0.1); err == nil {
		t.Error("negative smoothing: no error")
	}
}

func TestDropout(t *testing.T) {
	const n = 1 << 16
	x := tensor.New(2, n/2)
	for i := range x.Data() {
		x.Data()[i] = 1
	}
	d := NewDropout(0.3, 42)
	if y, _ := d.Forward(x); y != x {
		t.Fatal("evaluation-mode dropout is not the identity")
	}
	d.SetTraining(true)
	y, err := d.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, v := range y.Data() {
		switch v {
		case 0:
		case float32(1 / (1 - float32(0.3))):
			kept++
		default:
			t.Fatalf("dropout output %g is neither 0 nor 1/(1-p)", v)
		}
	}
	if f := float64(kept) / n; math.Abs(f-0.7) > 0.01 {
		t.Errorf("kept fraction %.4f, want 0.7", f)
	}
	first := append([]float32(nil), y.Data()...)
	dy := tensor.New(2, n/2)
	for i := range dy.Data() {
		dy.Data()[i] = 2
	}
	dx, err := d.Backward(dy)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range dx.Data() {
		if v != 2*first[i] {
			t.Fatalf("dx[%d] = %g, want %g", i, v, 2*first[i])
		}
	}
	// The next step draws another mask; a fresh layer replays the same sequence,
	// and SetStep resumes it.
	second, _ := d.Forward(x)
	if string(f32bytes(second.Data())) == string(f32bytes(first)) {
		t.Error("two steps drew the same mask")
	}
	e := NewDropout(0.3, 42)
	e.SetTraining(true)
	if y, _ := e.Forward(x); string(f32bytes(y.Data())) != string(f32bytes(first)) {
		t.Error("same seed, same step: different mask")
	}
	e.SetStep(1)
	if y, _ := e.Forward(x); string(f32bytes(y.Data())) != string(f32bytes(second.Data())) {
		t.Error("SetStep(1) does not replay step 1")
	}
	// p = 0 and p = 1.
	z := NewDropout(1, 1)
	z.SetTraining(true)
	if y, _ := z.Forward(x); y.Data()[0] != 0 || y.Data()[n-1] != 0 {
		t.Error("p=1 kept something")
	}
}

func f32bytes(x []float32) []byte {
	b := make([]byte, 0, 4*len(x))
	for _, v := range x {
		u := math.Float32bits(v)
		b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	return b
}

// smallNet is a VGG-shaped network: conv-bn-relu-pool twice, pool, flatten, classifier.
func smallNet(t testing.TB) *Sequential {
	c1, err := NewConv2d(3, 8, 3, 1, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := NewConv2d(8, 16, 3, 1, 1, true)
	r2 := NewReLU()
	r2.SetInPlace(true)
	net := NewSequential(c1, NewBatchNorm2d(8), NewReLU(), NewMaxPool2d(2, 2),
		c2, NewBatchNorm2d(16), r2, NewMaxPool2d(2, 2),
		NewAdaptiveAvgPool2d(2, 2), NewFlatten(),
		NewLinear(64, 32, true), NewReLU(), NewDropout(0.5, 7), NewLinear(32, 10, true), NewSoftmax())
	net.SetNeedInputGrad(false)
	return net
}

func TestTrainStepNoAllocs(t *testing.T) {
	net := smallNet(t)
	net.SetTraining(true)
	ce, _ := NewCrossEntropy(0.1)
	x := tensor.New(4, 3, 16, 12)
	for i := range x.Data() {
		x.Data()[i] = float32(i%13) - 6
	}
	labels := []int{1, 2, 3, 4}
	step := func() {
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
	step()
	// The only allocations allowed are those of the packages below: the conv plans
	// (which re-prepare their weights after SetWeights, called by Conv2d once per
	// training step) and asm.Sgemm. others replays exactly the conv and GEMM calls
	// of one step (or of one inference when train is false); the layers themselves
	// must allocate nothing beyond them.
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	others := func(train bool) {
		for _, l := range net.Layers() {
			switch l := l.(type) {
			case *Conv2d:
				n := l.x.Dim(0)
				var db []float32
				if l.bias != nil {
					db = l.bias.Grad.Data()
				}
				if train {
					must(l.op.SetWeights(l.weight.Value.Data(), l.biasData()))
				}
				must(l.op.Forward(l.y.Data(), l.x.Data(), n))
				if train {
					must(l.op.BackwardFilter(l.weight.Grad.Data(), db, l.x.Data(), l.y.Data(), n))
					if l.needDX {
						must(l.op.BackwardData(l.dx.Data(), l.y.Data(), n))
					}
				}
			case *Linear:
				rows := l.x.Len() / l.in
				w := l.weight.Value.Data()
				must(asm.Sgemm(false, true, rows, l.out, l.in, 1, l.x.Data(), l.in, w, l.in, 1, l.y.Data(), l.out))
				if train {
					must(asm.Sgemm(true, false, l.out, l.in, rows, 1, l.y.Data(), l.out, l.x.Data(), l.in, 0, l.weight.Grad.Data(), l.in))
					must(asm.Sgemm(false, false, rows, l.in, l.out, 1, l.y.Data(), l.out, w, l.in, 0, l.dx.Data(), l.in))
				}
			}
		}
	}
	others(true)
	share := testing.AllocsPerRun(5, func() { others(true) })
	if a := testing.AllocsPerRun(5, step); a > share {
		t.Errorf("warm training step allocates %v times, the conv plans' and Sgemm's share is %v", a, share)
	}
	if share != 0 {
		t.Logf("note: conv plans and asm.Sgemm allocate %v times per training step", share)
	}
	net.SetTraining(false)
	infer := func() {
		if _, err := net.Forward(x); err != nil {
			t.Fatal(err)
		}
	}
	infer()
	share = testing.AllocsPerRun(5, func() { others(false) })
	if a := testing.AllocsPerRun(5, infer); a > share {
		t.Errorf("warm inference allocates %v times, the conv plans' and Sgemm's share is %v", a, share)
	}
	if share != 0 {
		t.Logf("note: conv plans and asm.Sgemm allocate %v times per inference", share)
	}
}

func TestTrainEvalModes(t *testing.T) {
	net := smallNet(t)
	x := tensor.New(2, 3, 8, 8)
	for i := range x.Data() {
		x.Data()[i] = float32(i%7) * 0.3
	}
	eval1, err := net.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	e1 := append([]float32(nil), eval1.Data()...)
	net.SetTraining(true)
	tr, _ := net.Forward(x)
	if string(f32bytes(tr.Data())) == string(f32bytes(e1)) {
		t.Error("training-mode output equals evaluation-mode output (batch stats, dropout unused)")
	}
	net.SetTraining(false)
	eval2, _ := net.Forward(x)
	if string(f32bytes(eval2.Data())) == string(f32bytes(e1)) {
		t.Error("evaluation output did not change after a training step updated the running stats")
	}
	eval3, _ := net.Forward(x)
	if string(f32bytes(eval3.Data())) != string(f32bytes(eval2.Data())) {
		t.Error("evaluation mode is not deterministic")
	}
}

func TestEvalFusion(t *testing.T) {
	forEachISA(t, func(t *testing.T) {
		net := smallNet(t)
		// Non-trivial batch-norm statistics and affine parameters.
		for _, l := range net.Layers() {
			if bn, ok := l.(*BatchNorm2d); ok {
				for c := 0; c < bn.c; c++ {
					bn.weight.Value.Data()[c] = 0.5 + float32(c%3)*0.4
					bn.bias.Value.Data()[c] = float32(c%5)*0.1 - 0.2
					bn.runMean.Value.Data()[c] = float32(c%4)*0.3 - 0.4
					bn.runVar.Value.Data()[c] = 0.3 + float32(c%3)
				}
			}
		}
		net.ParamsChanged()
		x := tensor.New(3, 3, 16, 12)
		for i := range x.Data() {
			x.Data()[i] = float32(i%17)*0.25 - 2
		}
		fused, err := net.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		got := append([]float32(nil), fused.Data()...)
		if c := net.Layers()[0].(*Conv2d); c.foldBN == nil || !c.fuseReLU {
			t.Fatal("evaluation mode did not fuse conv-bn-relu")
		}
		net.SetFusion(false)
		plain, err := net.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		closeRel(t, "fused vs unfused", got, to64(plain.Data()), 1e-5)
		// New running statistics reach the folded weights through the batch
		// norm's own ParamsChanged.
		net.SetFusion(true)
		bn := net.Layers()[1].(*BatchNorm2d)
		bn.runMean.Value.Data()[0] += 0.5
		bn.ParamsChanged()
		fused2, _ := net.Forward(x)
		got2 := append([]float32(nil), fused2.Data()...)
		net.SetFusion(false)
		plain2, _ := net.Forward(x)
		closeRel(t, "fused vs unfused after new statistics", got2, to64(plain2.Data()), 1e-5)
		if string(f32bytes(got2)) == string(f32bytes(got)) {
			t.Error("changing a folded batch norm's statistics did not change the output")
		}
		// Backward through a folded batch norm is refused; through a fused ReLU alone
		// it is exact.
		net.SetFusion(true)
		y, _ := net.Forward(x)
		if _, err := net.Backward(y); err == nil || !strings.Contains(err.Error(), "folded") {
			t.Errorf("Backward through a folded batch norm: err = %v", err)
		}
	})
}

func TestEvalFusionReLUBackward(t *testing.T) {
	build := func() *Sequential {
		c, _ := NewConv2d(2, 3, 3, 1, 1, true)
		copy(c.weight.Value.Data(), randSlice(rand.New(rand.NewPCG(1, 2)), c.weight.Value.Len(), 0.5))
		return NewSequential(c, NewReLU(), NewFlatten(), NewLinear(3*4*5, 2, true))
	}
	a, b := build(), build()
	copy(b.Layers()[3].(*Linear).weight.Value.Data(), a.Layers()[3].(*Linear).weight.Value.Data())
	copy(b.Layers()[3].(*Linear).bias.Value.Data(), a.Layers()[3].(*Linear).bias.Value.Data())
	copy(b.Layers()[0].(*Conv2d).bias.Value.Data(), a.Layers()[0].(*Conv2d).bias.Value.Data())
	b.SetFusion(false)
	x := mustTensor(t, randSlice(rand.New(rand.NewPCG(3, 4)), 2*2*4*5, 1), 2, 2, 4, 5)
	dy := mustTensor(t, []float32{1, -1, 0.5, 2}, 2, 2)
	for _, s := range []*Sequential{a, b} {
		if _, err := s.Forward(x); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Backward(dy); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range a.Params() {
		closeRel(t, "fused d"+p.Name, p.Grad.Data(), to64(b.Params()[i].Grad.Data()), 1e-6)
	}
}

// TestThreadsDeterministic runs the parallel CPU ops on shapes large enough to be
// split and checks that one and several threads give the same bits.
func TestThreadsDeterministic(t *testing.T) {
	run := func(threads int) [][]float32 {
		prev := asm.SetThreads(threads)
		defer asm.SetThreads(prev)
		c := 8
		bn := NewBatchNorm2d(c)
		bn.SetTraining(true)
		relu := NewReLU()
		pool := NewMaxPool2d(2, 2)
		drop := NewDropout(0.5, 3)
		drop.SetTraining(true)
		net := NewSequential(bn, relu, pool, drop)
		net.SetTraining(true)
		x := tensor.New(4, c, 64, 66)
		r := rand.New(rand.NewPCG(5, 5))
		for i := range x.Data() {
			x.Data()[i] = float32(r.NormFloat64())
		}
		y, err := net.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		dx, err := net.Backward(y)
		if err != nil {
			t.Fatal(err)
		}
		out := [][]float32{y.Data(), dx.Data(), bn.weight.Grad.Data(), bn.runVar.Value.Data()}
		net.SetTraining(false)
		e, _ := net.Forward(x)
		return append(out, e.Data())
	}
	one, many := run(1), run(4)
	for i := range one {
		if string(f32bytes(one[i])) != string(f32bytes(many[i])) {
			t.Errorf("result %d differs between 1 and 4 threads", i)
		}
	}
}

func TestLinearGradLargeBatch(t *testing.T) {
	// More rows than asm.Sgemm's small-batch dot-product path takes.
	gradCheck(t, NewLinear(6, 4, true), []int{19, 6}, refLinear(19, 6, 4, true), 1e-5, 1e-4, false)
}

// TestCPUSgemmSmallBatch checks the backend's product in the shape of a Linear
// layer at batch 3, with padded leading dimensions, in parallel.
func TestCPUSgemmSmallBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	const m, n, k, lda, ldb, ldc = 3, 300, 1000, 1003, 1001, 305
	a, b := randSlice(rng, (m-1)*lda+k, 1), randSlice(rng, (n-1)*ldb+k, 1)
	for _, beta := range []float32{0, 0.5} {
		c0 := randSlice(rng, (m-1)*ldc+n, 1)
		if beta == 0 {
			for i := range c0 {
				c0[i] = float32(math.NaN()) // must not be read
			}
		}
		got := append([]float32(nil), c0...)
		prev := asm.SetThreads(2)
		err := cpuBackend{}.Sgemm(false, true, m, n, k, 1.5, a, lda, b, ldb, beta, got, ldc)
		asm.SetThreads(prev)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, 0, m*n)
		gotRows := make([]float32, 0, m*n)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float64
				for p := 0; p < k; p++ {
					s += float64(a[i*lda+p]) * float64(b[j*ldb+p])
				}
				s *= 1.5
				if beta != 0 {
					s += float64(beta) * float64(c0[i*ldc+j])
				}
				want = append(want, s)
				gotRows = append(gotRows, got[i*ldc+j])
			}
		}
		closeRel(t, fmt.Sprint("Sgemm beta=", beta), gotRows, want, 1e-5)
		for i := 0; i < m-1; i++ { // the padding between rows of C is untouched
			for j := n; j < ldc; j++ {
				if math.Float32bits(got[i*ldc+j]) != math.Float32bits(c0[i*ldc+j]) {
					t.Fatalf("C[%d,%d] outside the product was written", i, j)
				}
			}
		}
	}
}

func TestSequentialReLUInPlace(t *testing.T) {
	c, _ := NewConv2d(1, 2, 3, 1, 1, true)
	relu0, relu1 := NewReLU(), NewReLU()
	s := NewSequential(relu0, c, relu1)
	s.SetTraining(true)
	x := mustTensor(t, []float32{-1, 2, -3, 4, -5, 6, -7, 8, -9}, 1, 1, 3, 3)
	y, err := s.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	if x.Data()[0] != -1 {
		t.Error("a ReLU first in a Sequential overwrote the caller's input")
	}
	if &y.Data()[0] != &c.y.Data()[0] {
		t.Error("the ReLU after a Conv2d did not reuse the conv's output")
	}
	s.SetFusion(false)
	y, _ = s.Forward(x)
	if &y.Data()[0] == &c.y.Data()[0] {
		t.Error("SetFusion(false) left the ReLU in place")
	}
}

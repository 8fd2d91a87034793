package dist

import (
	"errors"
	"fmt"
	"math"

	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/optim"
	"github.com/govgg/govgg/tensor"
	"github.com/govgg/govgg/vgg"
)

// The checks below are run by every rank of a job: by goroutines of an in-process
// group in the default build (group_test.go) and by the processes of an mpirun job
// under -tags mpi (mpi_test.go). They return errors instead of failing the test, and
// they issue the same collectives whatever they find, so that a failed check on one
// rank never leaves the others waiting.

// rankValue is a value that differs by rank and index and is exact in float32 (small
// integers), so sums over ranks are exact whatever the reduction order.
func rankValue(rank, i int) float32 { return float32((rank+1)*(i%7+1) - 3*(i%5)) }

// allReduceSizes covers empty, one, odd and large buffers (the last one 4 MB, which Open
// MPI splits into segments).
var allReduceSizes = []int{0, 1, 7, 67, 1000, 1 << 20}

func checkAllReduce(c *Comm) error {
	n := c.Size()
	var errs []error
	for _, size := range allReduceSizes {
		sum := make([]float32, size)
		mean := make([]float32, size)
		for i := range sum {
			sum[i] = rankValue(c.Rank(), i)
			mean[i] = sum[i]
		}
		errs = append(errs, c.AllReduceSum(sum), c.AllReduceMean(mean))
		for i := range sum {
			var want float32
			for r := range n {
				want += rankValue(r, i)
			}
			if sum[i] != want {
				errs = append(errs, fmt.Errorf("rank %d: sum of %d elements: [%d] = %g, want %g", c.Rank(), size, i, sum[i], want))
				break
			}
			if d := math.Abs(float64(mean[i] - want/float32(n))); d > 1e-6*math.Abs(float64(want)) {
				errs = append(errs, fmt.Errorf("rank %d: mean of %d elements: [%d] = %g, want %g", c.Rank(), size, i, mean[i], want/float32(n)))
				break
			}
		}
	}
	f := []float64{float64(c.Rank()) + 0.25, 1e15}
	k := []int64{int64(c.Rank()), 1 << 40, -1}
	errs = append(errs, c.AllReduceSumFloat64(f), c.AllReduceSumInt64(k))
	ranks := int64(n * (n - 1) / 2)
	if f[0] != float64(ranks)+0.25*float64(n) || f[1] != 1e15*float64(n) {
		errs = append(errs, fmt.Errorf("rank %d: float64 sums %v", c.Rank(), f))
	}
	if k[0] != ranks || k[1] != int64(n)<<40 || k[2] != -int64(n) {
		errs = append(errs, fmt.Errorf("rank %d: int64 sums %v", c.Rank(), k))
	}
	return errors.Join(errs...)
}

func checkBroadcast(c *Comm) error {
	var errs []error
	for _, size := range []int{0, 1, 13, 1 << 18} {
		for _, root := range []int{0, c.Size() - 1} {
			buf := make([]float32, size)
			raw := make([]byte, size)
			for i := range buf {
				buf[i] = rankValue(c.Rank(), i)
				raw[i] = byte(c.Rank()*31 + i)
			}
			errs = append(errs, c.Broadcast(buf, root), c.BroadcastBytes(raw, root))
			for i := range buf {
				if buf[i] != rankValue(root, i) || raw[i] != byte(root*31+i) {
					errs = append(errs, fmt.Errorf("rank %d: broadcast of %d from %d: [%d] = %g, %d; want %g, %d", c.Rank(), size, root, i, buf[i], raw[i], rankValue(root, i), byte(root*31+i)))
					break
				}
			}
		}
	}
	if err := c.Broadcast(nil, c.Size()); err == nil {
		errs = append(errs, fmt.Errorf("rank %d: broadcast from rank %d of %d gave no error", c.Rank(), c.Size(), c.Size()))
	}
	errs = append(errs, c.Barrier())
	return errors.Join(errs...)
}

// smallVGG is a VGG-11 of width 4…32 without batch norm (whose batch statistics would
// differ between a shard and the whole batch) and without dropout, for 32×32 inputs,
// whose features end at 1×1.
func smallVGG(seed uint64) (*vgg.Model, error) {
	return vgg.New11(vgg.WithBatchNorm(false), vgg.WithWidthDivisor(16), vgg.WithHidden(8),
		vgg.WithNumClasses(10), vgg.WithDropout(0), vgg.WithPoolSize(1), vgg.WithSeed(seed))
}

// trainer is one model with its optimizer and loss.
type trainer struct {
	m   *vgg.Model
	opt *optim.SGD
	ce  *layers.CrossEntropy
}

func newTrainer(seed uint64) (*trainer, error) {
	m, err := smallVGG(seed)
	if err != nil {
		return nil, err
	}
	m.SetTraining(true)
	opt, err := optim.NewSGD(m.Params(), optim.WithLR(0.05), optim.WithMomentum(0.9),
		optim.WithWeightDecay(1e-4), optim.WithParamsChanged(m.ParamsChanged))
	if err != nil {
		return nil, err
	}
	ce, err := layers.NewCrossEntropy(0.1)
	return &trainer{m, opt, ce}, err
}

// batch returns samples [lo, hi) of step's global batch.
func batch(step, lo, hi int) (*tensor.Tensor, []int) {
	x := tensor.New(hi-lo, 3, 32, 32)
	per := 3 * 32 * 32
	for i := range x.Data() {
		j := lo*per + i
		x.Data()[i] = float32(math.Sin(float64(j)*0.37+float64(step)*1.3)) * 0.8
	}
	labels := make([]int, hi-lo)
	for i := range labels {
		labels[i] = (lo + i + 3*step) % 10
	}
	return x, labels
}

// step runs one training step on x; with r, gradients are reduced before the update,
// and with overlap, r.Ready is called after each layer's backward.
func (tr *trainer) step(x *tensor.Tensor, labels []int, r *Reducer, overlap bool) error {
	logits, err := tr.m.Forward(x)
	if err != nil {
		return err
	}
	_, dlogits, err := tr.ce.Forward(logits, labels)
	if err != nil {
		return err
	}
	if overlap {
		err = layerwiseBackward(tr.m, dlogits, r)
	} else {
		err = tr.m.Backward(dlogits)
	}
	if err != nil {
		return err
	}
	if r != nil {
		if err := r.Reduce(); err != nil {
			return err
		}
	}
	return tr.opt.Step()
}

// layerwiseBackward is vgg.Model.Backward with a Ready notification after each layer:
// the hook that layers.Sequential is to offer. The features end at 1×1 and the
// adaptive pool to 1×1 between them and the classifier is the identity, so the
// gradient passes it as a reshape.
func layerwiseBackward(m *vgg.Model, d *tensor.Tensor, r *Reducer) error {
	cls := m.Classifier().Layers()
	var err error
	for i := len(cls) - 1; i >= 0; i-- {
		if d, err = cls[i].Backward(d); err != nil {
			return err
		}
		r.Ready(cls[i].Params()...)
	}
	feat := m.Features().Layers()
	if d, err = d.Reshape(d.Dim(0), d.Len()/d.Dim(0), 1, 1); err != nil {
		return err
	}
	for i := len(feat) - 1; i >= 0; i-- {
		if d, err = feat[i].Backward(d); err != nil {
			return err
		}
		r.Ready(feat[i].Params()...)
	}
	return nil
}

// checkSameAsBigBatch checks the property that makes data parallelism correct: N ranks
// training on shards of b samples end with the same weights as one process training on
// the N·b samples of the global batch. Every rank starts from different weights, so
// the initial broadcast is tested too.
func checkSameAsBigBatch(c *Comm, overlap bool) error {
	const b, steps = 2, 4
	n, rank := c.Size(), c.Rank()
	ref, err := newTrainer(100)
	if err != nil {
		return err
	}
	tr, err := newTrainer(100 + uint64(rank))
	if err != nil {
		return err
	}
	if err := BroadcastParams(c, tr.m.StateDict()); err != nil {
		return err
	}
	tr.m.ParamsChanged()
	r, err := NewReducer(c, tr.m.Params(), WithBucketBytes(4<<10, 16<<10))
	if err != nil {
		return err
	}
	if len(r.Buckets()) < 3 {
		return fmt.Errorf("only %d buckets; the test should exercise several:\n%v", len(r.Buckets()), r)
	}
	for s := range steps {
		x, labels := batch(s, 0, n*b)
		if err := ref.step(x, labels, nil, false); err != nil {
			return err
		}
		x, labels = batch(s, rank*b, rank*b+b)
		if err := tr.step(x, labels, r, overlap); err != nil {
			return err
		}
	}
	var errs []error
	want := ref.m.StateDict()
	for i, p := range tr.m.StateDict() {
		if e := relErr(p.Value.Data(), want[i].Value.Data()); e > 2e-5 {
			errs = append(errs, fmt.Errorf("rank %d of %d: %s differs from the single-process run on the global batch by %.3g (relative)", rank, n, p.Name, e))
		}
	}
	return errors.Join(errs...)
}

// relErr is max|a-b| / max|b|.
func relErr(a, b []float32) float64 {
	var e, s float64
	for i := range b {
		e = math.Max(e, math.Abs(float64(a[i]-b[i])))
		s = math.Max(s, math.Abs(float64(b[i])))
	}
	if s == 0 {
		return e
	}
	return e / s
}

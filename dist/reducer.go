package dist

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/tensor"
)

// ReducerOption configures NewReducer.
type ReducerOption func(*reducerOptions)

type reducerOptions struct {
	bucketBytes, firstBucketBytes int
	sum                           bool
}

// WithBucketBytes sets the size at which a gradient bucket is closed (default
// DefaultBucketBytes, 25 MiB, DDP's bucket_cap_mb), and the first bucket's (default
// DefaultFirstBucketBytes, 1 MiB), which is small so that communication starts early.
func WithBucketBytes(first, rest int) ReducerOption {
	return func(o *reducerOptions) { o.firstBucketBytes, o.bucketBytes = first, rest }
}

// WithSum makes the reducer leave the sum of the ranks' gradients instead of their
// mean (the default, MindCV's gradients_mean=True: with each rank's loss a mean over
// its b samples, the mean gradient is the gradient of the mean loss over the N·b
// samples of the global batch).
func WithSum() ReducerOption { return func(o *reducerOptions) { o.sum = true } }

// Bucket describes one group of gradients reduced by one collective.
type Bucket struct {
	Params []string // parameter names, in the order backward finalizes them
	Bytes  int
	// InPlace buckets hold one large tensor, reduced in its gradient directly;
	// the others are copied into a flat buffer, reduced, and copied back.
	InPlace bool
}

// Reducer averages the gradients of a data-parallel job across ranks, like PyTorch's
// DistributedDataParallel: gradients are grouped into buckets in reverse parameter
// order (the order backward produces them) and each bucket is all-reduced by one
// collective. Bucket reductions run on a goroutine of the reducer, in bucket order,
// each as soon as all its gradients are ready, so that with Ready called per layer
// during backward, communication overlaps the rest of the backward pass.
//
// A training step is:
//
//	logits, _ := m.Forward(x)
//	loss, dlogits, _ := ce.Forward(logits, labels)
//	m.Backward(dlogits)      // optionally calling r.Ready(layer params…) per layer
//	r.Reduce()               // gradients now hold the mean over ranks
//	opt.Step()
//
// Batch-norm running statistics are buffers, not parameters, and stay local to each
// rank (as in MindCV). A Reducer is for one goroutine's training loop; Ready may be
// called from the goroutine running backward.
type Reducer struct {
	comm    *Comm
	params  []*layers.Param
	buckets []bucket
	infos   []Bucket
	byGrad  map[*tensor.Tensor]int // parameter index by gradient tensor
	inB     []int                  // bucket of each parameter
	mean    bool

	mu      sync.Mutex
	cond    sync.Cond
	marked  []bool // per parameter, this step
	pending []int  // per bucket, parameters not yet ready this step
	running bool   // the step's bucket goroutine has started
	done    chan error
	misuse  error
	stats   Stats
}

// Stats says how much time gradient reduction took and how much of it the training
// step waited for: the rest ran while backward was still computing.
type Stats struct {
	Steps   int           // Reduce calls
	Comm    time.Duration // all-reduces of every bucket, with their copies
	Exposed time.Duration // time Reduce blocked the step
}

// Overlapped is the share of the reduction hidden behind the backward pass.
func (s Stats) Overlapped() float64 {
	if s.Comm <= 0 {
		return 0
	}
	return max(0, 1-float64(s.Exposed)/float64(s.Comm))
}

func (s Stats) String() string {
	return fmt.Sprintf("gradient all-reduce %.2fs over %d steps, %.2fs of it not overlapped with backward (%.0f%% hidden)",
		s.Comm.Seconds(), s.Steps, s.Exposed.Seconds(), 100*s.Overlapped())
}

// Stats returns the reduction times so far.
func (r *Reducer) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

type bucket struct {
	params []int
	flat   []float32 // nil for an in-place bucket
}

// NewReducer prepares gradient reduction for params (in state-dict order, as
// vgg.Model.Params returns them; every one must have a gradient). It is a collective:
// every rank must call it with the same parameters (names and sizes), which it checks.
func NewReducer(c *Comm, params []*layers.Param, opts ...ReducerOption) (*Reducer, error) {
	o := reducerOptions{bucketBytes: DefaultBucketBytes, firstBucketBytes: DefaultFirstBucketBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if o.bucketBytes <= 0 || o.firstBucketBytes <= 0 {
		return nil, fmt.Errorf("dist: bucket sizes must be positive, got first %d, rest %d bytes", o.firstBucketBytes, o.bucketBytes)
	}
	r := &Reducer{comm: c, params: params, byGrad: make(map[*tensor.Tensor]int, len(params)), inB: make([]int, len(params)), mean: !o.sum}
	sizes := make([]int, len(params))
	for i, p := range params {
		if p.Grad == nil || p.Grad.Len() != p.Value.Len() {
			return nil, fmt.Errorf("dist: parameter %q has no gradient of its size", p.Name)
		}
		if _, dup := r.byGrad[p.Grad]; dup {
			return nil, fmt.Errorf("dist: parameter %q is listed twice", p.Name)
		}
		r.byGrad[p.Grad] = i
		sizes[i] = 4 * p.Grad.Len()
	}
	if err := checkSameEverywhere(c, "NewReducer", params); err != nil {
		return nil, err
	}
	for k, idx := range assignBuckets(sizes, o.firstBucketBytes, o.bucketBytes) {
		b := bucket{params: idx}
		info := Bucket{InPlace: len(idx) == 1}
		for _, i := range idx {
			r.inB[i] = k
			info.Params = append(info.Params, params[i].Name)
			info.Bytes += sizes[i]
		}
		if !info.InPlace && c.Size() > 1 {
			b.flat = make([]float32, info.Bytes/4)
		}
		r.buckets = append(r.buckets, b)
		r.infos = append(r.infos, info)
	}
	r.cond.L = &r.mu
	r.marked = make([]bool, len(params))
	r.pending = make([]int, len(r.buckets))
	r.reset()
	return r, nil
}

// Buckets describes the buckets in the order they are reduced.
func (r *Reducer) Buckets() []Bucket { return r.infos }

// String lists the buckets, one per line.
func (r *Reducer) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "%d gradient buckets, job of %d:\n", len(r.infos), r.comm.Size())
	for k, b := range r.infos {
		kind := "flat"
		if b.InPlace {
			kind = "in place"
		}
		fmt.Fprintf(&s, "  %d: %s, %s: %s\n", k, humanBytes(b.Bytes), kind, strings.Join(b.Params, " "))
	}
	return s.String()
}

// Ready tells the reducer that the gradients of ps are final for this step (their
// layer's Backward has returned). A bucket is reduced once all its gradients are
// ready and the buckets before it have been started. ps are matched by their Grad
// tensors, so a layer's own Params() (without the model's name prefix) will do.
// Misuse (an unknown parameter, one marked twice in a step) is reported by Reduce.
func (r *Reducer) Ready(ps ...*layers.Param) {
	if r.comm.Size() == 1 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range ps {
		i, ok := r.byGrad[p.Grad]
		switch {
		case !ok:
			r.misuse = errors.Join(r.misuse, fmt.Errorf("dist: Ready: parameter %q is not one of the reducer's", p.Name))
		case r.marked[i]:
			r.misuse = errors.Join(r.misuse, fmt.Errorf("dist: Ready: parameter %q marked ready twice in one step", r.params[i].Name))
		default:
			r.markLocked(i)
		}
	}
}

func (r *Reducer) markLocked(i int) {
	r.marked[i] = true
	b := r.inB[i]
	if r.pending[b]--; r.pending[b] == 0 {
		r.cond.Broadcast()
	}
	if !r.running {
		r.running = true
		go r.run(r.done)
	}
}

// Reduce finishes this step's reduction: it starts every bucket not started yet (all
// of them when Ready was never called: the non-overlapped path), waits for all, and
// returns with every gradient replaced by its mean (or sum, WithSum) over the ranks.
// Call it on every rank after backward and before the optimizer step.
func (r *Reducer) Reduce() error {
	if r.comm.Size() == 1 {
		return nil
	}
	r.mu.Lock()
	for i, m := range r.marked {
		if !m {
			r.markLocked(i)
		}
	}
	done := r.done
	r.mu.Unlock()
	start := time.Now()
	err := <-done
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Steps++
	r.stats.Exposed += time.Since(start)
	err = errors.Join(r.misuse, err)
	r.reset()
	return err
}

// reset prepares the next step. The caller holds r.mu (or owns r exclusively).
func (r *Reducer) reset() {
	clear(r.marked)
	for k, b := range r.buckets {
		r.pending[k] = len(b.params)
	}
	r.running, r.misuse = false, nil
	r.done = make(chan error, 1)
}

// run reduces the buckets in order, each once it is ready. After a failure it skips
// the rest: the job is broken, and the error is reported by Reduce.
func (r *Reducer) run(done chan<- error) {
	var err error
	for k := range r.buckets {
		r.mu.Lock()
		for r.pending[k] > 0 {
			r.cond.Wait()
		}
		r.mu.Unlock()
		if err == nil {
			start := time.Now()
			err = r.reduceBucket(k)
			r.mu.Lock()
			r.stats.Comm += time.Since(start)
			r.mu.Unlock()
		}
	}
	done <- err
}

func (r *Reducer) reduceBucket(k int) error {
	b := &r.buckets[k]
	f := float32(1)
	if r.mean {
		f = 1 / float32(r.comm.Size())
	}
	if b.flat == nil {
		g := r.params[b.params[0]].Grad.Data()
		if err := r.comm.AllReduceSum(g); err != nil {
			return fmt.Errorf("gradient bucket %d (%s): %w", k, r.params[b.params[0]].Name, err)
		}
		if f != 1 {
			scale(g, f)
		}
		return nil
	}
	off := 0
	for _, i := range b.params {
		off += copy(b.flat[off:], r.params[i].Grad.Data())
	}
	if err := r.comm.AllReduceSum(b.flat); err != nil {
		return fmt.Errorf("gradient bucket %d (%d tensors from %s): %w", k, len(b.params), r.params[b.params[0]].Name, err)
	}
	if f != 1 {
		scale(b.flat, f)
	}
	off = 0
	for _, i := range b.params {
		off += copy(r.params[i].Grad.Data(), b.flat[off:])
	}
	return nil
}

func humanBytes(n int) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

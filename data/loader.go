package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/govgg/govgg/tensor"
)

// LoaderOption configures a Loader.
type LoaderOption func(*Loader) error

// WithBatchSize sets the number of samples per batch (default 32).
func WithBatchSize(n int) LoaderOption {
	return func(l *Loader) error {
		if n <= 0 {
			return fmt.Errorf("data: batch size %d, want > 0", n)
		}
		l.batch = n
		return nil
	}
}

// WithTransform sets the pipeline applied to every sample (default none). Its output
// must have the same shape for every sample.
func WithTransform(t Transform) LoaderOption {
	return func(l *Loader) error { l.tf = t; return nil }
}

// WithShuffle turns shuffling on or off (default on). The order of an epoch is a
// function of (seed, epoch) only.
func WithShuffle(on bool) LoaderOption {
	return func(l *Loader) error { l.shuffle = on; return nil }
}

// WithSeed sets the seed of shuffling and of the transforms' random numbers (default 42,
// MindCV's).
func WithSeed(seed uint64) LoaderOption {
	return func(l *Loader) error { l.seed = seed; return nil }
}

// WithDropRemainder drops the last batch of an epoch if it is short (default off).
func WithDropRemainder(on bool) LoaderOption {
	return func(l *Loader) error { l.drop = on; return nil }
}

// WithWorkers sets the number of decode goroutines, MindCV's num_parallel_workers
// (default GOMAXPROCS). It does not change what the batches hold.
func WithWorkers(n int) LoaderOption {
	return func(l *Loader) error {
		if n <= 0 {
			return fmt.Errorf("data: %d workers, want > 0", n)
		}
		l.workers = n
		return nil
	}
}

// WithPrefetch sets how many batches may be prepared ahead of the consumer (default 2).
func WithPrefetch(n int) LoaderOption {
	return func(l *Loader) error {
		if n <= 0 {
			return fmt.Errorf("data: prefetch %d, want > 0", n)
		}
		l.prefetch = n
		return nil
	}
}

// WithShard makes the loader serve shard rank of size for data-parallel training. Each
// epoch's permutation is cut to a multiple of size (dropping fewer than size samples)
// and rank takes every size-th element starting at rank, so the shards are disjoint,
// equally long, and together cover the kept part of the permutation.
func WithShard(rank, size int) LoaderOption {
	return func(l *Loader) error {
		if size <= 0 || rank < 0 || rank >= size {
			return fmt.Errorf("data: shard rank %d of size %d, want 0 ≤ rank < size", rank, size)
		}
		l.rank, l.size = rank, size
		return nil
	}
}

// Loader turns a Dataset into batches of N×C×H×W float32 tensors and labels. It is
// immutable after NewLoader; each Epoch call starts an independent iteration.
type Loader struct {
	ds                Dataset
	tf                Transform
	batch             int
	shuffle, drop     bool
	seed              uint64
	workers, prefetch int
	rank, size        int
	c, h, w           int // sample shape after the transform

	mu    sync.Mutex
	slots []*slot // batch buffers returned by closed iterations, for the next epoch
}

// NewLoader returns a loader over ds. It runs the transform once on sample 0 to learn
// the shape of the samples.
func NewLoader(ds Dataset, opts ...LoaderOption) (*Loader, error) {
	l := &Loader{ds: ds, batch: 32, shuffle: true, seed: 42, workers: runtime.GOMAXPROCS(0), prefetch: 2, size: 1}
	for _, o := range opts {
		if err := o(l); err != nil {
			return nil, err
		}
	}
	if ds.Len() == 0 {
		return nil, errors.New("data: empty dataset")
	}
	if l.ds.Len() < l.size {
		return nil, fmt.Errorf("data: %d samples cannot be split into %d shards", ds.Len(), l.size)
	}
	if l.drop && l.Samples() < l.batch {
		return nil, fmt.Errorf("data: batch size %d exceeds the %d samples of a shard, and drop_remainder leaves no batch", l.batch, l.Samples())
	}
	w := newWorker(l)
	m, _, err := w.sample(0, 0)
	if err != nil {
		return nil, err
	}
	l.c, l.h, l.w = m.C, m.H, m.W
	return l, nil
}

// SampleShape returns the C, H, W of every sample after the transform.
func (l *Loader) SampleShape() (c, h, w int) { return l.c, l.h, l.w }

// BatchSize returns the configured batch size.
func (l *Loader) BatchSize() int { return l.batch }

// Samples returns how many samples this shard sees per epoch.
func (l *Loader) Samples() int { return l.ds.Len() / l.size }

// Steps returns the number of batches per epoch.
func (l *Loader) Steps() int {
	n := l.Samples()
	if l.drop {
		return n / l.batch
	}
	return (n + l.batch - 1) / l.batch
}

// Order returns the dataset indices this shard visits in epoch, in order.
func (l *Loader) Order(epoch int) []int {
	n := l.ds.Len()
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	if l.shuffle {
		shuffle(perm, rand.NewPCG(mix(l.seed), mix(uint64(epoch)^0x5851f42d4c957f2d)))
	}
	per := n / l.size
	out := make([]int, per)
	for k := range out {
		out[k] = perm[l.rank+k*l.size]
	}
	return out
}

// shuffle is a Fisher–Yates shuffle written out rather than rand.Shuffle, so that the
// order of an epoch, which a resumed run relies on, cannot change with the Go release.
// PCG (PCG-DXSM) is a fixed algorithm, so its stream for a seed does not change either.
func shuffle(perm []int, src *rand.PCG) {
	for i := len(perm) - 1; i > 0; i-- {
		j := int(boundedRand(src, uint64(i+1)))
		perm[i], perm[j] = perm[j], perm[i]
	}
}

// boundedRand returns a uniform value in [0, n) by rejection, without modulo bias.
func boundedRand(src *rand.PCG, n uint64) uint64 {
	limit := -n % n // 2⁶⁴ mod n: values below it would be over-represented
	for {
		if v := src.Uint64(); v >= limit {
			return v % n
		}
	}
}

// mix is SplitMix64's finaliser: it spreads nearby seeds over the whole state space.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Batch is one batch. Images is N×C×H×W; N is the batch size except for a short last
// batch. A Batch and its storage are reused: they are valid until the next call to Next
// or Close.
type Batch struct {
	Images  *tensor.Tensor
	Labels  []int
	Indices []int // dataset index of each sample
	Epoch   int
	Step    int
}

// Iter is one pass over an epoch's batches. Its goroutines stop at the end of the epoch,
// on Close, or when the context is done; call Close in any case, which also lets the
// next epoch reuse the batch buffers. An Iter is used by one goroutine.
type Iter struct {
	l      *Loader
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ready  chan *pending
	free   chan *slot
	cur    *pending
	err    error
}

// slot is a reusable batch buffer.
type slot struct {
	full  *tensor.Tensor
	batch Batch
}

// pending is a batch being filled by the workers.
type pending struct {
	slot *slot
	left atomic.Int32
	done chan struct{}

	mu     sync.Mutex
	err    error
	errPos int
}

type job struct {
	p   *pending
	pos int
	idx int
}

// Epoch starts iterating epoch from batch step (0 ≤ step ≤ Steps()); resuming at a step
// skips the earlier batches without reading them.
func (l *Loader) Epoch(ctx context.Context, epoch, step int) (*Iter, error) {
	steps := l.Steps()
	if step < 0 || step > steps {
		return nil, fmt.Errorf("data: start step %d outside [0, %d]", step, steps)
	}
	order := l.Order(epoch)
	ctx, cancel := context.WithCancel(ctx)
	it := &Iter{
		l: l, ctx: ctx, cancel: cancel,
		ready: make(chan *pending, l.prefetch+1),
		free:  make(chan *slot, l.prefetch+1),
	}
	l.mu.Lock()
	for range l.prefetch + 1 {
		if n := len(l.slots); n > 0 {
			it.free <- l.slots[n-1]
			l.slots = l.slots[:n-1]
		} else {
			it.free <- &slot{full: tensor.New(l.batch, l.c, l.h, l.w)}
		}
	}
	l.mu.Unlock()
	jobs := make(chan job, l.batch)
	it.wg.Add(1 + l.workers)
	go it.dispatch(jobs, order, epoch, step, steps)
	for range l.workers {
		go it.work(jobs, epoch)
	}
	return it, nil
}

// dispatch hands out the samples of each batch in order, one slot per batch, so at most
// prefetch batches are in flight beyond the one the consumer holds.
func (it *Iter) dispatch(jobs chan<- job, order []int, epoch, step, steps int) {
	defer it.wg.Done()
	defer close(jobs)
	defer close(it.ready)
	l := it.l
	for ; step < steps; step++ {
		var s *slot
		select {
		case s = <-it.free:
		case <-it.ctx.Done():
			return
		}
		idx := order[step*l.batch : min((step+1)*l.batch, len(order))]
		b := &s.batch
		b.Epoch, b.Step = epoch, step
		b.Labels = growInts(b.Labels, len(idx))
		b.Indices = append(b.Indices[:0], idx...)
		b.Images = s.full
		if len(idx) < l.batch {
			b.Images, _ = s.full.Slice(0, len(idx)) // in range by construction
		}
		p := &pending{slot: s, done: make(chan struct{})}
		p.left.Store(int32(len(idx)))
		it.ready <- p // never blocks: it holds as many as there are slots
		for pos, i := range idx {
			select {
			case jobs <- job{p: p, pos: pos, idx: i}:
			case <-it.ctx.Done():
				return
			}
		}
	}
}

func (it *Iter) work(jobs <-chan job, epoch int) {
	defer it.wg.Done()
	w := newWorker(it.l)
	for {
		select {
		case j, ok := <-jobs:
			if !ok {
				return
			}
			if err := w.fill(j, epoch); err != nil {
				j.p.fail(j.pos, err)
			}
			if j.p.left.Add(-1) == 0 {
				close(j.p.done)
			}
		case <-it.ctx.Done():
			return
		}
	}
}

// fail records err, keeping the one of the lowest position so the reported error does
// not depend on scheduling.
func (p *pending) fail(pos int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil || pos < p.errPos {
		p.err, p.errPos = err, pos
	}
}

// Next returns the next batch, or io.EOF after the last one. An error of any sample
// (naming its file) is returned by the Next call of its batch and every call after.
func (it *Iter) Next() (*Batch, error) {
	if it.err != nil {
		return nil, it.err
	}
	if it.cur != nil {
		it.free <- it.cur.slot // never blocks: free holds every slot
		it.cur = nil
	}
	var p *pending
	select {
	case q, ok := <-it.ready:
		if !ok {
			if err := it.ctx.Err(); err != nil {
				it.err = err
				return nil, err
			}
			return nil, io.EOF
		}
		p = q
	case <-it.ctx.Done():
		it.err = it.ctx.Err()
		return nil, it.err
	}
	select {
	case <-p.done:
	case <-it.ctx.Done():
		it.err = it.ctx.Err()
		return nil, it.err
	}
	it.cur = p
	if p.err != nil {
		it.err = p.err
		it.cancel()
		return nil, it.err
	}
	return &p.slot.batch, nil
}

// Close stops the iteration, waits for its goroutines to exit, and keeps the batch
// buffers for the loader's next epoch. Close may be called more than once.
func (it *Iter) Close() error {
	it.cancel()
	it.wg.Wait()
	if it.err == nil {
		it.err = errClosed
	}
	var back []*slot
	if it.cur != nil {
		back = append(back, it.cur.slot)
		it.cur = nil
	}
	for {
		select {
		case s := <-it.free:
			back = append(back, s)
			continue
		default:
		}
		break
	}
	// Slots of batches still queued in ready were never handed out; take them too.
	for p := range it.ready {
		back = append(back, p.slot)
	}
	it.l.mu.Lock()
	it.l.slots = append(it.l.slots, back...)
	it.l.mu.Unlock()
	return nil
}

var errClosed = errors.New("data: iteration closed")

// worker holds one goroutine's reusable image and random generator.
type worker struct {
	l   *Loader
	img Image
	pcg *rand.PCG
	rng *rand.Rand
}

func newWorker(l *Loader) *worker {
	pcg := rand.NewPCG(0, 0)
	return &worker{l: l, pcg: pcg, rng: rand.New(pcg)}
}

// sample loads dataset index idx and applies the transform with the random stream of
// (seed, epoch, idx).
func (w *worker) sample(idx, epoch int) (*Image, int, error) {
	l := w.l
	s, err := l.ds.Get(idx)
	if err != nil {
		return nil, 0, err
	}
	if err := w.img.Load(s); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", source(l.ds, idx), err)
	}
	if l.tf != nil {
		a := mix(l.seed ^ mix(uint64(epoch)))
		w.pcg.Seed(a, mix(a^uint64(idx)))
		if err := l.tf.Apply(&w.img, w.rng); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", source(l.ds, idx), err)
		}
	}
	return &w.img, s.Label, nil
}

// fill writes one sample into its batch slot, converting HWC to CHW.
func (w *worker) fill(j job, epoch int) error {
	l := w.l
	m, label, err := w.sample(j.idx, epoch)
	if err != nil {
		return err
	}
	if m.C != l.c || m.H != l.h || m.W != l.w {
		return fmt.Errorf("data: %s: sample is %d×%d×%d (C×H×W) after the transform, the batch needs %d×%d×%d",
			source(l.ds, j.idx), m.C, m.H, m.W, l.c, l.h, l.w)
	}
	n := l.c * l.h * l.w
	if err := m.ToCHW(j.p.slot.full.Data()[j.pos*n : (j.pos+1)*n]); err != nil {
		return err
	}
	j.p.slot.batch.Labels[j.pos] = label
	return nil
}

func growInts(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

func source(ds Dataset, i int) string {
	if s, ok := ds.(Sourcer); ok {
		return s.Source(i)
	}
	return fmt.Sprintf("sample %d", i)
}

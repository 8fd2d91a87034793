package asm

import (
	"runtime"
	"sync"
	"sync/atomic"
)

var threads atomic.Int64

func init() { threads.Store(int64(runtime.GOMAXPROCS(0))) }

// Threads returns the number of goroutines kernels may use.
func Threads() int { return int(threads.Load()) }

// SetThreads sets the number of goroutines kernels may use (n ≤ 0 means GOMAXPROCS)
// and returns the previous value.
func SetThreads(n int) int {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return int(threads.Swap(int64(n)))
}

// ParallelFor calls fn over disjoint chunks [lo, hi) covering [0, n), on up to
// Threads() goroutines, the caller taking part. grain is the smallest chunk worth a
// goroutine hand-off (about 100 µs of work); with n ≤ grain it runs inline. Every
// chunk but the last holds at least grain items, so no two chunks start within
// grain of each other (conv's Winograd gives chunk lo the scratch of index lo/grain).
// Chunks are claimed dynamically, so a late or slow worker costs nothing.
//
// The helpers are persistent goroutines parked on a channel; ParallelFor returns
// once every chunk is done, without waiting for helpers that never started. fn must
// not panic (a panic on a helper goroutine ends the program). Nested calls are
// allowed: a call made while the helpers are busy runs on its caller.
func ParallelFor(n, grain int, fn func(lo, hi int)) {
	parallelRun(n, grain, funcRunner(fn))
}

// chunkRunner is the work of one parallel region. Internal callers pass a pooled
// pointer, which keeps a region free of allocations.
type chunkRunner interface{ run(lo, hi int) }

type funcRunner func(lo, hi int)

func (f funcRunner) run(lo, hi int) { f(lo, hi) }

// region is one ParallelFor call shared with the helpers. It is recycled once its
// last reference (the caller's or a helper's) is dropped, so a helper that wakes up
// late finds either the same region, finished, or nothing.
type region struct {
	r         chunkRunner
	n, chunk  int64
	next      atomic.Int64 // start of the next unclaimed chunk
	remaining atomic.Int64 // items not yet finished
	refs      atomic.Int32 // caller + helpers holding the region
	done      chan struct{}
}

// regionPool holds a fixed set of regions, made at start-up, so that no call
// allocates even when helpers lag (each late helper pins the region it was sent).
// A call that finds none free runs on its caller.
var regionPool freeList[region]

const numRegions = 64

func init() {
	for range numRegions {
		regionPool.put(&region{done: make(chan struct{}, 1)})
	}
}

// pool is the set of persistent helper goroutines.
var pool struct {
	mu      sync.Mutex
	started int
	work    chan *region
}

// maxHelpers bounds the helper goroutines (and the hand-off channel's buffer).
const maxHelpers = 256

func init() { pool.work = make(chan *region, maxHelpers) }

// ensureHelpers starts helper goroutines until there are at least n.
func ensureHelpers(n int) {
	n = min(n, maxHelpers)
	pool.mu.Lock()
	for pool.started < n {
		pool.started++
		go helper()
	}
	pool.mu.Unlock()
}

func helper() {
	for rg := range pool.work {
		if rg.work() {
			rg.done <- struct{}{}
		}
		rg.release()
	}
}

// work claims and runs chunks until none is left. It reports whether it finished
// the region's last item.
func (rg *region) work() (last bool) {
	for {
		lo := rg.next.Add(rg.chunk) - rg.chunk
		if lo >= rg.n {
			return false
		}
		hi := min(lo+rg.chunk, rg.n)
		rg.r.run(int(lo), int(hi))
		if rg.remaining.Add(lo-hi) == 0 {
			return true
		}
	}
}

func (rg *region) release() {
	if rg.refs.Add(-1) == 0 {
		rg.r = nil
		regionPool.put(rg)
	}
}

func parallelRun(n, grain int, r chunkRunner) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	t := Threads()
	if n <= grain || t <= 1 {
		r.run(0, n)
		return
	}
	// Chunks of at least grain items, small enough that every thread gets a few
	// (dynamic balancing on a shared machine).
	chunk := max(grain, n/(4*t))
	nchunks := (n + chunk - 1) / chunk
	helpers := min(t-1, nchunks-1, maxHelpers)
	ensureHelpers(helpers)

	rg := regionPool.tryGet()
	if rg == nil {
		r.run(0, n)
		return
	}
	rg.r, rg.n, rg.chunk = r, int64(n), int64(chunk)
	rg.next.Store(0)
	rg.remaining.Store(int64(n))
	rg.refs.Store(int32(1 + helpers))
	sent := 0
	for sent < helpers && trySend(rg) {
		sent++
	}
	if sent < helpers { // every helper is busy: the caller does the rest
		rg.refs.Add(int32(sent - helpers))
	}
	// Whoever finishes the last item signals; if it was not the caller, a helper
	// sends on done exactly once.
	if !rg.work() {
		<-rg.done
	}
	rg.release()
}

func trySend(rg *region) bool {
	select {
	case pool.work <- rg:
		return true
	default:
		return false
	}
}

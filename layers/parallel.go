package layers

import (
	"sync"

	"github.com/govgg/govgg/asm"
)

// job is one parallel call of the CPU backend: the per-chunk body and its
// arguments. Jobs are kept on a free list with their run method bound once, so a
// parallel call allocates nothing.
type job struct {
	body       func(j *job, lo, hi int)
	x, y, z, w []float32
	v1, v2, v3 []float32
	v4         []float32
	idx        []int32
	p          PoolShape
	a          float32
	n, c, hw   int
	seed, step uint64
	flag       bool

	run func(lo, hi int)
}

var jobFree struct {
	sync.Mutex
	list []*job
}

func getJob(body func(j *job, lo, hi int)) *job {
	jobFree.Lock()
	var j *job
	if k := len(jobFree.list); k > 0 {
		j = jobFree.list[k-1]
		jobFree.list = jobFree.list[:k-1]
	}
	jobFree.Unlock()
	if j == nil {
		j = new(job)
		j.run = func(lo, hi int) { j.body(j, lo, hi) }
	}
	j.body = body
	return j
}

// do runs the body over [0, n) in chunks of at least grain items on the asm worker
// pool, then recycles the job.
func (j *job) do(n, grain int) {
	asm.ParallelFor(n, grain, j.run)
	*j = job{run: j.run}
	jobFree.Lock()
	jobFree.list = append(jobFree.list, j)
	jobFree.Unlock()
}

// elemGrain is the smallest number of elements worth handing to another thread for
// a memory-bound elementwise pass (about 100 µs of work).
const elemGrain = 1 << 17

// planeGrain returns how many planes of size elements make a chunk worth a hand-off.
func planeGrain(size int) int { return max(1, elemGrain/max(size, 1)) }

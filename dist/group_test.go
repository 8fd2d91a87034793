//go:build !mpi

package dist

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// group is an in-process job: n ranks in one process, each with its own Comm served by
// its own locked goroutine, as under MPI. Collectives meet at a cyclic barrier; every
// rank sums the others' buffers in rank order, so all ranks get identical results.
type group struct {
	n       int
	mu      sync.Mutex
	cond    sync.Cond
	arrived int
	gen     int
	slots   []any
	aborted int            // exit code of an abort, -1 before
	reduced []atomic.Int32 // float32 all-reduces completed, per rank
}

// newGroup returns the Comms of an n-rank in-process job.
func newGroup(n int, opts ...Option) ([]*Comm, *group) {
	g := &group{n: n, slots: make([]any, n), aborted: -1, reduced: make([]atomic.Int32, n)}
	g.cond.L = &g.mu
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	comms := make([]*Comm, n)
	for r := range n {
		c, err := newComm(o, true, func() (backend, hostRanks, error) { return member{g, r}, hostRanks{r, n, r, n}, nil })
		if err != nil {
			panic(err)
		}
		c.exit = func(int) {}
		comms[r] = c
	}
	return comms, g
}

// wait is the barrier; it fails once the job was aborted.
func (g *group) wait() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.aborted >= 0 {
		return fmt.Errorf("job aborted with code %d", g.aborted)
	}
	gen := g.gen
	if g.arrived++; g.arrived == g.n {
		g.arrived = 0
		g.gen++
		g.cond.Broadcast()
		return nil
	}
	for gen == g.gen && g.aborted < 0 {
		g.cond.Wait()
	}
	if g.aborted >= 0 {
		return fmt.Errorf("job aborted with code %d", g.aborted)
	}
	return nil
}

func (g *group) abortCode() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.aborted
}

type member struct {
	g    *group
	rank int
}

// exchange publishes buf, waits for all ranks, lets read see every rank's buffer, and
// waits again so that no buffer is changed while another rank reads it.
func (m member) exchange(buf any, read func(all []any) error) error {
	m.g.slots[m.rank] = buf
	if err := m.g.wait(); err != nil {
		return err
	}
	err := read(m.g.slots)
	return errors.Join(err, m.g.wait())
}

func (m member) allReduceF32(buf []float32) error {
	defer m.g.reduced[m.rank].Add(1)
	return allReduceLoop(m, buf)
}
func (m member) allReduceF64(buf []float64) error { return allReduceLoop(m, buf) }
func (m member) allReduceI64(buf []int64) error   { return allReduceLoop(m, buf) }

func allReduceLoop[T float32 | float64 | int64](m member, buf []T) error {
	acc := make([]T, len(buf))
	err := m.exchange(buf, func(all []any) error {
		for r, o := range all {
			other := o.([]T)
			if len(other) != len(buf) {
				return fmt.Errorf("rank %d has %d elements, rank %d has %d", r, len(other), m.rank, len(buf))
			}
			for i, v := range other {
				acc[i] += v
			}
		}
		return nil
	})
	copy(buf, acc)
	return err
}

func (m member) broadcast(buf []byte, root int) error {
	return m.exchange(buf, func(all []any) error {
		src := all[root].([]byte)
		if len(src) != len(buf) {
			return fmt.Errorf("root %d has %d bytes, rank %d has %d", root, len(src), m.rank, len(buf))
		}
		if m.rank != root {
			// Reading the root's buffer while writing ours: ours is not the root's.
			copy(buf, src)
		}
		return nil
	})
}

func (m member) barrier() error  { return m.g.wait() }
func (m member) finalize() error { return m.g.wait() }

func (m member) abort(code int) {
	m.g.mu.Lock()
	defer m.g.mu.Unlock()
	if m.g.aborted < 0 {
		m.g.aborted = code
	}
	m.g.cond.Broadcast()
}

// onRanks runs f on every rank concurrently and joins the errors.
func onRanks(comms []*Comm, f func(c *Comm) error) error {
	errs := make([]error, len(comms))
	var wg sync.WaitGroup
	for r, c := range comms {
		wg.Go(func() { errs[r] = f(c) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

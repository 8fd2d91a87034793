package dist

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

// DefaultTimeout is how long a collective may go without completing before the job is
// aborted. It must cover the slowest legitimate wait: a validation pass or a
// checkpoint written by rank 0 while the other ranks sit in the next collective.
const DefaultTimeout = 5 * time.Minute

// ErrTimeout is returned (wrapped) by a collective that did not complete within the
// communicator's timeout, when aborting the job did not end the process (only with a
// test backend; under MPI the process ends first).
var ErrTimeout = errors.New("dist: collective timed out")

// ErrClosed is returned by calls on a closed communicator.
var ErrClosed = errors.New("dist: communicator is closed")

// Option configures Open.
type Option func(*options)

type options struct {
	timeout time.Duration
}

// WithTimeout sets how long any collective may wait for the other ranks before the
// whole job is aborted with a message naming the operation (default DefaultTimeout).
// A rank that died or hung thus makes the job fail instead of hanging forever. Zero
// or a negative duration waits forever.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// backend is one process's view of the job: MPI under -tags mpi, a single process
// without it, an in-process group in tests. Its collective methods are only ever
// called from the communicator's one goroutine.
type backend interface {
	allReduceF32(buf []float32) error // in-place sum
	allReduceF64(buf []float64) error
	allReduceI64(buf []int64) error
	broadcast(buf []byte, root int) error
	barrier() error
	finalize() error
	// abort ends every process of the job with the exit code. It is the one call
	// made from outside the communicator's goroutine (that goroutine is the one
	// stuck), when the job is being torn down anyway.
	abort(code int)
}

// Comm is this process's handle on a data-parallel job of Size processes (ranks).
//
// Collectives (AllReduce*, Broadcast*, Barrier) must be called by every rank, in the
// same order, with buffers of the same length; each returns once this rank's part is
// done. They may be called from any goroutine but not concurrently: in particular no
// other collective may run while a Reducer step is in flight (between a Reducer's
// first Ready and its Reduce).
//
// Under MPI every call into the library is made by one goroutine locked to its OS
// thread (the thread that initialized MPI); methods hand their work to it and wait,
// for at most the timeout (see WithTimeout). The one exception is MPI_Abort, called by
// the goroutine whose wait timed out (or by Abort's caller) because the comm thread
// may be the one stuck; Open MPI then ends the whole job (run_mpi_tests.sh checks it).
type Comm struct {
	b backend
	hostRanks
	timeout time.Duration

	reqs chan func() // served by the comm goroutine; nil when calls run directly
	exit func(code int)

	mu     sync.Mutex
	closed bool
}

// hostRanks places a process in the job.
type hostRanks struct {
	rank, size           int
	localRank, localSize int // among the ranks on this host
}

// newComm wraps b. With serve, a goroutine locked to its OS thread runs every call;
// init runs first on that goroutine (MPI_Init must be made by the thread that makes the
// later calls) and reports the rank, size and local rank.
func newComm(o options, serve bool, init func() (backend, hostRanks, error)) (*Comm, error) {
	c := &Comm{timeout: o.timeout, exit: os.Exit}
	if !serve {
		var err error
		if c.b, c.hostRanks, err = init(); err != nil {
			return nil, err
		}
		return c, nil
	}
	c.reqs = make(chan func())
	started := make(chan error, 1)
	go func() {
		// Never unlocked: the goroutine exits locked after finalize, which
		// retires the thread instead of handing an MPI thread back to the runtime.
		runtime.LockOSThread()
		var err error
		c.b, c.hostRanks, err = init()
		started <- err
		if err != nil {
			return
		}
		for f := range c.reqs {
			f()
		}
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return c, nil
}

func defaultOptions() options { return options{timeout: DefaultTimeout} }

// Rank returns this process's rank, 0 ≤ Rank < Size.
func (c *Comm) Rank() int { return c.rank }

// Size returns the number of processes in the job.
func (c *Comm) Size() int { return c.size }

// LocalRank returns this process's rank among the processes on its host (the index of
// the accelerator it should use).
func (c *Comm) LocalRank() int { return c.localRank }

// LocalSize returns the number of ranks on this host: with C cores, each rank's
// kernels should use about C/LocalSize threads (asm.SetThreads).
func (c *Comm) LocalSize() int { return c.localSize }

// IsRoot reports whether this is rank 0, the rank that logs and writes checkpoints.
func (c *Comm) IsRoot() bool { return c.rank == 0 }

// Timeout returns the collective timeout (0: none).
func (c *Comm) Timeout() time.Duration { return c.timeout }

// call runs f on the comm goroutine and waits for it, aborting the job if it takes
// longer than the timeout. op names the operation in errors and in the abort message.
func (c *Comm) call(op string, f func() error) error {
	if err := c.checkOpen(op); err != nil {
		return err
	}
	if c.reqs == nil {
		return wrapErr(op, f())
	}
	done := make(chan error, 1)
	var expired <-chan time.Time
	if c.timeout > 0 {
		t := time.NewTimer(c.timeout)
		defer t.Stop()
		expired = t.C
	}
	// The timer also covers the wait for the comm goroutine to take the request, so a
	// collective stuck in another goroutine (a Reducer's) is caught too.
	select {
	case c.reqs <- func() { done <- f() }:
	case <-expired:
		return c.timedOut(op)
	}
	select {
	case err := <-done:
		return wrapErr(op, err)
	case <-expired:
		return c.timedOut(op)
	}
}

func (c *Comm) checkOpen(op string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fmt.Errorf("%w (%s)", ErrClosed, op)
	}
	return nil
}

// timedOut reports the stuck operation and ends the job.
func (c *Comm) timedOut(op string) error {
	msg := fmt.Sprintf("dist: rank %d of %d: %s did not complete within %v: another rank has probably died or hung; aborting the job", c.rank, c.size, op, c.timeout)
	fmt.Fprintln(os.Stderr, msg)
	c.b.abort(3)
	return fmt.Errorf("%w: %s", ErrTimeout, msg)
}

func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("dist: %s: %w", op, err)
}

// AllReduceSum replaces buf, on every rank, by the element-wise sum of all ranks' buf.
func (c *Comm) AllReduceSum(buf []float32) error {
	if c.size == 1 {
		return c.checkOpen("AllReduceSum")
	}
	return c.call(fmt.Sprintf("AllReduceSum of %d float32", len(buf)), func() error { return c.b.allReduceF32(buf) })
}

// AllReduceMean replaces buf, on every rank, by the element-wise mean of all ranks'
// buf (the sum scaled by 1/Size).
func (c *Comm) AllReduceMean(buf []float32) error {
	if err := c.AllReduceSum(buf); err != nil || c.size == 1 {
		return err
	}
	scale(buf, 1/float32(c.size))
	return nil
}

// AllReduceSumFloat64 replaces vals, on every rank, by the sum over ranks: for
// metrics such as summed losses.
func (c *Comm) AllReduceSumFloat64(vals []float64) error {
	if c.size == 1 {
		return c.checkOpen("AllReduceSumFloat64")
	}
	return c.call(fmt.Sprintf("AllReduceSumFloat64 of %d values", len(vals)), func() error { return c.b.allReduceF64(vals) })
}

// AllReduceSumInt64 replaces vals, on every rank, by the sum over ranks: for counts
// such as samples seen and correct predictions (MindCV's AllReduceSum).
func (c *Comm) AllReduceSumInt64(vals []int64) error {
	if c.size == 1 {
		return c.checkOpen("AllReduceSumInt64")
	}
	return c.call(fmt.Sprintf("AllReduceSumInt64 of %d values", len(vals)), func() error { return c.b.allReduceI64(vals) })
}

// Broadcast copies root's buf into every rank's buf.
func (c *Comm) Broadcast(buf []float32, root int) error {
	if err := c.checkRoot("Broadcast", root); err != nil {
		return err
	}
	if c.size == 1 {
		return c.checkOpen("Broadcast")
	}
	return c.call(fmt.Sprintf("Broadcast of %d float32 from rank %d", len(buf), root), func() error { return c.b.broadcast(f32Bytes(buf), root) })
}

// BroadcastBytes copies root's buf into every rank's buf.
func (c *Comm) BroadcastBytes(buf []byte, root int) error {
	if err := c.checkRoot("BroadcastBytes", root); err != nil {
		return err
	}
	if c.size == 1 {
		return c.checkOpen("BroadcastBytes")
	}
	return c.call(fmt.Sprintf("BroadcastBytes of %d bytes from rank %d", len(buf), root), func() error { return c.b.broadcast(buf, root) })
}

func (c *Comm) checkRoot(op string, root int) error {
	if root < 0 || root >= c.size {
		return fmt.Errorf("dist: %s: root rank %d is outside [0, %d)", op, root, c.size)
	}
	return nil
}

// Barrier returns once every rank has entered it.
func (c *Comm) Barrier() error {
	if c.size == 1 {
		return c.checkOpen("Barrier")
	}
	return c.call("Barrier", c.b.barrier)
}

// Abort ends every process of the job with the exit code after printing msg on
// standard error: for a rank that cannot go on (a failed read, a NaN loss), so that
// the others do not wait for it until the timeout. It does not return.
func (c *Comm) Abort(code int, msg string) {
	fmt.Fprintf(os.Stderr, "dist: rank %d of %d aborting the job: %s\n", c.rank, c.size, msg)
	c.b.abort(code)
	c.exit(code)
}

// Close shuts the communicator down (MPI_Finalize), after which no call works. Every
// rank must call it, after its last collective. A second Close is a no-op.
func (c *Comm) Close() error {
	if c.reqs == nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closed {
			return nil
		}
		c.closed = true
		return wrapErr("Close", c.b.finalize())
	}
	err := c.call("Close", c.b.finalize)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.reqs)
	}
	if errors.Is(err, ErrClosed) {
		return nil
	}
	return err
}

//go:build !mpi

package dist

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/tensor"
)

func TestOpenSingleProcess(t *testing.T) {
	t.Setenv("OMPI_COMM_WORLD_SIZE", "")
	t.Setenv("PMI_SIZE", "")
	c, err := Open()
	require.NoError(t, err)
	require.Equal(t, []int{0, 1, 0, 1}, []int{c.Rank(), c.Size(), c.LocalRank(), c.LocalSize()})
	require.True(t, c.IsRoot())
	require.NoError(t, checkAllReduce(c))
	require.NoError(t, checkBroadcast(c))
	require.NoError(t, c.Close())
	require.NoError(t, c.Close())
	require.ErrorIs(t, c.Barrier(), ErrClosed)
	require.ErrorIs(t, c.AllReduceSum([]float32{1}), ErrClosed)
}

func TestOpenUnderMPIRunWithoutTag(t *testing.T) {
	for _, v := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"} {
		t.Run(v, func(t *testing.T) {
			t.Setenv("OMPI_COMM_WORLD_SIZE", "")
			t.Setenv("PMI_SIZE", "")
			t.Setenv(v, "4")
			_, err := Open()
			require.ErrorContains(t, err, "-tags mpi")
			require.ErrorContains(t, err, v+"=4")
		})
	}
	t.Setenv("OMPI_COMM_WORLD_SIZE", "1")
	c, err := Open()
	require.NoError(t, err, "a job of one rank is fine")
	require.NoError(t, c.Close())
}

func TestGroupCollectives(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			comms, _ := newGroup(n)
			require.NoError(t, onRanks(comms, checkAllReduce))
			require.NoError(t, onRanks(comms, checkBroadcast))
			require.NoError(t, onRanks(comms, func(c *Comm) error { return c.Close() }))
		})
	}
}

// The group backend itself must be able to fail: buffers of different lengths.
func TestGroupDetectsMismatch(t *testing.T) {
	comms, _ := newGroup(2)
	err := onRanks(comms, func(c *Comm) error { return c.AllReduceSum(make([]float32, 3+c.Rank())) })
	require.ErrorContains(t, err, "elements")
}

// A rank that never joins a collective makes the others abort the job after the
// timeout, with a message naming the operation, instead of waiting forever.
func TestTimeoutAbortsJob(t *testing.T) {
	comms, g := newGroup(3, WithTimeout(200*time.Millisecond))
	start := time.Now()
	err := onRanks(comms[:2], func(c *Comm) error { return c.AllReduceSum(make([]float32, 5)) })
	require.Less(t, time.Since(start), 5*time.Second)
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorContains(t, err, "AllReduceSum of 5 float32 did not complete within 200ms")
	require.Equal(t, 3, g.abortCode())
	// The comm goroutines were released by the abort: the job reports it.
	require.Error(t, comms[2].Barrier())
}

// A collective queued behind a stuck one times out too.
func TestTimeoutWhileQueued(t *testing.T) {
	comms, g := newGroup(2, WithTimeout(200*time.Millisecond))
	c := comms[0]
	release := make(chan struct{})
	defer close(release)
	c.reqs <- func() { <-release } // the comm goroutine is now busy
	err := c.AllReduceSumInt64([]int64{1})
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorContains(t, err, "AllReduceSumInt64 of 1 values did not complete")
	require.Equal(t, 3, g.abortCode())
}

func TestAbort(t *testing.T) {
	comms, g := newGroup(2)
	exited := -1
	comms[1].exit = func(code int) { exited = code }
	comms[1].Abort(7, "loader failed")
	require.Equal(t, 7, exited)
	require.Equal(t, 7, g.abortCode())
	require.Error(t, comms[0].Barrier())
}

func TestSameAsBigBatch(t *testing.T) {
	ranks := []int{2, 4}
	if testing.Short() {
		ranks = ranks[:1]
	}
	for _, n := range ranks {
		for _, overlap := range []bool{false, true} {
			t.Run(fmt.Sprintf("ranks=%d/overlap=%v", n, overlap), func(t *testing.T) {
				comms, _ := newGroup(n)
				require.NoError(t, onRanks(comms, func(c *Comm) error { return checkSameAsBigBatch(c, overlap) }))
			})
		}
	}
}

// The property test must be able to fail: without the reduction, ranks train on their
// own shards only.
func TestSameAsBigBatchFailsWithoutReduction(t *testing.T) {
	comms, _ := newGroup(2)
	err := onRanks(comms, func(c *Comm) error {
		return checkSameAsBigBatch(&Comm{b: single{}, hostRanks: hostRanks{c.rank, 1, 0, 1}}, false)
	})
	require.Error(t, err)
	require.ErrorContains(t, err, "differs from the single-process run")
}

func TestBroadcastParamsChecksModels(t *testing.T) {
	comms, _ := newGroup(2)
	err := onRanks(comms, func(c *Comm) error {
		tr, err := newTrainer(1)
		if err != nil {
			return err
		}
		ps := tr.m.StateDict()
		if c.Rank() == 1 {
			ps = ps[:len(ps)-1]
		}
		return BroadcastParams(c, ps)
	})
	require.ErrorContains(t, err, "1 of 2 ranks have parameters")
	// Both ranks fail, not just the odd one.
	require.Equal(t, 2, len(splitJoined(err)))
}

func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestReducerMisuse(t *testing.T) {
	comms, _ := newGroup(2)
	err := onRanks(comms, func(c *Comm) error {
		tr, err := newTrainer(1)
		if err != nil {
			return err
		}
		ps := tr.m.Params()
		r, err := NewReducer(c, ps[1:])
		if err != nil {
			return err
		}
		r.Ready(ps[2], ps[2], ps[0])
		err = r.Reduce()
		if err == nil {
			return errors.New("no error")
		}
		// The next step starts clean.
		r.Ready(ps[2])
		return errors.Join(err, r.Reduce())
	})
	require.ErrorContains(t, err, `"features.3.weight" marked ready twice`)
	require.ErrorContains(t, err, `"features.0.weight" is not one of the reducer's`)
	require.Len(t, splitJoined(err), 2)
}

// Buckets are reduced while backward still runs, as soon as they are ready, and in
// bucket order whatever order Ready is called in.
func TestReducerOverlapsAndKeepsOrder(t *testing.T) {
	comms, g := newGroup(2)
	err := onRanks(comms, func(c *Comm) error {
		var ps []*layers.Param
		for i, n := range []int{3, 250, 5, 250, 7} {
			p := &layers.Param{Name: fmt.Sprint("p", i), Value: tensor.New(n), Grad: tensor.New(n)}
			for j := range p.Grad.Data() {
				p.Grad.Data()[j] = float32((c.Rank() + 1) * (i + 1))
			}
			ps = append(ps, p)
		}
		r, err := NewReducer(c, ps, WithBucketBytes(500, 1010))
		if err != nil {
			return err
		}
		// Buckets, in order: {p4 p3} (first, ≥ 500 bytes), {p2 p1} (≥ 1010), {p0}.
		want := []Bucket{{Params: []string{"p4", "p3"}, Bytes: 1028}, {Params: []string{"p2", "p1"}, Bytes: 1020}, {Params: []string{"p0"}, Bytes: 12, InPlace: true}}
		if fmt.Sprint(r.Buckets()) != fmt.Sprint(want) {
			return fmt.Errorf("buckets %v, want %v", r.Buckets(), want)
		}
		reduced := &g.reduced[c.Rank()]
		r.Ready(ps[4], ps[3])
		deadline := time.Now().Add(10 * time.Second)
		for reduced.Load() < 1 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if n := reduced.Load(); n != 1 {
			return fmt.Errorf("rank %d: %d buckets reduced after the first was ready, want 1 before Reduce", c.Rank(), n)
		}
		r.Ready(ps[0]) // the last bucket must wait for the middle one
		time.Sleep(50 * time.Millisecond)
		if n := reduced.Load(); n != 1 {
			return fmt.Errorf("rank %d: %d buckets reduced, want 1: bucket 2 went before bucket 1", c.Rank(), n)
		}
		if err := r.Reduce(); err != nil {
			return err
		}
		if n := reduced.Load(); n != 3 {
			return fmt.Errorf("rank %d: %d buckets reduced, want 3", c.Rank(), n)
		}
		if st := r.Stats(); st.Steps != 1 || st.Comm <= 0 || st.Exposed <= 0 {
			return fmt.Errorf("rank %d: stats %+v after one step", c.Rank(), st)
		}
		for i, p := range ps {
			for j, v := range p.Grad.Data() {
				if want := float32(3*(i+1)) / 2; v != want {
					return fmt.Errorf("rank %d: %s[%d] = %g, want the mean %g", c.Rank(), p.Name, j, v, want)
				}
			}
		}
		return nil
	})
	require.NoError(t, err)
}

package train

import (
	"context"
	"io"
	"math"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/tensor"
)

// inProcessComm sums float64 vectors over size goroutines: a stand-in for MPI's
// all-reduce that exercises the trainer's data-parallel hooks.
type inProcessComm struct {
	size int
	mu   sync.Mutex
	cond *sync.Cond
	sum  []float64
	in   int // contributions to the current round
	gen  int
	out  []float64
	left int // ranks that still have to read the result
}

func newInProcessComm(size int) *inProcessComm {
	c := &inProcessComm{size: size}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *inProcessComm) allReduce(v []float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.left > 0 { // the previous round's result is still being read
		c.cond.Wait()
	}
	if c.in == 0 {
		c.sum = make([]float64, len(v))
	}
	for i, x := range v {
		c.sum[i] += x
	}
	c.in++
	gen := c.gen
	if c.in == c.size {
		c.out, c.in, c.left = c.sum, 0, c.size
		c.gen++
		c.cond.Broadcast()
	}
	for c.gen == gen {
		c.cond.Wait()
	}
	copy(v, c.out)
	c.left--
	if c.left == 0 {
		c.cond.Broadcast()
	}
}

func (c *inProcessComm) distributed(rank int) Distributed {
	var buf []float64
	return Distributed{
		Rank: rank, Size: c.size,
		ReduceGrads: func(params []*layers.Param) error {
			buf = buf[:0]
			for _, p := range params {
				for _, g := range p.Grad.Data() {
					buf = append(buf, float64(g))
				}
			}
			c.allReduce(buf)
			i := 0
			for _, p := range params {
				g := p.Grad.Data()
				for j := range g {
					g[j] = float32(buf[i] / float64(c.size))
					i++
				}
			}
			return nil
		},
		ReduceSums: func(v []float64) error { c.allReduce(v); return nil },
	}
}

// Two ranks of batch 32 with mean-reduced gradients train like one process of batch
// 64 (no batch norm, no dropout: both would see other batches), stay identical to
// each other, and only rank 0 writes files.
func TestDataParallelHooks(t *testing.T) {
	cfg := func(dir string, batch int) Config {
		c := tinyConfig(dir)
		c.Model, c.DropRate, c.NumSamples, c.BatchSize, c.EpochSize = "vgg11", 0, 256, batch, 1
		c.WarmupEpochs, c.DecayEpochs, c.WeightDecay = 0, 1, 1e-3
		return c
	}
	initial, _ := build(t, cfg(t.TempDir(), 64))
	single, _ := build(t, cfg(t.TempDir(), 64))
	want, err := single.Run(context.Background())
	require.NoError(t, err)

	comm := newInProcessComm(2)
	dirs := []string{t.TempDir(), t.TempDir()}
	jobs := make([]*Job, 2)
	results := make([]*Result, 2)
	errs := make([]error, 2)
	var ready [2][]*tensor.Tensor // parameter values in the order the gradient hook saw them
	for r := range jobs {
		d := comm.distributed(r)
		d.GradReady = func(ps []*layers.Param) {
			if len(ready[r]) < len(jobs[r].Model.Params()) {
				for _, p := range ps {
					ready[r] = append(ready[r], p.Value)
				}
			}
		}
		jobs[r], errs[r] = Build(cfg(dirs[r], 32), io.Discard, d)
		require.NoError(t, errs[r])
		require.Equal(t, 4, jobs[r].Train.Steps())
	}
	var wg sync.WaitGroup
	for r := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[r], errs[r] = jobs[r].Run(context.Background())
		}()
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])

	// Compare the updates (trained minus initial weights), which the reduction decides.
	p0, p1, ps, pi := jobs[0].Model.Params(), jobs[1].Model.Params(), single.Model.Params(), initial.Model.Params()
	for i := range p0 {
		require.Equal(t, p0[i].Value.Data(), p1[i].Value.Data(), "ranks diverged at %s", p0[i].Name)
		worst, scale := 0.0, 0.0
		for j, v := range ps[i].Value.Data() {
			w0 := pi[i].Value.Data()[j]
			ds, dd := float64(v-w0), float64(p0[i].Value.Data()[j]-w0)
			worst = math.Max(worst, math.Abs(ds-dd))
			scale = math.Max(scale, math.Abs(ds))
		}
		require.Positive(t, scale, ps[i].Name)
		require.LessOrEqual(t, worst, 1e-3*scale, ps[i].Name)
	}
	// Evaluation counts were summed over both shards: the whole test set.
	require.Equal(t, 1000, results[0].Epochs[0].Val.Samples)
	require.Equal(t, results[0].Epochs[0].Val.Top1, results[1].Epochs[0].Val.Top1)
	require.InDelta(t, want.Epochs[0].Val.Top1, results[0].Epochs[0].Val.Top1, 0.005)

	require.FileExists(t, dirs[0]+"/vgg11-1_4.ckpt")
	// The hook saw every parameter, the classifier's first (backward order).
	require.Len(t, ready[0], len(p0))
	seen := map[*tensor.Tensor]bool{}
	for _, v := range ready[0] {
		seen[v] = true
	}
	for _, p := range p0 {
		require.True(t, seen[p.Value], p.Name)
	}
	require.Same(t, p0[len(p0)-2].Value, ready[0][0], "the last Linear's weight comes first")
	entries, err := os.ReadDir(dirs[1])
	require.NoError(t, err)
	require.Empty(t, entries, "rank 1 writes nothing")
}

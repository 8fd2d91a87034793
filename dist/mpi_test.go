//go:build mpi

package dist

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/tensor"
)

// These tests run as every rank of an mpirun job (see run_mpi_tests.sh):
//
//	go test -c -tags mpi -o dist.test ./dist
//	mpirun --allow-run-as-root --oversubscribe -np 4 ./dist.test
//
// Started without mpirun they run as a job of one rank.

var comm *Comm

func TestMain(m *testing.M) {
	timeout := 2 * time.Minute
	if os.Getenv("GOVGG_DIST_FAULT") != "" {
		timeout = 3 * time.Second
	}
	var err error
	if comm, err = Open(WithTimeout(timeout)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	if err := comm.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 2
	}
	os.Exit(code)
}

func TestMPIWorld(t *testing.T) {
	if n, err := strconv.Atoi(os.Getenv("OMPI_COMM_WORLD_SIZE")); err == nil {
		require.Equal(t, n, comm.Size())
		require.Equal(t, os.Getenv("OMPI_COMM_WORLD_RANK"), strconv.Itoa(comm.Rank()))
		require.Equal(t, os.Getenv("OMPI_COMM_WORLD_LOCAL_RANK"), strconv.Itoa(comm.LocalRank()), "local rank from MPI_Comm_split_type")
		require.Equal(t, os.Getenv("OMPI_COMM_WORLD_LOCAL_SIZE"), strconv.Itoa(comm.LocalSize()))
	}
	ranks := make([]int64, comm.Size())
	ranks[comm.Rank()] = 1
	require.NoError(t, comm.AllReduceSumInt64(ranks))
	require.Equal(t, slices.Repeat([]int64{1}, comm.Size()), ranks, "every rank is distinct")
	_, err := Open()
	require.ErrorContains(t, err, "Open called twice")
}

func TestMPIAllReduce(t *testing.T) { require.NoError(t, checkAllReduce(comm)) }
func TestMPIBroadcast(t *testing.T) { require.NoError(t, checkBroadcast(comm)) }

func TestMPISameAsBigBatch(t *testing.T) {
	for _, overlap := range []bool{false, true} {
		require.NoError(t, checkSameAsBigBatch(comm, overlap), "overlap %v", overlap)
	}
}

// Go turns SIGSEGV into a panic; MPI must not have taken the signal over (Open MPI
// leaves handlers alone that exist before MPI_Init, and Go installs its own first).
func TestMPIGoSignalsStillWork(t *testing.T) {
	var p *int
	require.Panics(t, func() { _ = *p })
}

// TestMPIFault is run by run_mpi_tests.sh with GOVGG_DIST_FAULT set; the job must
// fail, quickly and loudly, not hang:
//
//	hang: rank 1 never joins the collective; rank 0 aborts the job after the timeout.
//	exit: rank 1 exits without MPI_Finalize; mpirun ends the job.
//	panic: rank 1 panics; mpirun ends the job.
func TestMPIFault(t *testing.T) {
	fault := os.Getenv("GOVGG_DIST_FAULT")
	if fault == "" {
		t.Skip("GOVGG_DIST_FAULT is not set")
	}
	require.Greater(t, comm.Size(), 1)
	if comm.Rank() == 1 {
		switch fault {
		case "hang":
			time.Sleep(time.Hour)
		case "exit":
			os.Exit(0)
		case "panic":
			panic("rank 1 fails on purpose")
		default:
			t.Fatalf("unknown GOVGG_DIST_FAULT %q", fault)
		}
	}
	err := comm.AllReduceSum(make([]float32, 1000))
	t.Fatalf("rank %d: the collective returned (error %v) instead of ending the job", comm.Rank(), err)
}

// TestMPIBandwidth measures in-place all-reduce of float32 buffers from 1 MB to VGG16's
// 553 MB of gradients; run by run_mpi_tests.sh with GOVGG_DIST_BENCH=1.
func TestMPIBandwidth(t *testing.T) {
	if os.Getenv("GOVGG_DIST_BENCH") == "" {
		t.Skip("GOVGG_DIST_BENCH is not set")
	}
	n := comm.Size()
	if comm.IsRoot() {
		fmt.Printf("all-reduce, %d ranks: size, median time, algorithm bandwidth S/t, bus bandwidth S/t·2(N-1)/N\n", n)
	}
	buf := make([]float32, 553_430_176/4)
	for _, mb := range []float64{1, 4, 16, 64, 256, 553.43} {
		x := buf[:int(mb*1e6/4)]
		for i := range x {
			x[i] = 1
		}
		reps := 9
		if mb > 100 {
			reps = 3
		}
		var times []time.Duration
		for range reps + 1 {
			require.NoError(t, comm.Barrier())
			start := time.Now()
			require.NoError(t, comm.AllReduceSum(x))
			times = append(times, time.Since(start))
		}
		times = times[1:] // the first one maps pages and sets up connections
		slices.Sort(times)
		// Each rank's slowest view is what training sees: take the maximum over ranks.
		med := []float64{times[len(times)/2].Seconds()}
		medMax := []float64{0}
		for r := range n {
			v := []float64{0}
			if r == comm.Rank() {
				v[0] = med[0]
			}
			require.NoError(t, comm.AllReduceSumFloat64(v))
			medMax[0] = max(medMax[0], v[0])
		}
		if comm.IsRoot() {
			alg := mb / 1e3 / medMax[0]
			fmt.Printf("%8.1f MB  %9.2f ms  %6.2f GB/s  %6.2f GB/s\n", mb, medMax[0]*1e3, alg, alg*2*float64(n-1)/float64(n))
		}
	}
	buf = nil

	// The whole of VGG16's gradients through a Reducer (not overlapped), for the
	// cost of the buckets' copies against the single 553 MB all-reduce above.
	names, sizes := vgg16Params()
	ps := make([]*layers.Param, len(names))
	for i, name := range names {
		g := tensor.New(sizes[i] / 4)
		ps[i] = &layers.Param{Name: name, Value: g, Grad: g}
	}
	r, err := NewReducer(comm, ps)
	require.NoError(t, err)
	var times []time.Duration
	for range 4 {
		require.NoError(t, comm.Barrier())
		start := time.Now()
		require.NoError(t, r.Reduce())
		times = append(times, time.Since(start))
	}
	times = times[1:]
	slices.Sort(times)
	if comm.IsRoot() {
		fmt.Printf("Reducer.Reduce of VGG16's gradients (%d buckets), rank 0: median %.0f ms\n", len(r.Buckets()), times[len(times)/2].Seconds()*1e3)
	}
}

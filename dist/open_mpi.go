//go:build mpi

package dist

/*
#cgo pkg-config: ompi
#include <stdint.h>
#include <mpi.h>

// Collectives take MPI's int counts; larger buffers go in chunks of 2^30 elements.
#define GOVGG_CHUNK (1LL << 30)

// The MPI handles (MPI_COMM_WORLD, MPI_FLOAT, …) are macros that cgo cannot use, so
// these helpers take plain C types.

static int govgg_init(int *rank, int *size, int *local, int *localSize, int *provided) {
	int err = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
	if (err != MPI_SUCCESS) return err;
	// Return error codes instead of aborting inside the library, so Go reports them.
	if ((err = MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN)) != MPI_SUCCESS) return err;
	if ((err = MPI_Comm_rank(MPI_COMM_WORLD, rank)) != MPI_SUCCESS) return err;
	if ((err = MPI_Comm_size(MPI_COMM_WORLD, size)) != MPI_SUCCESS) return err;
	MPI_Comm node;
	if ((err = MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node)) != MPI_SUCCESS) return err;
	if ((err = MPI_Comm_rank(node, local)) == MPI_SUCCESS) err = MPI_Comm_size(node, localSize);
	MPI_Comm_free(&node);
	return err;
}

// kind: 0 float32, 1 float64, 2 int64.
static int govgg_allreduce(void *buf, int64_t n, int kind) {
	MPI_Datatype t = kind == 0 ? MPI_FLOAT : kind == 1 ? MPI_DOUBLE : MPI_INT64_T;
	int64_t size = kind == 0 ? 4 : 8;
	char *p = buf;
	while (n > 0) {
		int c = n > GOVGG_CHUNK ? (int)GOVGG_CHUNK : (int)n;
		int err = MPI_Allreduce(MPI_IN_PLACE, p, c, t, MPI_SUM, MPI_COMM_WORLD);
		if (err != MPI_SUCCESS) return err;
		p += c * size;
		n -= c;
	}
	return MPI_SUCCESS;
}

static int govgg_bcast(void *buf, int64_t n, int root) {
	char *p = buf;
	while (n > 0) {
		int c = n > GOVGG_CHUNK ? (int)GOVGG_CHUNK : (int)n;
		int err = MPI_Bcast(p, c, MPI_BYTE, root, MPI_COMM_WORLD);
		if (err != MPI_SUCCESS) return err;
		p += c;
		n -= c;
	}
	return MPI_SUCCESS;
}

static int govgg_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static int govgg_finalize(void) { return MPI_Finalize(); }
static void govgg_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

static void govgg_error_string(int code, char *s, int *len) {
	if (MPI_Error_string(code, s, len) != MPI_SUCCESS) *len = 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// MPI reports whether this binary was built with -tags mpi.
const MPI = true

var opened sync.Once

// Open initializes MPI (MPI_Init_thread, MPI_THREAD_SERIALIZED) on a goroutine locked
// to its OS thread, which then makes every MPI call of the process, and returns the
// communicator of MPI_COMM_WORLD. MPI can be initialized once per process, so Open
// can be called once. Started without mpirun, it is a job of one process.
func Open(opts ...Option) (*Comm, error) {
	first := false
	opened.Do(func() { first = true })
	if !first {
		return nil, errors.New("dist: Open called twice; MPI can be initialized only once per process")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	return newComm(o, true, func() (backend, hostRanks, error) {
		var rank, size, local, localSize, provided C.int
		if err := mpiErr(C.govgg_init(&rank, &size, &local, &localSize, &provided)); err != nil {
			return nil, hostRanks{}, fmt.Errorf("dist: MPI_Init_thread: %w", err)
		}
		// SERIALIZED is enough (one thread makes every call); FUNNELED would be
		// too, since that thread is the one that initialized MPI.
		if provided < C.MPI_THREAD_FUNNELED {
			return nil, hostRanks{}, fmt.Errorf("dist: MPI provides thread level %d, below MPI_THREAD_FUNNELED", provided)
		}
		return mpiBackend{}, hostRanks{int(rank), int(size), int(local), int(localSize)}, nil
	})
}

type mpiBackend struct{}

func (mpiBackend) allReduceF32(buf []float32) error {
	return allReduce(unsafe.Pointer(unsafe.SliceData(buf)), len(buf), 0)
}

func (mpiBackend) allReduceF64(buf []float64) error {
	return allReduce(unsafe.Pointer(unsafe.SliceData(buf)), len(buf), 1)
}

func (mpiBackend) allReduceI64(buf []int64) error {
	return allReduce(unsafe.Pointer(unsafe.SliceData(buf)), len(buf), 2)
}

// allReduce skips empty buffers: every rank passes the same length, so every rank
// skips.
func allReduce(p unsafe.Pointer, n, kind int) error {
	if n == 0 {
		return nil
	}
	return mpiErr(C.govgg_allreduce(p, C.int64_t(n), C.int(kind)))
}

func (mpiBackend) broadcast(buf []byte, root int) error {
	if len(buf) == 0 {
		return nil
	}
	return mpiErr(C.govgg_bcast(unsafe.Pointer(unsafe.SliceData(buf)), C.int64_t(len(buf)), C.int(root)))
}

func (mpiBackend) barrier() error  { return mpiErr(C.govgg_barrier()) }
func (mpiBackend) finalize() error { return mpiErr(C.govgg_finalize()) }
func (mpiBackend) abort(code int)  { C.govgg_abort(C.int(code)) }

// mpiErr turns an MPI return code into an error with MPI's own text.
func mpiErr(code C.int) error {
	if code == C.MPI_SUCCESS {
		return nil
	}
	var buf [C.MPI_MAX_ERROR_STRING]C.char
	var n C.int
	C.govgg_error_string(code, &buf[0], &n)
	return fmt.Errorf("MPI error %d: %s", int(code), C.GoStringN(&buf[0], n))
}

//go:build !mpi

package dist

import (
	"fmt"
	"os"
	"strconv"
)

// MPI reports whether this binary was built with -tags mpi.
const MPI = false

// Open returns the communicator of this process. Built without -tags mpi it is a
// job of one process (rank 0 of 1), and Open fails if the process was started by
// mpirun (or another MPI launcher) as one of several ranks, which would otherwise
// train N independent copies.
func Open(opts ...Option) (*Comm, error) {
	if err := launchedAsMany(); err != nil {
		return nil, err
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	return newComm(o, false, func() (backend, hostRanks, error) { return single{}, hostRanks{0, 1, 0, 1}, nil })
}

// launchedAsMany reports an error when a launcher's environment says that this is one
// of several ranks: OMPI_COMM_WORLD_SIZE (Open MPI), PMI_SIZE (MPICH/Hydra, Slurm).
func launchedAsMany() error {
	for _, v := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"} {
		if n, err := strconv.Atoi(os.Getenv(v)); err == nil && n > 1 {
			return fmt.Errorf("dist: started by an MPI launcher as one of %d ranks (%s=%d), but this binary was built without -tags mpi; rebuild it with `go build -tags mpi` (needs libopenmpi-dev) or run it without mpirun", n, v, n)
		}
	}
	return nil
}

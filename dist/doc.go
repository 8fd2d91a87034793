// Package dist runs data-parallel training over MPI: N processes (ranks) each train a
// replica of the model on their own shard of every global batch, and average their
// gradients before each optimizer step, as PyTorch's DistributedDataParallel and
// MindSpore's data-parallel mode do.
//
// Built with -tags mpi, Open initializes Open MPI through cgo (pkg-config "ompi"; on
// Debian, apt-get install openmpi-bin libopenmpi-dev) and the program is started by
// mpirun:
//
//	go build -tags mpi -o vgg ./cmd/vgg
//	mpirun -np 4 ./vgg train …                         # one host
//	mpirun -np 16 --hostfile hosts ./vgg train …        # several hosts
//
// Without the tag, Open returns a communicator of one process, and fails if mpirun
// started the process as one of several ranks.
//
// # Communicator
//
// Comm offers what training needs: Rank, Size, LocalRank, in-place all-reduce of
// float32 buffers (sum, mean) and of float64/int64 metrics (sums), broadcasts,
// Barrier, Abort and Close. Every MPI call of the process, from MPI_Init_thread to
// MPI_Finalize, is made by one goroutine locked to its OS thread; other goroutines
// hand it requests and wait. Every collective has a timeout (WithTimeout, default 5
// minutes): when it expires the job is aborted (MPI_Abort) with a message naming the
// operation, so that a rank that died or hung makes the job fail instead of wait
// forever.
//
// # Gradient reduction
//
// A Reducer groups the gradients into buckets in reverse parameter order, the order in
// which backward produces them: a first bucket of about 1 MiB so that communication
// starts early, then about 25 MiB each (DDP's defaults), and a tensor of 25 MiB or more
// (VGG's FC6 and FC7 weights) alone, reduced in place in its gradient. Other buckets
// are copied into a flat buffer, all-reduced by one collective, scaled by 1/N and
// copied back. With Ready called after each layer's backward, each bucket is reduced
// as soon as its gradients are final, overlapping the rest of the backward pass;
// Reduce, after backward, reduces whatever is left and waits. Batch-norm running
// statistics stay local to each rank, as in MindCV.
//
// BroadcastParams makes every rank start from rank 0's weights.
package dist

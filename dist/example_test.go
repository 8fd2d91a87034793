//go:build !mpi

package dist_test

import (
	"fmt"
	"log"

	"github.com/govgg/govgg/dist"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/optim"
	"github.com/govgg/govgg/tensor"
	"github.com/govgg/govgg/vgg"
)

// A data-parallel training loop. Started by mpirun with a binary built with -tags mpi,
// each of the N ranks trains on its own shard of every global batch; otherwise this is
// a job of one process.
func Example() {
	c, err := dist.Open()
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	m, err := vgg.New11(vgg.WithWidthDivisor(16), vgg.WithHidden(64), vgg.WithNumClasses(10), vgg.WithPoolSize(1))
	if err != nil {
		log.Fatal(err)
	}
	// Start from rank 0's weights.
	if err := dist.BroadcastParams(c, m.StateDict()); err != nil {
		log.Fatal(err)
	}
	m.ParamsChanged()
	m.SetTraining(true)
	r, err := dist.NewReducer(c, m.Params(), dist.WithBucketBytes(4<<10, 64<<10))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(r)
	opt, err := optim.NewSGD(m.Params(), optim.WithLR(0.01), optim.WithMomentum(0.9), optim.WithParamsChanged(m.ParamsChanged))
	if err != nil {
		log.Fatal(err)
	}
	ce, err := layers.NewCrossEntropy(0.1)
	if err != nil {
		log.Fatal(err)
	}

	const perRank = 4 // the global batch is perRank·c.Size()
	x := tensor.New(perRank, 3, 32, 32)
	labels := make([]int, perRank)
	for step := range 3 {
		// This rank's shard of the step's global batch.
		for i := range labels {
			labels[i] = (c.Rank()*perRank + i + step) % 10
		}
		logits, err := m.Forward(x)
		if err != nil {
			log.Fatal(err)
		}
		loss, dlogits, err := ce.Forward(logits, labels)
		if err != nil {
			log.Fatal(err)
		}
		if err := m.Backward(dlogits); err != nil {
			log.Fatal(err)
		}
		if err := r.Reduce(); err != nil { // gradients: the mean over ranks
			log.Fatal(err)
		}
		if err := opt.Step(); err != nil {
			log.Fatal(err)
		}
		// Metrics: sums over ranks.
		sums := []float64{float64(loss) * perRank, perRank}
		if err := c.AllReduceSumFloat64(sums); err != nil {
			log.Fatal(err)
		}
		if c.IsRoot() {
			fmt.Printf("step %d: loss %.1f over %g samples\n", step, sums[0]/sums[1], sums[1])
		}
	}
	// Output:
	// 4 gradient buckets, job of 1:
	//   0: 19.2 kB, flat: classifier.6.bias classifier.6.weight classifier.3.bias classifier.3.weight
	//   1: 82.4 kB, flat: classifier.0.bias classifier.0.weight features.18.bias features.18.weight features.16.bias features.16.weight
	//   2: 69.5 kB, flat: features.13.bias features.13.weight features.11.bias features.11.weight features.8.bias features.8.weight features.6.bias features.6.weight
	//   3: 1.6 kB, flat: features.3.bias features.3.weight features.0.bias features.0.weight
	// step 0: loss 2.3 over 4 samples
	// step 1: loss 2.3 over 4 samples
	// step 2: loss 2.3 over 4 samples
}

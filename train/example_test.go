package train_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/optim"
	"github.com/govgg/govgg/tensor"
	"github.com/govgg/govgg/train"
	"github.com/govgg/govgg/vgg"
)

// A recipe in Go: MindCV's keys as Config fields, here a tiny VGG-11-BN on part of the
// Fashion-MNIST subset that package data embeds, trained for one epoch.
func ExampleBuild() {
	dir, err := os.MkdirTemp("", "train-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	cfg := train.EmbeddedConfig() // the recipe of 'vgg train' without arguments
	cfg.WidthDivisor, cfg.NumSamples, cfg.BatchSize, cfg.EpochSize = 16, 256, 32, 1
	cfg.WarmupEpochs, cfg.DecayEpochs = 0, 1
	cfg.CkptSaveDir = dir
	job, err := train.Build(cfg, io.Discard, train.Distributed{Size: 1})
	if err != nil {
		panic(err)
	}
	res, err := job.Run(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println("steps per epoch:", job.Train.Steps())
	fmt.Println("evaluated on:", res.Epochs[0].Val.Samples, "test images")
	_, err = os.Stat(dir + "/" + train.CheckpointName(cfg.Model, 1, job.Train.Steps()))
	fmt.Println("checkpoint written:", err == nil)
	// Output:
	// steps per epoch: 8
	// evaluated on: 1000 test images
	// checkpoint written: true
}

func ExampleMetrics_Dict() {
	m := train.Metrics{Top1: 0.9355, Top5: 0.9991, Loss: 0.25, HasTop5: true}
	fmt.Println(m.Dict())
	// Output: {'Top_1_Accuracy': 0.9355, 'Top_5_Accuracy': 0.9991, 'loss': 0.25}
}

// The training step from Go, without a recipe: a model, an optimizer over its
// parameters and a loss make a Trainer, whose Step does forward, loss, backward and
// update.
func ExampleNew() {
	m, err := vgg.New11(vgg.WithBatchNorm(true), vgg.WithWidthDivisor(16), vgg.WithHidden(0),
		vgg.WithPoolSize(1), vgg.WithInChannels(1), vgg.WithNumClasses(10))
	if err != nil {
		panic(err)
	}
	opt, err := optim.NewSGD(m.Params(), optim.WithLR(0.05), optim.WithMomentum(0.9), optim.WithParamsChanged(m.ParamsChanged))
	if err != nil {
		panic(err)
	}
	ce, _ := layers.NewCrossEntropy(0.1)
	tr, err := train.New(m, opt, ce)
	if err != nil {
		panic(err)
	}
	x := tensor.New(8, 1, 32, 32)
	for i := range x.Data() {
		x.Data()[i] = float32(i%29) / 29
	}
	labels := []int{0, 1, 2, 3, 4, 5, 6, 7}
	first, _ := tr.Step(x, labels)
	var last float32
	for range 15 {
		last, _ = tr.Step(x, labels)
	}
	fmt.Println("loss fell:", last < first)
	// Output: loss fell: true
}

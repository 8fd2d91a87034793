package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/optim"
	"github.com/govgg/govgg/tensor"
	"github.com/govgg/govgg/vgg"
)

func runBench(args []string, stdout io.Writer) error {
	fs := newFlags("bench", stdout)
	models := fs.String("models", "vgg11,vgg16,vgg19", "comma-separated `models` (vgg11 … vgg19_bn)")
	batches := fs.String("batch", "1", "comma-separated batch `sizes`")
	threads := fs.String("threads", fmt.Sprintf("1,%d", runtime.GOMAXPROCS(0)), "comma-separated thread `counts`")
	size := fs.Int("size", 224, "input `side` in pixels")
	iters := fs.Int("iters", 5, "timed iterations per row (the median is reported)")
	trainMode := fs.Bool("train", false, "time training steps (forward, label-smoothed cross-entropy, backward, SGD-momentum step) instead of inference")
	classes := fs.Int("num_classes", 1000, "classifier outputs")
	head := fs.String("head", "vgg", "classifier: vgg (25088-4096-4096-classes) or linear (CIFAR style: 1×1 pool, Linear(512, classes))")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts := []vgg.Option{vgg.WithNumClasses(*classes)}
	switch *head {
	case "vgg":
	case "linear":
		opts = append(opts, vgg.WithPoolSize(1), vgg.WithHidden(0))
	default:
		return fmt.Errorf("-head must be vgg or linear, got %q", *head)
	}
	bs, err := parseInts(*batches)
	if err != nil {
		return fmt.Errorf("-batch: %w", err)
	}
	ts, err := parseInts(*threads)
	if err != nil {
		return fmt.Errorf("-threads: %w", err)
	}
	if *iters < 1 {
		return fmt.Errorf("-iters must be at least 1, got %d", *iters)
	}
	what := "forward"
	if *trainMode {
		what = "training-step"
	}
	fmt.Fprintf(stdout, "govgg %s benchmark: %s kernels, GOMAXPROCS %d, %d×%d input, median of %d\n\n",
		what, asm.Impl(), runtime.GOMAXPROCS(0), *size, *size, *iters)
	// Fixed widths rather than a tabwriter: rows print as they are measured.
	const row = "%-9s %9s %7s %5s %10s %9s %8s\n"
	fmt.Fprintf(stdout, row, "model", "params(M)", "threads", "batch", "resolution", "ms/step", "img/s")
	defer asm.SetThreads(asm.SetThreads(0))
	for _, name := range parseList(*models) {
		m, err := vgg.NewByName(name, opts...)
		if err != nil {
			return err
		}
		step := func(x *tensor.Tensor) error { _, err := m.Forward(x); return err }
		if *trainMode {
			if step, err = trainStep(m); err != nil {
				return err
			}
		}
		for _, b := range bs {
			x := tensor.New(b, 3, *size, *size)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range x.Data() {
				x.Data()[i] = float32(rng.NormFloat64())
			}
			for _, t := range ts {
				asm.SetThreads(t)
				ms, err := timeSteps(step, x, *iters)
				if err != nil {
					return fmt.Errorf("%s batch %d: %w", name, b, err)
				}
				fmt.Fprintf(stdout, row, name, fmt.Sprintf("%.2f", float64(m.NumParams())/1e6), fmt.Sprint(t), fmt.Sprint(b),
					fmt.Sprintf("%dx%d", *size, *size), fmt.Sprintf("%.1f", ms), fmt.Sprintf("%.2f", float64(b)*1000/ms))
			}
		}
	}
	return nil
}

// timeSteps runs one warm-up step, then iters timed steps, and returns the median ms.
func timeSteps(step func(*tensor.Tensor) error, x *tensor.Tensor, iters int) (float64, error) {
	if err := step(x); err != nil {
		return 0, err
	}
	times := make([]float64, iters)
	for i := range times {
		start := time.Now()
		if err := step(x); err != nil {
			return 0, err
		}
		times[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	slices.Sort(times)
	return times[iters/2], nil
}

// trainStep returns one SGD-momentum training step of m on a batch with fixed labels.
func trainStep(m *vgg.Model) (func(*tensor.Tensor) error, error) {
	m.SetTraining(true)
	opt, err := optim.NewSGD(m.Params(), optim.WithLR(1e-3), optim.WithMomentum(0.9), optim.WithParamsChanged(m.ParamsChanged))
	if err != nil {
		return nil, err
	}
	ce, err := layers.NewCrossEntropy(0.1)
	if err != nil {
		return nil, err
	}
	var labels []int
	return func(x *tensor.Tensor) error {
		for len(labels) < x.Dim(0) {
			labels = append(labels, len(labels)%m.NumClasses())
		}
		logits, err := m.Forward(x)
		if err != nil {
			return err
		}
		_, grad, err := ce.Forward(logits, labels[:x.Dim(0)])
		if err != nil {
			return err
		}
		if err := m.Backward(grad); err != nil {
			return err
		}
		return opt.Step()
	}, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range parseList(s) {
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("want positive integers, got %q", f)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list")
	}
	return out, nil
}

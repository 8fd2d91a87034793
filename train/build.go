package train

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/govgg/govgg/data"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/optim"
	"github.com/govgg/govgg/vgg"
	"github.com/govgg/govgg/weights"
)

// EmbeddedDataset is the dataset name of the Fashion-MNIST subset compiled into
// package data (data_dir is not used).
const EmbeddedDataset = "embedded_fashion_mnist"

// Job is a training run assembled from a Config.
type Job struct {
	Config  Config
	Model   *vgg.Model
	Train   *data.Loader
	Val     *data.Loader // nil unless val_while_train
	Trainer *Trainer
}

// Build checks cfg and assembles its run: datasets and loaders (sharded by d), the
// model, the optimizer with its learning-rate schedule, the loss and the trainer,
// logging to out. With ckpt_path set it resumes from that checkpoint.
func Build(cfg Config, out io.Writer, d Distributed) (*Job, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if d.Size == 0 {
		d.Size = 1
	}
	trainDS, err := openDataset(cfg, cfg.TrainSplit, true)
	if err != nil {
		return nil, err
	}
	tf, err := trainTransform(cfg)
	if err != nil {
		return nil, err
	}
	trainL, err := data.NewLoader(trainDS, data.WithBatchSize(cfg.BatchSize), data.WithDropRemainder(cfg.DropRemainder),
		data.WithShuffle(cfg.Shuffle), data.WithSeed(cfg.Seed), data.WithWorkers(cfg.NumParallelWorkers),
		data.WithTransform(tf), data.WithShard(d.Rank, d.Size))
	if err != nil {
		return nil, fmt.Errorf("train: training data: %w", err)
	}
	if trainL.Steps() == 0 {
		return nil, fmt.Errorf("train: %d training samples make no batch of %d", trainL.Samples(), cfg.BatchSize)
	}
	m, err := buildModel(cfg, len(trainDS.Classes()))
	if err != nil {
		return nil, err
	}
	if c, _, _ := trainL.SampleShape(); c != m.InChannels() {
		return nil, fmt.Errorf("train: the %s images have %d channels but in_channels is %d", cfg.Dataset, c, m.InChannels())
	}
	opt, err := buildOptimizer(cfg, m, trainL.Steps())
	if err != nil {
		return nil, err
	}
	ce, err := layers.NewCrossEntropy(float32(cfg.LabelSmoothing))
	if err != nil {
		return nil, err
	}
	opts := []Option{WithOutput(out), WithLogInterval(cfg.LogInterval), WithProgress(cfg.Progress), WithDistributed(d)}
	if cfg.ClipGrad {
		opts = append(opts, WithClipGrad(cfg.ClipValue))
	}
	if cfg.EMA {
		opts = append(opts, WithEMA(cfg.EMADecay))
	}
	if cfg.GradientAccumulationSteps > 1 {
		opts = append(opts, WithGradientAccumulation(cfg.GradientAccumulationSteps))
	}
	job := &Job{Config: cfg, Model: m, Train: trainL}
	if cfg.ValWhileTrain {
		if job.Val, err = evalLoader(cfg, d, false); err != nil {
			return nil, err
		}
		opts = append(opts, WithValidation(job.Val, cfg.ValInterval))
	}
	policy := strings.ToLower(cfg.CkptSavePolicy)
	if !cfg.savesCheckpoints() {
		policy = NoSave
	}
	opts = append(opts, WithCheckpoints(cfg.CkptSaveDir, cfg.Model, policy, cfg.KeepCheckpointMax, cfg.CkptSaveInterval))
	if job.Trainer, err = New(m, opt, ce, opts...); err != nil {
		return nil, err
	}
	if cfg.CkptPath != "" {
		if err := job.Trainer.Resume(cfg.CkptPath, cfg.ResumeOpt); err != nil {
			return nil, err
		}
	}
	return job, nil
}

// Run writes the recipe as {model}.yaml into ckpt_save_dir (as MindCV does; it
// reloads with -c) and trains for epoch_size epochs.
func (j *Job) Run(ctx context.Context) (*Result, error) {
	if j.Trainer.dist.root() {
		if err := os.MkdirAll(j.Config.CkptSaveDir, 0o755); err != nil {
			return nil, fmt.Errorf("train: checkpoint directory: %w", err)
		}
		b, err := yaml.Marshal(j.Config)
		if err != nil {
			return nil, err
		}
		p := filepath.Join(j.Config.CkptSaveDir, j.Config.Model+".yaml")
		if err := writeAtomic(p, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
			return nil, err
		}
	}
	return j.Trainer.Fit(ctx, j.Train, j.Config.EpochSize)
}

// openDataset opens a split; limit applies num_samples (MindCV limits the training
// data in train.py and the evaluated data in validate.py).
func openDataset(cfg Config, split string, limit bool) (data.Dataset, error) {
	var ds data.Dataset
	if cfg.Dataset == EmbeddedDataset {
		idx, err := data.EmbeddedFashionMNIST(split)
		if err != nil {
			return nil, err
		}
		ds = idx
	} else {
		if fi, err := os.Stat(cfg.DataDir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("train: data_dir %q is not a directory (dataset %s)", cfg.DataDir, cfg.Dataset)
		}
		var err error
		if ds, err = data.Open(cfg.Dataset, cfg.DataDir, split); err != nil {
			return nil, err
		}
	}
	if limit && cfg.NumSamples > 0 && cfg.NumSamples < ds.Len() {
		idx := make([]int, cfg.NumSamples)
		for i := range idx {
			idx[i] = i
		}
		return data.Subset(ds, idx)
	}
	return ds, nil
}

// smallImage reports the 28×28 grey datasets.
func smallImage(name string) bool {
	return name == "mnist" || name == "fashion_mnist" || name == EmbeddedDataset
}

func trainTransform(cfg Config) (data.Transform, error) {
	switch {
	case smallImage(cfg.Dataset):
		if cfg.ImageResize != 32 {
			return nil, fmt.Errorf("train: config image_resize: %d, the %s pipeline makes 32×32 inputs (pad 28×28 by 2)", cfg.ImageResize, cfg.Dataset)
		}
		t := data.Compose{data.To32(false), data.RandomCrop{Height: 32, Width: 32, Padding: 4}}
		if cfg.HFlip > 0 && cfg.Dataset != "mnist" { // digits must not be mirrored
			t = append(t, data.RandomHorizontalFlip{P: cfg.HFlip})
		}
		return withChannels(append(t, greyNorm(cfg.Dataset)), cfg.InChannels), nil
	case cfg.Dataset == "cifar10" || cfg.Dataset == "cifar100":
		t := data.Compose{data.RandomCrop{Height: 32, Width: 32, Padding: 4}}
		if cfg.HFlip > 0 {
			t = append(t, data.RandomHorizontalFlip{P: cfg.HFlip})
		}
		if cfg.ImageResize != 32 {
			t = append(t, &data.Resize{Height: cfg.ImageResize, Width: cfg.ImageResize})
		}
		return append(t, data.NewNormalize(data.CIFAR10Mean, data.CIFAR10Std)), nil
	default:
		s := cfg.ImageResize
		t := data.Compose{&data.RandomResizedCrop{Height: s, Width: s, Scale: [2]float64{cfg.Scale[0], cfg.Scale[1]},
			Ratio: [2]float64{cfg.Ratio[0], cfg.Ratio[1]}, Interp: data.Bilinear}}
		if cfg.HFlip > 0 {
			t = append(t, data.RandomHorizontalFlip{P: cfg.HFlip})
		}
		if j := cfg.ColorJitter; j > 0 {
			t = append(t, data.ColorJitter{Brightness: j, Contrast: j, Saturation: j})
		}
		return append(t, imageNetNorm(cfg)), nil
	}
}

// imageNetNorm is MindCV's Normalize with the recipe's mean and std (0–255 scale),
// ImageNet's by default.
func imageNetNorm(cfg Config) data.Transform {
	if len(cfg.Mean) == 0 && len(cfg.Std) == 0 {
		return data.NewNormalize(data.ImageNetMean, data.ImageNetStd)
	}
	n := data.NewNormalize(data.ImageNetMean, data.ImageNetStd)
	f32 := func(v []float64, def []float32) []float32 {
		if len(v) == 0 {
			return def
		}
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return out
	}
	return &data.Normalize{Mean: f32(cfg.Mean, n.Mean), Std: f32(cfg.Std, n.Std)}
}

func evalTransform(cfg Config) (data.Transform, error) {
	switch {
	case smallImage(cfg.Dataset):
		if cfg.ImageResize != 32 {
			return nil, fmt.Errorf("train: config image_resize: %d, the %s pipeline makes 32×32 inputs (pad 28×28 by 2)", cfg.ImageResize, cfg.Dataset)
		}
		return withChannels(data.Compose{data.To32(false), greyNorm(cfg.Dataset)}, cfg.InChannels), nil
	case cfg.Dataset == "cifar10" || cfg.Dataset == "cifar100":
		var t data.Compose
		if cfg.ImageResize != 32 {
			t = append(t, &data.Resize{Height: cfg.ImageResize, Width: cfg.ImageResize})
		}
		return append(t, data.NewNormalize(data.CIFAR10Mean, data.CIFAR10Std)), nil
	default:
		if cfg.CropPct <= 0 || cfg.CropPct > 1 {
			return nil, fmt.Errorf("train: config crop_pct: %g, must be in (0, 1]", cfg.CropPct)
		}
		s := cfg.ImageResize
		return data.Compose{data.ResizeShort(int(math.Floor(float64(s) / cfg.CropPct))), data.CenterCrop{Height: s, Width: s},
			imageNetNorm(cfg)}, nil
	}
}

func greyNorm(dataset string) data.Transform {
	if dataset == "mnist" {
		return data.NewNormalize(data.MNISTMean, data.MNISTStd)
	}
	return data.NewNormalize(data.FashionMNISTMean, data.FashionMNISTStd)
}

func withChannels(t data.Compose, in int) data.Compose {
	if in == 3 {
		return append(t, data.GrayToRGB{})
	}
	return t
}

// evalLoader opens the validation split without shuffling or dropping. For validate the
// batch size becomes the largest divisor of the sample count not above batch_size, as
// MindCV's validate.py does.
func evalLoader(cfg Config, d Distributed, validate bool) (*data.Loader, error) {
	ds, err := openDataset(cfg, cfg.ValSplit, validate)
	if err != nil {
		return nil, err
	}
	tf, err := evalTransform(cfg)
	if err != nil {
		return nil, err
	}
	bs := cfg.BatchSize
	if validate {
		bs = ShrinkBatch(ds.Len(), bs)
	}
	if d.Size == 0 {
		d.Size = 1
	}
	l, err := data.NewLoader(ds, data.WithBatchSize(bs), data.WithShuffle(false), data.WithDropRemainder(false),
		data.WithWorkers(cfg.NumParallelWorkers), data.WithTransform(tf), data.WithShard(d.Rank, d.Size))
	if err != nil {
		return nil, fmt.Errorf("train: validation data: %w", err)
	}
	return l, nil
}

// ShrinkBatch returns the largest batch size ≤ batchSize that divides n samples (MindCV's
// validate.py, so that every batch is full).
func ShrinkBatch(n, batchSize int) int {
	b := min(batchSize, n)
	for b > 1 && n%b != 0 {
		b--
	}
	return max(b, 1)
}

func buildModel(cfg Config, datasetClasses int) (*vgg.Model, error) {
	fl, err := vgg.ParseFlavour(cfg.Flavour)
	if err != nil {
		return nil, fmt.Errorf("train: config flavour: %w", err)
	}
	classes := cfg.NumClasses
	if classes == 0 {
		classes = datasetClasses
	}
	opts := []vgg.Option{vgg.WithFlavour(fl), vgg.WithNumClasses(classes), vgg.WithInChannels(cfg.InChannels),
		vgg.WithDropout(float32(cfg.DropRate)), vgg.WithSeed(cfg.Seed), vgg.WithWidthDivisor(cfg.WidthDivisor),
		vgg.WithHidden(cfg.HiddenSize)}
	if cfg.PoolSize >= 0 {
		opts = append(opts, vgg.WithPoolSize(cfg.PoolSize))
	}
	m, err := vgg.NewByName(cfg.Model, opts...)
	if err != nil {
		return nil, fmt.Errorf("train: config model: %w", err)
	}
	return m, nil
}

// normParams returns the names of batch-norm parameters: the weight and bias of every
// module that has running statistics.
func normParams(m *vgg.Model) func(string) bool {
	norm := map[string]bool{}
	for _, b := range m.Buffers() {
		if p, ok := strings.CutSuffix(b.Name, ".running_mean"); ok {
			norm[p+".weight"], norm[p+".bias"] = true, true
		}
	}
	return func(name string) bool { return norm[name] }
}

func buildOptimizer(cfg Config, m *vgg.Model, stepsPerEpoch int) (optim.Optimizer, error) {
	sched, err := optim.NewSchedule(optim.ScheduleConfig{
		Name: cfg.Scheduler, LR: cfg.LR, MinLR: cfg.MinLR, WarmupEpochs: cfg.WarmupEpochs, WarmupFactor: cfg.WarmupFactor,
		DecayEpochs: cfg.DecayEpochs, DecayRate: cfg.DecayRate, Milestones: cfg.MultiStepDecayMilestones,
		NumEpochs: cfg.EpochSize, StepsPerEpoch: stepsPerEpoch, NumCycles: cfg.NumCycles, CycleDecay: cfg.CycleDecay,
		EpochStair: cfg.LREpochStair,
	})
	if err != nil {
		return nil, fmt.Errorf("train: config scheduler: %w", err)
	}
	filter, err := optim.ParseDecayFilter(cfg.WeightDecayFilter)
	if err != nil {
		return nil, fmt.Errorf("train: config weight_decay_filter: %w", err)
	}
	if cfg.FilterBiasAndBN {
		filter = optim.FilterNormAndBias
	}
	common := []optim.Option{optim.WithSchedule(sched), optim.WithWeightDecay(cfg.WeightDecay), optim.WithDecayFilter(filter),
		optim.WithNormParams(normParams(m)), optim.WithParamsChanged(m.ParamsChanged)}
	switch strings.ToLower(cfg.Opt) {
	case "sgd", "momentum", "nesterov":
		nesterov := cfg.UseNesterov || strings.ToLower(cfg.Opt) == "nesterov"
		return optim.NewSGD(m.Params(), append(common, optim.WithMomentum(cfg.Momentum), optim.WithNesterov(nesterov))...)
	case "adamw":
		return optim.NewAdamW(m.Params(), append(common, optim.WithEps(cfg.Eps))...)
	default:
		return nil, fmt.Errorf("train: config opt: %q, govgg has sgd, momentum, nesterov and adamw", cfg.Opt)
	}
}

// Validate is MindCV's validate.py: it evaluates the checkpoint cfg.CkptPath (or the
// freshly initialized model when empty) on the val_split of the dataset with the
// evaluation transform, batch_size shrunk to divide the sample count, logging every
// log_interval batches to out, and returns the metrics.
func Validate(ctx context.Context, cfg Config, out io.Writer) (Metrics, error) {
	if err := cfg.Check(); err != nil {
		return Metrics{}, err
	}
	l, err := evalLoader(cfg, Distributed{Size: 1}, true)
	if err != nil {
		return Metrics{}, err
	}
	ds, err := openDataset(cfg, cfg.ValSplit, false)
	if err != nil {
		return Metrics{}, err
	}
	m, err := buildModel(cfg, len(ds.Classes()))
	if err != nil {
		return Metrics{}, err
	}
	if cfg.CkptPath != "" {
		if err := loadForValidation(m, cfg); err != nil {
			return Metrics{}, err
		}
	}
	ce, err := layers.NewCrossEntropy(float32(cfg.LabelSmoothing)) // validate.py builds the recipe's loss
	if err != nil {
		return Metrics{}, err
	}
	fmt.Fprintf(out, "Validating %s on %d %s images (%s split), batch size %d\n", cfg.Model, l.Samples(), cfg.Dataset, cfg.ValSplit, l.BatchSize())
	start := time.Now()
	return evaluate(ctx, m, ce, l, Distributed{Size: 1}, func(done, total int) {
		if cfg.LogInterval > 0 && (done%cfg.LogInterval == 0 || done == total) {
			fmt.Fprintf(out, "batch: [%d/%d], time: %.6fs\n", done, total, time.Since(start).Seconds())
		}
	})
}

// loadForValidation loads the checkpoint's weights, or with ema its EMA averages
// (kept, for govgg's checkpoints, in the training-state file beside it).
func loadForValidation(m *vgg.Model, cfg Config) error {
	if err := m.LoadWeights(cfg.CkptPath); err != nil {
		return err
	}
	if !cfg.EMA {
		return nil
	}
	sp := OptimizerStatePath(cfg.CkptPath)
	s, err := loadTrainingState(sp)
	if err != nil {
		return fmt.Errorf("train: ema: %w (the EMA of a checkpoint is read from its training-state file; {model}_best.ckpt already holds the EMA weights)", err)
	}
	if len(s.ema.Tensors) == 0 {
		return fmt.Errorf("train: ema: %s has no EMA averages (trained without ema)", sp)
	}
	avg := make([]weights.Named, len(s.ema.Tensors))
	for i, p := range s.ema.Tensors {
		avg[i] = weights.Named{Name: strings.TrimPrefix(p.Name, "ema."), Tensor: p.Value}
	}
	return m.LoadTensors(avg)
}

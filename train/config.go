package train

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is a training or validation recipe: MindCV's train.py / validate.py
// arguments, with the same names as YAML keys and command-line flags. A few keys
// are govgg's own (width_divisor, hidden_size, pool_size, flavour, progress); keys
// that describe Ascend-only machinery (mode, amp_level, loss_scale, …) are accepted
// so that MindCV's recipes load, and are checked to be harmless on a CPU.
type Config struct {
	// system
	Mode               int    `yaml:"mode" help:"MindSpore execution mode (0 graph, 1 pynative); accepted and ignored: govgg has one mode"`
	Distribute         bool   `yaml:"distribute" help:"data-parallel training over MPI ranks (needs a binary built with -tags mpi)"`
	ValWhileTrain      bool   `yaml:"val_while_train" help:"evaluate on the validation split while training"`
	ValInterval        int    `yaml:"val_interval" help:"evaluate every this many epochs"`
	LogInterval        int    `yaml:"log_interval" help:"log every this many steps"`
	Seed               uint64 `yaml:"seed" help:"seed of initialization, shuffling, augmentation and dropout"`
	DeviceTarget       string `yaml:"device_target" help:"MindSpore device; only CPU computation exists here, so it is accepted and ignored"`
	DatasetSinkMode    bool   `yaml:"dataset_sink_mode" help:"MindSpore data sinking; accepted and ignored"`
	NumParallelWorkers int    `yaml:"num_parallel_workers" help:"decode workers of the data loader"`
	Progress           bool   `yaml:"progress" help:"draw a progress bar when standard output is a terminal"`

	// dataset
	Dataset         string `yaml:"dataset" help:"imagenet (or \"\": ImageFolder), mnist, fashion_mnist, cifar10, cifar100, embedded_fashion_mnist"`
	DataDir         string `yaml:"data_dir" help:"dataset directory"`
	TrainSplit      string `yaml:"train_split" help:"training split"`
	ValSplit        string `yaml:"val_split" help:"validation split"`
	DatasetDownload bool   `yaml:"dataset_download" help:"download the dataset; not possible here, must be False"`
	Shuffle         bool   `yaml:"shuffle" help:"shuffle the training data every epoch"`
	NumSamples      int    `yaml:"num_samples" help:"use only the first this many samples (0: all)"`
	BatchSize       int    `yaml:"batch_size" help:"samples per step (per rank)"`
	DropRemainder   bool   `yaml:"drop_remainder" help:"drop the last short training batch of an epoch"`

	// augmentation
	ImageResize   int       `yaml:"image_resize" help:"network input side (224 for ImageNet, 32 for the small-image recipes)"`
	Scale         []float64 `yaml:"scale" help:"RandomResizedCrop area range"`
	Ratio         []float64 `yaml:"ratio" help:"RandomResizedCrop aspect-ratio range"`
	HFlip         float64   `yaml:"hflip" help:"horizontal flip probability"`
	VFlip         float64   `yaml:"vflip" help:"vertical flip probability; only 0 is supported"`
	ColorJitter   float64   `yaml:"color_jitter" help:"brightness, contrast and saturation jitter (ImageNet pipeline)"`
	Interpolation string    `yaml:"interpolation" help:"resize filter: bilinear"`
	CropPct       float64   `yaml:"crop_pct" help:"evaluation centre-crop fraction (ImageNet)"`
	AutoAugment   string    `yaml:"auto_augment" help:"auto-augment policy; not supported, must be empty"`
	REProb        float64   `yaml:"re_prob" help:"random-erasing probability; only 0 is supported"`
	Mixup         float64   `yaml:"mixup" help:"mixup alpha; only 0 is supported"`
	Cutmix        float64   `yaml:"cutmix" help:"cutmix alpha; only 0 is supported"`
	AugRepeats    int       `yaml:"aug_repeats" help:"repeated augmentation; only 0 is supported"`
	AugSplits     int       `yaml:"aug_splits" help:"augmentation splits; only 0 is supported"`
	CutmixProb    float64   `yaml:"cutmix_prob" help:"cutmix probability (unused while cutmix is 0)"`
	REScale       []float64 `yaml:"re_scale" help:"random-erasing area range (unused while re_prob is 0)"`
	RERatio       []float64 `yaml:"re_ratio" help:"random-erasing aspect range (unused while re_prob is 0)"`
	REValue       string    `yaml:"re_value" help:"random-erasing fill (unused while re_prob is 0)"`
	REMaxAttempts int       `yaml:"re_max_attempts" help:"random-erasing attempts (unused while re_prob is 0)"`
	Mean          []float64 `yaml:"mean,omitempty" help:"ImageNet-pipeline normalization mean on the 0-255 scale (default ImageNet's x255)"`
	Std           []float64 `yaml:"std,omitempty" help:"ImageNet-pipeline normalization std on the 0-255 scale (default ImageNet's x255)"`
	EvalShuffle   bool      `yaml:"eval_shuffle" help:"shuffle the evaluation data; the metrics do not change, so it is ignored"`

	// model
	Model        string  `yaml:"model" help:"vgg11 … vgg19, with _bn for batch norm"`
	NumClasses   int     `yaml:"num_classes" help:"classifier outputs (0: the dataset's number of classes)"`
	InChannels   int     `yaml:"in_channels" help:"input channels (1 for grey datasets)"`
	DropRate     float64 `yaml:"drop_rate" help:"classifier dropout probability"`
	Pretrained   bool    `yaml:"pretrained" help:"download pretrained weights; not possible here (use --ckpt_path), must be False"`
	Flavour      string  `yaml:"flavour" help:"model definition: torchvision (conv bias, adaptive pool) or mindcv"`
	WidthDivisor int     `yaml:"width_divisor" help:"divide every conv width by this (govgg; small-image recipes)"`
	HiddenSize   int     `yaml:"hidden_size" help:"width of the two hidden classifier layers; 0 for a single Linear head (govgg)"`
	PoolSize     int     `yaml:"pool_size" help:"adaptive average pool side before the classifier; -1 for the flavour's default (govgg)"`
	DropPathRate float64 `yaml:"drop_path_rate" help:"stochastic depth; VGG has none, must be 0"`

	// checkpoints
	CkptPath          string `yaml:"ckpt_path" help:"checkpoint to start from; {model}-{epoch}_{step}.ckpt resumes after that epoch"`
	ResumeOpt         bool   `yaml:"resume_opt" help:"also restore the optimizer state saved beside --ckpt_path (exact resume)"`
	KeepCheckpointMax int    `yaml:"keep_checkpoint_max" help:"checkpoints kept by the save policy"`
	CkptSaveDir       string `yaml:"ckpt_save_dir" help:"directory for checkpoints and result.log"`
	CkptSaveInterval  int    `yaml:"ckpt_save_interval" help:"save a checkpoint every this many epochs"`
	CkptSavePolicy    string `yaml:"ckpt_save_policy" help:"latest_k (newest), top_k (best validation Top-1; needs val_while_train) or none"`
	EpochSize         int    `yaml:"epoch_size" help:"number of epochs"`

	// optimizer
	Opt                       string  `yaml:"opt" help:"sgd, momentum, nesterov or adamw"`
	Momentum                  float64 `yaml:"momentum" help:"SGD momentum"`
	WeightDecay               float64 `yaml:"weight_decay" help:"weight decay"`
	UseNesterov               bool    `yaml:"use_nesterov" help:"Nesterov momentum"`
	WeightDecayFilter         string  `yaml:"weight_decay_filter" help:"disable (decay all), auto (not norm params) or norm_and_bias"`
	FilterBiasAndBN           bool    `yaml:"filter_bias_and_bn" help:"old MindCV key; True means weight_decay_filter norm_and_bias"`
	Eps                       float64 `yaml:"eps" help:"AdamW epsilon"`
	ClipGrad                  bool    `yaml:"clip_grad" help:"clip the global gradient norm"`
	ClipValue                 float64 `yaml:"clip_value" help:"global-norm clipping threshold"`
	GradientAccumulationSteps int     `yaml:"gradient_accumulation_steps" help:"micro-batches averaged per update"`
	EMA                       bool    `yaml:"ema" help:"exponential moving average of the weights, used for evaluation (validate: evaluate the checkpoint's EMA)"`
	EMADecay                  float64 `yaml:"ema_decay" help:"EMA decay"`
	LayerDecay                float64 `yaml:"layer_decay" help:"layer-wise learning-rate decay; not supported, must be 0"`

	// scheduler
	Scheduler                string  `yaml:"scheduler" help:"constant, cosine_decay, warmup_cosine_decay, exponential_decay, polynomial_decay, step_decay, multi_step_decay"`
	LR                       float64 `yaml:"lr" help:"peak learning rate"`
	MinLR                    float64 `yaml:"min_lr" help:"cosine floor"`
	WarmupEpochs             int     `yaml:"warmup_epochs" help:"linear warmup epochs"`
	WarmupFactor             float64 `yaml:"warmup_factor" help:"warmup starts at this fraction of lr"`
	DecayEpochs              int     `yaml:"decay_epochs" help:"cosine length (or step_decay period) in epochs"`
	DecayRate                float64 `yaml:"decay_rate" help:"decay factor of exponential/step/multi-step decay"`
	MultiStepDecayMilestones []int   `yaml:"multi_step_decay_milestones" help:"multi_step_decay epochs"`
	LREpochStair             bool    `yaml:"lr_epoch_stair" help:"keep the learning rate constant within an epoch"`
	NumCycles                int     `yaml:"num_cycles" help:"cosine cycles"`
	CycleDecay               float64 `yaml:"cycle_decay" help:"peak factor per cosine cycle"`

	// loss
	Loss           string  `yaml:"loss" help:"CE (softmax cross entropy)"`
	LabelSmoothing float64 `yaml:"label_smoothing" help:"label smoothing epsilon"`
	Reduction      string  `yaml:"reduction" help:"loss reduction: mean"`
	AuxFactor      float64 `yaml:"aux_factor" help:"auxiliary-logits loss weight; VGG has none, must be 0"`

	// mixed precision (Ascend); float32 everywhere here
	AmpLevel           string  `yaml:"amp_level" help:"mixed precision; only O0 (float32) exists on the CPU"`
	ValAmpLevel        string  `yaml:"val_amp_level" help:"validation mixed precision; only O0"`
	LossScaleType      string  `yaml:"loss_scale_type" help:"fixed, dynamic or auto; no effect in float32"`
	LossScale          float64 `yaml:"loss_scale" help:"static loss scale; no effect in float32 (scaled and unscaled exactly)"`
	DropOverflowUpdate bool    `yaml:"drop_overflow_update" help:"skip steps whose gradients overflow; no effect in float32"`
	AmpCastList        string  `yaml:"amp_cast_list" help:"layers cast to float16 by AMP; unused at O0"`
}

// DefaultConfig returns MindCV's defaults (config.py), except where govgg has no
// such thing: the model defaults to vgg11 and the dataset to Fashion-MNIST's
// embedded subset, so a bare run has something to train.
func DefaultConfig() Config {
	return Config{
		ValInterval: 1, LogInterval: 100, Seed: 42, DeviceTarget: "CPU", DatasetSinkMode: true,
		NumParallelWorkers: 8, Progress: true,
		Dataset: "imagenet", DataDir: "./", TrainSplit: "train", ValSplit: "val", Shuffle: true,
		BatchSize: 128, DropRemainder: true,
		ImageResize: 224, Scale: []float64{0.08, 1.0}, Ratio: []float64{0.75, 1.333}, HFlip: 0.5,
		ColorJitter: 0.4, Interpolation: "bilinear", CropPct: 0.875,
		Model: "vgg11", InChannels: 3, DropRate: 0.5, Flavour: "torchvision", WidthDivisor: 1,
		HiddenSize: 4096, PoolSize: -1,
		KeepCheckpointMax: 10, CkptSaveDir: "./ckpt", CkptSaveInterval: 1, CkptSavePolicy: "latest_k", EpochSize: 90,
		CutmixProb: 1, REScale: []float64{0.02, 0.33}, RERatio: []float64{0.3, 3.3}, REValue: "0", REMaxAttempts: 10,
		Opt: "adam", Momentum: 0.9, WeightDecay: 1e-6, WeightDecayFilter: "disable", Eps: 1e-10, ClipValue: 15,
		GradientAccumulationSteps: 1, EMADecay: 0.9999,
		Scheduler: "cosine_decay", LR: 1e-3, MinLR: 1e-6, WarmupEpochs: 3, DecayEpochs: 100, DecayRate: 0.9,
		MultiStepDecayMilestones: []int{30, 60, 90}, NumCycles: 1, CycleDecay: 1,
		Loss: "CE", Reduction: "mean",
		AmpLevel: "O0", ValAmpLevel: "O0", LossScaleType: "fixed", LossScale: 1,
	}
}

// EmbeddedConfig is the recipe `vgg train` runs without arguments: VGG-11-BN at a
// quarter width on the Fashion-MNIST subset compiled into package data (6,000 training
// and 1,000 test images, 32×32 grey), MindCV-style SGD with momentum, warmup and
// cosine decay and label smoothing; a few minutes on two cores.
func EmbeddedConfig() Config {
	c := DefaultConfig()
	c.Dataset, c.DataDir = "embedded_fashion_mnist", ""
	c.ValWhileTrain = true
	c.LogInterval = 50
	c.NumParallelWorkers = 2
	c.BatchSize = 64
	c.ImageResize = 32
	c.Model, c.InChannels, c.WidthDivisor, c.HiddenSize, c.PoolSize = "vgg11_bn", 1, 4, 0, 1
	c.NumClasses = 10
	c.EpochSize = 8
	c.KeepCheckpointMax = 2
	c.Opt, c.Momentum, c.WeightDecay = "momentum", 0.9, 5e-4
	c.Scheduler, c.LR, c.MinLR, c.WarmupEpochs, c.DecayEpochs = "warmup_cosine_decay", 0.05, 1e-4, 1, 7
	c.LabelSmoothing = 0.1
	return c
}

// LoadYAML reads a recipe over c: keys present in the file replace c's values, others
// keep them. A key that is not a Config field is an error, as in MindCV.
func LoadYAML(path string, c *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("train: config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("train: config %s: %v", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// RegisterFlags defines one flag per Config field on fs, named as the YAML key
// (MindCV's flag names), with c's current values as defaults and c's fields as
// destinations: load a YAML recipe into c first, so that flags override it.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		fs.Var(fieldValue{v.Field(i)}, name, f.Tag.Get("help"))
	}
}

// BoolFlags returns the names of the boolean flags, which the command line accepts
// both as --name, --name=False and MindCV's --name False.
func BoolFlags() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		if t.Field(i).Type.Kind() == reflect.Bool {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
			m[name] = true
		}
	}
	return m
}

// fieldValue is a flag.Value over one Config field.
type fieldValue struct{ v reflect.Value }

func (f fieldValue) String() string {
	if !f.v.IsValid() {
		return ""
	}
	switch f.v.Kind() {
	case reflect.Slice:
		parts := make([]string, f.v.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(f.v.Index(i).Interface())
		}
		return strings.Join(parts, ",")
	default:
		return fmt.Sprint(f.v.Interface())
	}
}

func (f fieldValue) IsBoolFlag() bool { return f.v.IsValid() && f.v.Kind() == reflect.Bool }

func (f fieldValue) Set(s string) error {
	switch f.v.Kind() {
	case reflect.String:
		f.v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean (True or False)", s)
		}
		f.v.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		f.v.SetInt(int64(n))
	case reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a non-negative integer", s)
		}
		f.v.SetUint(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		f.v.SetFloat(x)
	case reflect.Slice:
		s = strings.Trim(strings.TrimSpace(s), "[]()")
		var parts []string
		if s != "" {
			parts = strings.Split(s, ",")
		}
		out := reflect.MakeSlice(f.v.Type(), len(parts), len(parts))
		for i, p := range parts {
			p = strings.TrimSpace(p)
			switch f.v.Type().Elem().Kind() {
			case reflect.Int:
				n, err := strconv.Atoi(p)
				if err != nil {
					return fmt.Errorf("%q is not a list of integers", s)
				}
				out.Index(i).SetInt(int64(n))
			default:
				x, err := strconv.ParseFloat(p, 64)
				if err != nil {
					return fmt.Errorf("%q is not a list of numbers", s)
				}
				out.Index(i).SetFloat(x)
			}
		}
		f.v.Set(out)
	}
	return nil
}

// Check reports the first setting that is invalid or names something govgg does not
// have, with the key's name.
func (c *Config) Check() error {
	bad := func(key string, format string, args ...any) error {
		return fmt.Errorf("train: config %s: %s", key, fmt.Sprintf(format, args...))
	}
	switch {
	case c.EpochSize < 1:
		return bad("epoch_size", "%d, must be at least 1", c.EpochSize)
	case c.BatchSize < 1:
		return bad("batch_size", "%d, must be at least 1", c.BatchSize)
	case c.ValInterval < 1:
		return bad("val_interval", "%d, must be at least 1", c.ValInterval)
	case c.LogInterval < 0:
		return bad("log_interval", "%d, must not be negative", c.LogInterval)
	case c.NumParallelWorkers < 1:
		return bad("num_parallel_workers", "%d, must be at least 1", c.NumParallelWorkers)
	case c.CkptSaveInterval < 1:
		return bad("ckpt_save_interval", "%d, must be at least 1", c.CkptSaveInterval)
	case c.KeepCheckpointMax < 1:
		return bad("keep_checkpoint_max", "%d, must be at least 1", c.KeepCheckpointMax)
	case c.ImageResize < 1:
		return bad("image_resize", "%d, must be at least 1", c.ImageResize)
	case c.LR < 0:
		return bad("lr", "%g, must not be negative", c.LR)
	case c.LabelSmoothing < 0 || c.LabelSmoothing > 1:
		return bad("label_smoothing", "%g, must be in [0, 1]", c.LabelSmoothing)
	case c.DropRate < 0 || c.DropRate >= 1:
		return bad("drop_rate", "%g, must be in [0, 1)", c.DropRate)
	case c.InChannels != 1 && c.InChannels != 3:
		return bad("in_channels", "%d, must be 1 or 3", c.InChannels)
	case c.NumSamples < 0:
		return bad("num_samples", "%d, must not be negative", c.NumSamples)
	case c.WidthDivisor < 1:
		return bad("width_divisor", "%d, must be at least 1", c.WidthDivisor)
	}
	switch c.CkptSavePolicy {
	case "latest_k", "none", "None", "":
	case "top_k":
		if !c.ValWhileTrain {
			return bad("ckpt_save_policy", "top_k ranks checkpoints by validation accuracy and needs val_while_train True")
		}
	default:
		return bad("ckpt_save_policy", "%q, want latest_k, top_k or none", c.CkptSavePolicy)
	}
	if c.AmpLevel != "O0" && c.AmpLevel != "" {
		return bad("amp_level", "%s needs float16 compute, which the CPU backend does not have; use O0", c.AmpLevel)
	}
	if c.ValAmpLevel != "O0" && c.ValAmpLevel != "" {
		return bad("val_amp_level", "%s needs float16 compute, which the CPU backend does not have; use O0", c.ValAmpLevel)
	}
	if c.LossScale < 1 {
		return bad("loss_scale", "%g, must be at least 1", c.LossScale)
	}
	if c.Loss != "CE" && c.Loss != "ce" {
		return bad("loss", "%q, only CE (softmax cross entropy) is supported", c.Loss)
	}
	if c.Reduction != "mean" {
		return bad("reduction", "%q, only mean is supported", c.Reduction)
	}
	if c.Interpolation != "bilinear" {
		return bad("interpolation", "%q, only bilinear is supported", c.Interpolation)
	}
	unsupported := []struct {
		key string
		on  bool
	}{
		{"dataset_download", c.DatasetDownload}, {"pretrained", c.Pretrained},
		{"auto_augment", c.AutoAugment != ""}, {"re_prob", c.REProb != 0}, {"mixup", c.Mixup != 0},
		{"cutmix", c.Cutmix != 0}, {"aug_repeats", c.AugRepeats != 0}, {"vflip", c.VFlip != 0},
		{"aug_splits", c.AugSplits != 0}, {"drop_path_rate", c.DropPathRate != 0}, {"layer_decay", c.LayerDecay != 0},
		{"aux_factor", c.AuxFactor != 0},
	}
	for _, u := range unsupported {
		if u.on {
			return bad(u.key, "not supported by govgg's trainer yet; remove it or set it off")
		}
	}
	if c.GradientAccumulationSteps < 1 {
		return bad("gradient_accumulation_steps", "%d, must be at least 1", c.GradientAccumulationSteps)
	}
	if c.EMA && (c.EMADecay <= 0 || c.EMADecay >= 1) {
		return bad("ema_decay", "%g, must be in (0, 1)", c.EMADecay)
	}
	for _, ms := range []struct {
		key string
		v   []float64
	}{{"mean", c.Mean}, {"std", c.Std}} {
		if len(ms.v) != 0 && len(ms.v) != c.InChannels {
			return bad(ms.key, "%v, want one value per input channel (%d)", ms.v, c.InChannels)
		}
	}
	for _, v := range c.Std {
		if v <= 0 {
			return bad("std", "%v, must be positive", c.Std)
		}
	}
	if len(c.Scale) != 2 {
		return bad("scale", "%v, want two numbers", c.Scale)
	}
	if len(c.Ratio) != 2 {
		return bad("ratio", "%v, want two numbers", c.Ratio)
	}
	return nil
}

// savesCheckpoints reports whether the ckpt_save_policy keeps numbered checkpoints.
func (c *Config) savesCheckpoints() bool {
	return c.CkptSavePolicy != "none" && c.CkptSavePolicy != "None" && c.CkptSavePolicy != ""
}

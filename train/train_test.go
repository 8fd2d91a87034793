package train

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/govgg/govgg/internal/atomicfile"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/optim"
	"github.com/govgg/govgg/tensor"
	"github.com/govgg/govgg/vgg"
	"github.com/govgg/govgg/weights"
)

// tinyConfig is a VGG-11-BN at 1/16 width with a dropout head on 192 embedded
// Fashion-MNIST images: 6 steps of 32 per epoch.
func tinyConfig(dir string) Config {
	c := EmbeddedConfig()
	c.CkptSaveDir = dir
	c.NumSamples = 192
	c.BatchSize = 32
	c.WidthDivisor = 16
	c.HiddenSize = 8
	c.DropRate = 0.5
	c.EpochSize = 2
	c.WarmupEpochs, c.DecayEpochs = 1, 1
	c.LogInterval = 2
	c.Progress = false
	c.ValWhileTrain = true
	return c
}

func build(t *testing.T, c Config) (*Job, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	job, err := Build(c, &out, Distributed{Size: 1})
	require.NoError(t, err)
	return job, &out
}

func stateBits(t *testing.T, j *Job) map[string][]uint32 {
	t.Helper()
	m := map[string][]uint32{}
	for _, p := range j.Model.StateDict() {
		b := make([]uint32, p.Value.Len())
		for i, v := range p.Value.Data() {
			b[i] = math.Float32bits(v)
		}
		m[p.Name] = b
	}
	var extra []*layers.Param
	extra = append(extra, j.Trainer.Optimizer().State().Tensors...)
	if j.Trainer.ema != nil {
		extra = append(extra, j.Trainer.ema.State().Tensors...)
	}
	if j.Trainer.acc != nil {
		extra = append(extra, j.Trainer.acc.State().Tensors...)
	}
	for _, p := range extra {
		b := make([]uint32, p.Value.Len())
		for i, v := range p.Value.Data() {
			b[i] = math.Float32bits(v)
		}
		m[p.Name] = b
	}
	return m
}

// Two epochs straight and one epoch, a crash in the middle of the second, and a resume
// from the first epoch's checkpoint end with the same weights, batch-norm statistics and
// momenta, bit for bit.
func TestResumeIsExact(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Config)
	}{
		{"sgd", func(*Config) {}},
		// 6 micro-batches an epoch, 4 per update: the checkpoint holds 2 pending ones.
		{"ema+accumulation+clip", func(c *Config) {
			c.EMA, c.EMADecay, c.GradientAccumulationSteps, c.ClipGrad, c.ClipValue = true, 0.9, 4, true, 1
		}},
		{"adamw", func(c *Config) { c.Opt, c.LR, c.WeightDecay = "adamw", 1e-3, 0.05 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testResume(t, func(dir string) Config {
				c := tinyConfig(dir)
				tc.set(&c)
				return c
			})
		})
	}
}

func testResume(t *testing.T, tinyConfig func(string) Config) {
	ctx := context.Background()
	straight, _ := build(t, tinyConfig(t.TempDir()))
	_, err := straight.Run(ctx)
	require.NoError(t, err)
	want := stateBits(t, straight)

	dir := t.TempDir()
	first, _ := build(t, tinyConfig(dir))
	_, err = first.Trainer.Fit(ctx, first.Train, 1) // epoch 1 of the 2-epoch schedule
	require.NoError(t, err)
	ckpt := filepath.Join(dir, CheckpointName("vgg11_bn", 1, 6))
	require.FileExists(t, ckpt)
	require.FileExists(t, OptimizerStatePath(ckpt))
	require.Equal(t, ckpt, first.Trainer.LastCheckpoint())
	// The process goes on into epoch 2 and dies after 3 steps: its state is lost.
	it, err := first.Train.Epoch(ctx, 1, 0)
	require.NoError(t, err)
	for range 3 {
		b, err := it.Next()
		require.NoError(t, err)
		_, err = first.Trainer.Step(b.Images, b.Labels)
		require.NoError(t, err)
	}
	require.NoError(t, it.Close())

	c := tinyConfig(dir)
	c.CkptPath, c.ResumeOpt = ckpt, true
	resumed, out := build(t, c)
	res, err := resumed.Run(ctx)
	require.NoError(t, err)
	require.Len(t, res.Epochs, 1)
	require.Equal(t, 2, res.Epochs[0].Epoch)
	require.Contains(t, out.String(), "Epoch: [2/2], batch: [6/6]")
	got := stateBits(t, resumed)
	require.Equal(t, len(want), len(got))
	for name, w := range want {
		require.Equal(t, w, got[name], name)
	}
	require.Equal(t, straight.Trainer.Optimizer().StepCount(), resumed.Trainer.Optimizer().StepCount())
	if straight.Trainer.ema != nil {
		require.Equal(t, straight.Trainer.ema.Updates(), resumed.Trainer.ema.Updates())
		require.Equal(t, straight.Trainer.acc.Pending(), resumed.Trainer.acc.Pending())
		require.Equal(t, 0, resumed.Trainer.acc.Pending())
	}

	// Without the optimizer state the schedule still continues from the checkpoint.
	c.ResumeOpt = false
	weightsOnly, _ := build(t, c)
	_, err = weightsOnly.Trainer.Fit(ctx, weightsOnly.Train, 1) // nothing left to do
	require.NoError(t, err)
	require.Equal(t, 6, weightsOnly.Trainer.Optimizer().StepCount())
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	job, _ := build(t, tinyConfig(dir))
	_, err := job.Run(context.Background())
	require.NoError(t, err)
	ckpt := filepath.Join(dir, CheckpointName("vgg11_bn", 2, 6))

	// The .ckpt holds MindCV's names and loads back into a fresh model by name.
	c := tinyConfig(t.TempDir())
	c.CkptPath = ckpt
	again, _ := build(t, c)
	for i, p := range job.Model.StateDict() {
		q := again.Model.StateDict()[i]
		if strings.HasSuffix(p.Name, "num_batches_tracked") {
			continue // not in MindSpore's BatchNorm; restored from the step count by Fit
		}
		require.Equal(t, p.Value.Data(), q.Value.Data(), p.Name)
	}
	names := fileTensorNames(t, ckpt)
	require.Contains(t, names, "features.1.gamma")
	require.Contains(t, names, "features.1.moving_variance")
	require.NotContains(t, names, "features.1.running_mean")

	// The optimizer companion round-trips into an optimizer of the same model.
	s, err := loadTrainingState(OptimizerStatePath(ckpt))
	require.NoError(t, err)
	require.Equal(t, "2", s.meta["epoch"])
	require.Equal(t, 12, s.opt.Step)
	require.Empty(t, s.ema.Tensors)
	require.NoError(t, again.Trainer.Optimizer().LoadState(s.opt))
	require.Equal(t, job.Trainer.Optimizer().State().Tensors[0].Value.Data(), again.Trainer.Optimizer().State().Tensors[0].Value.Data())

	// result.log has a header and a row per epoch.
	b, err := os.ReadFile(filepath.Join(dir, "result.log"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 3)
	require.Equal(t, strings.TrimSpace(resultHeader), lines[0])
	require.True(t, strings.HasPrefix(lines[2], "2\t"), lines[2])
	require.FileExists(t, filepath.Join(dir, "vgg11_bn_best.ckpt"))
	// The recipe is saved beside the checkpoints and reads back to the same Config.
	saved := DefaultConfig()
	require.NoError(t, LoadYAML(filepath.Join(dir, "vgg11_bn.yaml"), &saved))
	require.Equal(t, tinyConfig(dir), saved)

	// A wrong optimizer file is refused with the file's name.
	bad := filepath.Join(dir, CheckpointName("vgg11_bn", 1, 6))
	require.NoError(t, os.Rename(OptimizerStatePath(ckpt), OptimizerStatePath(bad)))
	c.CkptPath, c.ResumeOpt = bad, true
	_, err = Build(c, io.Discard, Distributed{Size: 1})
	require.ErrorContains(t, err, "belongs to epoch 2, not 1")
}

func fileTensorNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := weights.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, weights.MindSpore, f.Format)
	return weights.Names(f.Tensors)
}

// A crash after the temporary file is written and before the rename leaves the
// previous checkpoint as it was and no temporary file behind.
func TestAtomicWriteSurvivesCrash(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.ckpt")
	require.NoError(t, writeAtomic(p, func(w io.Writer) error { _, err := io.WriteString(w, "old"); return err }))

	crash := errors.New("killed")
	atomicfile.BeforeRename = func(string) error { return crash }
	defer func() { atomicfile.BeforeRename = nil }()
	err := writeAtomic(p, func(w io.Writer) error { _, err := io.WriteString(w, "new, longer content"); return err })
	require.ErrorIs(t, err, crash)
	atomicfile.BeforeRename = nil

	// A writer that fails half way does the same.
	err = writeAtomic(p, func(w io.Writer) error {
		io.WriteString(w, "half")
		return errors.New("disk full")
	})
	require.ErrorContains(t, err, "disk full")
	require.ErrorContains(t, err, p)

	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "old", string(b))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "temporary files left behind")
}

func touch(t *testing.T, paths ...string) {
	for _, p := range paths {
		require.NoError(t, os.WriteFile(p, []byte("x"), 0o644))
	}
}

func ckptFiles(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestRetention(t *testing.T) {
	for _, tc := range []struct {
		policy string
		top1   []float64 // per epoch 1..5
		want   []string
	}{
		{LatestK, []float64{0.1, 0.5, 0.2, 0.4, 0.3}, []string{"m-4_7.ckpt", "m-5_7.ckpt", "optim_m-4_7.safetensors", "optim_m-5_7.safetensors"}},
		{TopK, []float64{0.1, 0.5, 0.2, 0.4, 0.3}, []string{"m-2_7.ckpt", "m-4_7.ckpt", "optim_m-2_7.safetensors", "optim_m-4_7.safetensors"}},
		{TopK, []float64{0.3, 0.3, 0.3, 0.3, 0.3}, []string{"m-4_7.ckpt", "m-5_7.ckpt", "optim_m-4_7.safetensors", "optim_m-5_7.safetensors"}},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			dir := t.TempDir()
			c := &checkpointer{dir: dir, model: "m", policy: tc.policy, keep: 2, interval: 1, best: -1}
			for e, v := range tc.top1 {
				p := filepath.Join(dir, CheckpointName("m", e+1, 7))
				touch(t, p, OptimizerStatePath(p))
				c.saved = append(c.saved, savedCkpt{e + 1, 7, v})
				require.NoError(t, c.prune())
			}
			require.Equal(t, tc.want, ckptFiles(t, dir))
		})
	}
}

// A whole run under top_k keeps the best epochs' files, and a resumed run picks the
// earlier ones up again.
func TestRetentionAcrossResume(t *testing.T) {
	dir := t.TempDir()
	c := tinyConfig(dir)
	c.EpochSize, c.KeepCheckpointMax = 3, 1
	job, _ := build(t, c)
	_, err := job.Trainer.Fit(context.Background(), job.Train, 2)
	require.NoError(t, err)
	names := ckptFiles(t, dir)
	require.Contains(t, names, "vgg11_bn-2_6.ckpt")
	require.NotContains(t, names, "vgg11_bn-1_6.ckpt")
	// Epoch 3 ran and died before its checkpoint: its row must go on resume.
	f, err := os.OpenFile(filepath.Join(dir, "result.log"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("3\t9.9\t-\t-\t-\t1\t0\t1\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	c.CkptPath, c.ResumeOpt = filepath.Join(dir, "vgg11_bn-2_6.ckpt"), true
	job, _ = build(t, c)
	_, err = job.Run(context.Background())
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "result.log"))
	require.NoError(t, err)
	require.Regexp(t, `^Epoch\t[^\n]*\n1\t[^\n]*\n2\t[^\n]*\n3\t[^\n]*\n$`, string(b), "one row per epoch, none twice")
	names = ckptFiles(t, dir)
	require.Contains(t, names, "vgg11_bn-3_6.ckpt")
	require.NotContains(t, names, "vgg11_bn-2_6.ckpt")
	require.NotContains(t, names, "optim_vgg11_bn-2_6.safetensors")
}

// An interrupted Fit reports the context's error, which the command turns into a
// resume hint.
func TestFitInterrupted(t *testing.T) {
	job, _ := build(t, tinyConfig(t.TempDir()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := job.Run(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, "", job.Trainer.LastCheckpoint())
}

func TestCheckpointNames(t *testing.T) {
	require.Equal(t, "vgg16-200_5004.ckpt", CheckpointName("vgg16", 200, 5004))
	m, e, s, ok := ParseCheckpointName("/x/ckpt/vgg16_bn-12_5004.ckpt")
	require.True(t, ok)
	require.Equal(t, "vgg16_bn", m)
	require.Equal(t, 12, e)
	require.Equal(t, 5004, s)
	for _, bad := range []string{"vgg16.ckpt", "vgg16-1.ckpt", "vgg16-a_1.ckpt", "vgg16-1_2.safetensors", "-1_2.ckpt"} {
		_, _, _, ok := ParseCheckpointName(bad)
		require.False(t, ok, bad)
	}
	require.Equal(t, filepath.Join("d", "optim_vgg16-3_9.safetensors"), OptimizerStatePath(filepath.Join("d", "vgg16-3_9.ckpt")))
}

// A short run on the embedded data learns: the loss falls and the logs have MindCV's
// form.
func TestShortRunLearns(t *testing.T) {
	c := tinyConfig(t.TempDir())
	c.WidthDivisor, c.HiddenSize, c.DropRate = 8, 0, 0.5
	c.NumSamples, c.EpochSize, c.LogInterval = 640, 3, 0
	c.LR = 0.05
	job, out := build(t, c)
	res, err := job.Run(context.Background())
	require.NoError(t, err)
	require.Len(t, res.Epochs, 3)
	first, last := res.Epochs[0].TrainLoss, res.Epochs[2].TrainLoss
	t.Logf("train loss %.4f → %.4f; %s", first, last, res.Epochs[2].Val)
	require.Less(t, last, first*0.8)
	require.Greater(t, res.Epochs[2].Val.Top1, 0.3) // ten classes: chance is 0.1
	require.Regexp(t, `Epoch: \[3/3\], batch: \[20/20\], loss: \d+\.\d{6}, lr: \d+\.\d{6}, time: \d+\.\d{6}s`, out.String())
	require.Regexp(t, `Validation Top_1_Accuracy: \d\.\d{6}, Top_5_Accuracy: \d\.\d{6}, loss: \d+\.\d{6}, time: `, out.String())
}

// A warm training step allocates nothing, and in any case no more than the bare
// forward, loss, backward and optimizer step of an identical model.
func TestStepAllocatesNothing(t *testing.T) {
	newParts := func() (*vgg.Model, optim.Optimizer, *layers.CrossEntropy) {
		m, err := vgg.New11(vgg.WithBatchNorm(true), vgg.WithWidthDivisor(16), vgg.WithHidden(16), vgg.WithNumClasses(10),
			vgg.WithInChannels(1), vgg.WithPoolSize(1))
		require.NoError(t, err)
		opt, err := optim.NewSGD(m.Params(), optim.WithLR(0.01), optim.WithMomentum(0.9), optim.WithWeightDecay(1e-4), optim.WithParamsChanged(m.ParamsChanged))
		require.NoError(t, err)
		ce, err := layers.NewCrossEntropy(0.1)
		require.NoError(t, err)
		return m, opt, ce
	}
	x := tensor.New(8, 1, 32, 32)
	for i := range x.Data() {
		x.Data()[i] = float32(i%13) / 13
	}
	labels := []int{0, 1, 2, 3, 4, 5, 6, 7}

	m, opt, ce := newParts()
	tr, err := New(m, opt, ce, WithClipGrad(5), WithEMA(0.99), WithGradientAccumulation(2))
	require.NoError(t, err)
	step := func() {
		if _, err := tr.Step(x, labels); err != nil {
			t.Fatal(err)
		}
	}
	bm, bopt, bce := newParts()
	bm.SetTraining(true)
	bare := func() {
		logits, err := bm.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		_, grad, err := bce.Forward(logits, labels)
		if err != nil {
			t.Fatal(err)
		}
		if err := bm.Backward(grad); err != nil {
			t.Fatal(err)
		}
		if err := bopt.Step(); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		step()
		bare()
	}
	got, base := testing.AllocsPerRun(5, step), testing.AllocsPerRun(5, bare)
	t.Logf("allocations per step: trainer %v, bare loop %v", got, base)
	require.LessOrEqual(t, got, base)
	require.Zero(t, got)

	_, err = tr.Step(x, []int{0, 1})
	require.Error(t, err, "labels that do not match the batch")
}

func TestMetricsFormat(t *testing.T) {
	m := Metrics{Loss: 0.3125, Top1: 0.9123, Top5: 1, HasTop5: true}
	require.Equal(t, "{'Top_1_Accuracy': 0.9123, 'Top_5_Accuracy': 1.0, 'loss': 0.3125}", m.Dict())
	m.HasTop5 = false
	require.Equal(t, "{'Top_1_Accuracy': 0.9123, 'loss': 0.3125}", m.Dict())
	require.Equal(t, "1e-05", pyFloat(1e-5))
	require.Equal(t, "0.0", pyFloat(0))
	require.Equal(t, "0.86", pyFloat(0.86))
	require.Equal(t, 0, rank([]float32{3, 1, 2}, 0))
	require.Equal(t, 2, rank([]float32{3, 1, 2}, 1))
	require.Equal(t, 3, rank([]float32{3, 1, float32(math.NaN())}, 2))
}

func TestShrinkBatch(t *testing.T) {
	require.Equal(t, 25, ShrinkBatch(50000, 32)) // MindCV's ImageNet example
	require.Equal(t, 125, ShrinkBatch(10000, 128))
	require.Equal(t, 7, ShrinkBatch(7, 64))
	require.Equal(t, 1, ShrinkBatch(13, 12))
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	c := tinyConfig(dir)
	c.EpochSize = 1
	job, _ := build(t, c)
	res, err := job.Run(context.Background())
	require.NoError(t, err)
	c.CkptPath, c.NumSamples = filepath.Join(dir, "vgg11_bn-1_6.ckpt"), 0
	var out bytes.Buffer
	m, err := Validate(context.Background(), c, &out)
	require.NoError(t, err)
	require.Equal(t, 1000, m.Samples)
	require.Contains(t, out.String(), "batch size 25") // 32 shrunk to divide 1,000
	// The same weights evaluated during training give the same numbers.
	require.InDelta(t, res.Epochs[0].Val.Top1, m.Top1, 1e-12)
	require.InDelta(t, res.Epochs[0].Val.Loss, m.Loss, 1e-6)
}

func TestConfigYAML(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		return p
	}
	c := DefaultConfig()
	require.NoError(t, LoadYAML(write("ok.yaml", "model: 'vgg16'\nlr: 0.01\nscale: [0.5, 1.0]\ndistribute: True\n"), &c))
	require.Equal(t, "vgg16", c.Model)
	require.Equal(t, 0.01, c.LR)
	require.Equal(t, []float64{0.5, 1}, c.Scale)
	require.True(t, c.Distribute)
	require.Equal(t, 0.9, c.Momentum, "keys not in the file keep their values")

	err := LoadYAML(write("unknown.yaml", "model: vgg16\nlearning_rate: 0.1\n"), &c)
	require.ErrorContains(t, err, "learning_rate")
	require.ErrorContains(t, err, "unknown.yaml")
	err = LoadYAML(write("bad.yaml", "epoch_size: many\n"), &c)
	require.ErrorContains(t, err, "many")
	require.ErrorContains(t, err, "bad.yaml")
	require.ErrorContains(t, LoadYAML(filepath.Join(dir, "missing.yaml"), &c), "missing.yaml")
	empty := DefaultConfig()
	require.NoError(t, LoadYAML(write("empty.yaml", "# nothing\n"), &empty))
	require.Equal(t, DefaultConfig(), empty)
}

func TestConfigCheck(t *testing.T) {
	for _, tc := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.EpochSize = 0 }, "epoch_size"},
		{func(c *Config) { c.AmpLevel = "O2" }, "amp_level: O2 needs float16"},
		{func(c *Config) { c.CkptSavePolicy = "top_k"; c.ValWhileTrain = false }, "val_while_train"},
		{func(c *Config) { c.CkptSavePolicy = "best" }, "ckpt_save_policy"},
		{func(c *Config) { c.Mixup = 0.2 }, "mixup: not supported"},
		{func(c *Config) { c.EMA, c.EMADecay = true, 1 }, "ema_decay"},
		{func(c *Config) { c.GradientAccumulationSteps = 0 }, "gradient_accumulation_steps"},
		{func(c *Config) { c.InChannels = 4 }, "in_channels"},
		{func(c *Config) { c.Scale = []float64{1} }, "scale"},
		{func(c *Config) { c.Mean = []float64{1, 2} }, "mean"},
		{func(c *Config) { c.Std = []float64{1, 0, 1} }, "std"},
		{func(c *Config) { c.DropPathRate = 0.1 }, "drop_path_rate"},
	} {
		c := DefaultConfig()
		tc.set(&c)
		require.ErrorContains(t, c.Check(), tc.want)
	}
	c := DefaultConfig()
	require.NoError(t, c.Check())

	c = tinyConfig(t.TempDir())
	c.Dataset, c.DataDir = "fashion_mnist", "/no/such/fashion"
	_, err := Build(c, io.Discard, Distributed{Size: 1})
	require.ErrorContains(t, err, `"/no/such/fashion"`)
	c = tinyConfig(t.TempDir())
	c.Opt = "adam"
	_, err = Build(c, io.Discard, Distributed{Size: 1})
	require.ErrorContains(t, err, "adamw")
	c = tinyConfig(t.TempDir())
	c.InChannels = 3 // GrayToRGB makes three
	_, err = Build(c, io.Discard, Distributed{Size: 1})
	require.NoError(t, err)
}

// Every recipe in configs/vgg loads and passes Check, and the embedded one is the
// no-argument default.
func TestRecipes(t *testing.T) {
	files, err := filepath.Glob("../configs/vgg/*.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 7)
	for _, f := range files {
		c := DefaultConfig()
		require.NoError(t, LoadYAML(f, &c), f)
		require.NoError(t, c.Check(), f)
		if strings.Contains(f, "_ascend") {
			require.Equal(t, 256, c.BatchSize, f)
			require.Equal(t, 200, c.EpochSize, f)
			require.Equal(t, 0.01, c.LR, f)
			require.Equal(t, 4e-5, c.WeightDecay, f)
			require.Equal(t, "mindcv", c.Flavour, f)
		}
	}
	c := DefaultConfig()
	require.NoError(t, LoadYAML("../configs/vgg/vgg11_bn_embedded.yaml", &c))
	want := EmbeddedConfig()
	if !reflect.DeepEqual(want, c) {
		t.Fatalf("configs/vgg/vgg11_bn_embedded.yaml differs from EmbeddedConfig:\n%+v\n%+v", c, want)
	}
}

func TestValInterval(t *testing.T) {
	c := tinyConfig(t.TempDir())
	c.EpochSize, c.ValInterval, c.CkptSavePolicy = 4, 2, "none"
	job, _ := build(t, c)
	res, err := job.Run(context.Background())
	require.NoError(t, err)
	var evaluated []int
	for _, e := range res.Epochs {
		if e.Val != nil {
			evaluated = append(evaluated, e.Epoch)
		}
	}
	require.Equal(t, []int{1, 3, 4}, evaluated) // MindCV's 1, 1+k, … and the last
	names := ckptFiles(t, c.CkptSaveDir)
	require.NotContains(t, names, "vgg11_bn-4_6.ckpt", "policy none")
	require.Contains(t, names, "vgg11_bn_best.ckpt")
}

// With ema, evaluation uses the averages: validate --ema on a numbered checkpoint and
// the plain _best.ckpt give what training reported; without resume_opt the average
// restarts from the loaded weights.
func TestEMA(t *testing.T) {
	dir := t.TempDir()
	c := tinyConfig(dir)
	c.EpochSize, c.EMA, c.EMADecay = 1, true, 0.5
	job, _ := build(t, c)
	res, err := job.Run(context.Background())
	require.NoError(t, err)
	want := res.Epochs[0].Val

	v := c
	v.NumSamples, v.CkptPath = 0, filepath.Join(dir, "vgg11_bn-1_6.ckpt")
	got, err := Validate(context.Background(), v, io.Discard)
	require.NoError(t, err)
	require.InDelta(t, want.Top1, got.Top1, 1e-12)
	require.InDelta(t, want.Loss, got.Loss, 1e-6)
	v.EMA = false
	live, err := Validate(context.Background(), v, io.Discard)
	require.NoError(t, err)
	require.NotEqual(t, want.Loss, live.Loss, "the live weights are not the averages")
	v.CkptPath = filepath.Join(dir, "vgg11_bn_best.ckpt")
	best, err := Validate(context.Background(), v, io.Discard)
	require.NoError(t, err)
	require.InDelta(t, want.Loss, best.Loss, 1e-6)
	v.EMA = true
	_, err = Validate(context.Background(), v, io.Discard)
	require.ErrorContains(t, err, "already holds the EMA weights")

	r := c
	r.CkptPath, r.CkptSaveDir = filepath.Join(dir, "vgg11_bn-1_6.ckpt"), t.TempDir()
	again, _ := build(t, r)
	for i, p := range again.Trainer.ema.Averages() {
		require.Equal(t, again.Trainer.ema.State().Tensors[i].Value.Data(), p.Value.Data())
	}
	params := again.Model.Params()
	require.Equal(t, params[0].Value.Data(), again.Trainer.ema.Averages()[0].Value.Data())
}

// The ImageNet pipeline (ImageFolder, RandomResizedCrop, flip, colour jitter, the
// recipe's mean/std; resize and centre crop for evaluation) on a small folder of PNGs.
func TestImageFolderRecipe(t *testing.T) {
	root := t.TempDir()
	for _, split := range []string{"train", "val"} {
		for c, class := range []string{"dark", "light"} {
			dir := filepath.Join(root, split, class)
			require.NoError(t, os.MkdirAll(dir, 0o755))
			for i := range 8 {
				img := image.NewRGBA(image.Rect(0, 0, 40+i, 36))
				for p := range img.Pix {
					img.Pix[p] = uint8(40 + 150*c + (p*7+i)%50)
				}
				f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%d.png", i)))
				require.NoError(t, err)
				require.NoError(t, png.Encode(f, img))
				require.NoError(t, f.Close())
			}
		}
	}
	c := DefaultConfig()
	c.DataDir, c.CkptSaveDir, c.ImageResize, c.CropPct = root, t.TempDir(), 32, 0.875
	c.Mean, c.Std = []float64{120, 115, 100}, []float64{58, 57, 57}
	c.Model, c.WidthDivisor, c.HiddenSize, c.PoolSize, c.NumClasses = "vgg11", 16, 8, 1, 0
	c.BatchSize, c.EpochSize, c.NumParallelWorkers, c.ValWhileTrain, c.Progress = 4, 2, 2, true, false
	c.Opt, c.LR, c.Scheduler, c.WarmupEpochs, c.DecayEpochs = "momentum", 0.01, "cosine_decay", 0, 2
	var out bytes.Buffer
	job, err := Build(c, &out, Distributed{Size: 1})
	require.NoError(t, err)
	require.Equal(t, 2, job.Model.NumClasses(), "num_classes 0 takes the dataset's")
	require.Equal(t, 4, job.Train.Steps())
	res, err := job.Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 16, res.Epochs[1].Val.Samples)
	require.False(t, res.Epochs[1].Val.HasTop5, "two classes: no Top-5, as in MindCV")
	require.NotContains(t, out.String(), "Top_5")
}

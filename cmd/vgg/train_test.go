package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/govgg/govgg/train"
)

func writeFile(t *testing.T, dir, name, s string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
	return p
}

func TestRecipeFlagsOverrideYAML(t *testing.T) {
	dir := t.TempDir()
	y := writeFile(t, dir, "r.yaml", "model: 'vgg16'\nlr: 0.01\nbatch_size: 32\nval_while_train: True\nscale: [0.5, 1.0]\n")
	for _, args := range [][]string{
		{"--config", y, "--lr", "0.2", "--val_while_train", "False", "--scale", "0.3,0.9"},
		{"-c=" + y, "-lr=0.2", "--val_while_train=false", "--scale", "[0.3, 0.9]"},
	} {
		cfg, err := parseRecipe("train", args, train.DefaultConfig(), io.Discard)
		require.NoError(t, err, args)
		require.Equal(t, "vgg16", cfg.Model, "from the YAML")
		require.Equal(t, 32, cfg.BatchSize, "from the YAML")
		require.Equal(t, 0.2, cfg.LR, "flag over YAML")
		require.False(t, cfg.ValWhileTrain, "flag over YAML")
		require.Equal(t, []float64{0.3, 0.9}, cfg.Scale)
		require.Equal(t, 0.9, cfg.Momentum, "MindCV default")
	}
	cfg, err := parseRecipe("train", []string{"--distribute", "--epoch_size", "3"}, train.DefaultConfig(), io.Discard)
	require.NoError(t, err)
	require.True(t, cfg.Distribute)
	require.Equal(t, 3, cfg.EpochSize)
}

func TestRecipeErrors(t *testing.T) {
	dir := t.TempDir()
	unknown := writeFile(t, dir, "unknown.yaml", "model: vgg16\nwarmup_epoch: 3\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-c", unknown}, "warmup_epoch"},
		{[]string{"--epoch_size", "ten"}, `"ten" is not an integer`},
		{[]string{"--lr", "fast"}, `"fast" is not a number`},
		{[]string{"--val_while_train=maybe"}, "not a boolean"},
		{[]string{"--no_such_flag", "1"}, "no_such_flag"},
		{[]string{"-c", filepath.Join(dir, "absent.yaml")}, "absent.yaml"},
	} {
		_, err := parseRecipe("train", tc.args, train.DefaultConfig(), io.Discard)
		require.ErrorContains(t, err, tc.want, tc.args)
	}

	code, _, errOut := runCLI("train", "--dataset", "fashion_mnist", "--data_dir", "/no/such/dir", "--in_channels", "1", "--image_resize", "32")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `data_dir "/no/such/dir"`)
	code, _, errOut = runCLI("train", "--distribute", "True")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "-tags mpi")
	code, _, errOut = runCLI("train", "-c", unknown)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "warmup_epoch")
	require.Contains(t, errOut, "unknown.yaml")
	code, _, errOut = runCLI("train", "--amp_level", "O2")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "amp_level")
}

// A few steps of a tiny model on the embedded data, then validate on its checkpoint:
// the output ends with MindCV's dict.
func TestTrainThenValidate(t *testing.T) {
	dir := t.TempDir()
	recipe := writeFile(t, dir, "tiny.yaml", `
dataset: 'embedded_fashion_mnist'
num_samples: 256
batch_size: 32
image_resize: 32
model: 'vgg11_bn'
in_channels: 1
width_divisor: 16
hidden_size: 0
pool_size: 1
epoch_size: 1
warmup_epochs: 0
decay_epochs: 1
scheduler: 'warmup_cosine_decay'
opt: 'momentum'
lr: 0.05
log_interval: 4
num_parallel_workers: 2
`)
	ckptDir := filepath.Join(dir, "ckpt")
	code, out, errOut := runCLI("train", "-c", recipe, "--ckpt_save_dir", ckptDir, "--val_while_train", "True")
	require.Zero(t, code, errOut)
	require.Regexp(t, `Epoch: \[1/1\], batch: \[4/8\], loss: \d+\.\d{6}, lr: \d+\.\d{6}, time: \d+\.\d{6}s`, out)
	require.Contains(t, out, "Validation Top_1_Accuracy:")
	ckpt := filepath.Join(ckptDir, "vgg11_bn-1_8.ckpt")
	require.FileExists(t, ckpt)
	require.FileExists(t, filepath.Join(ckptDir, "result.log"))

	code, out, errOut = runCLI("validate", "-c", recipe, "--ckpt_path", ckpt, "--num_samples", "0")
	require.Zero(t, code, errOut)
	require.Regexp(t, regexp.MustCompile(`(?m)^\{'Top_1_Accuracy': 0\.\d+, 'Top_5_Accuracy': [01]\.\d+, 'loss': \d+\.\d+(e-\d+)?\}$`), out)
	require.Contains(t, out, "1000 embedded_fashion_mnist images")
}

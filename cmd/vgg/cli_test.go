package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestInfoMatchesTorchvision(t *testing.T) {
	code, out, _ := runCLI("info")
	require.Zero(t, code)
	for _, want := range []string{"132863336", "133047848", "138357544", "143667240", "15.470", "19.632", "vgg19_bn"} {
		require.Contains(t, out, want)
	}
}

func TestUsageAndUnknownCommand(t *testing.T) {
	code, out, _ := runCLI()
	require.Zero(t, code)
	require.Contains(t, out, "predict")
	code, _, errOut := runCLI("frobnicate")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `unknown command "frobnicate"`)
}

func TestPredict(t *testing.T) {
	code, out, errOut := runCLI("predict", "-model", "vgg11", "-num_classes", "10",
		"-weights", "../../vgg/testdata/vgg11_w16.safetensors", "-image", "../../vgg/testdata/photo.png", "-topk", "2")
	// The fixture is a 1/16-width model: a full-width vgg11 does not fit its tensors.
	require.Equal(t, 1, code, out)
	require.Contains(t, errOut, "features.0.weight")

	code, _, errOut = runCLI("predict", "-weights", "x.safetensors")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "-weights and -image are required")

	code, _, errOut = runCLI("predict", "-weights", "x.safetensors", "-image", "cli_test.go")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "cannot decode image cli_test.go")
}

func TestConvertRoundTrip(t *testing.T) {
	dir := t.TempDir()
	st, ckpt := filepath.Join(dir, "w.safetensors"), filepath.Join(dir, "w.ckpt")
	code, out, errOut := runCLI("convert", "../../vgg/testdata/vgg13_bn_w16.safetensors", ckpt, "-names", "mindcv")
	require.Equal(t, 1, code, "flags after arguments are not parsed: %s", out)
	code, out, errOut = runCLI("convert", "-names", "mindcv", "-crc", "../../vgg/testdata/vgg13_bn_w16.safetensors", ckpt)
	require.Zero(t, code, errOut)
	require.Contains(t, out, "mindspore-ckpt")
	code, out, errOut = runCLI("convert", "-names", "torchvision", ckpt, st)
	require.Zero(t, code, errOut)
	require.Contains(t, out, "safetensors")
	code, _, errOut = runCLI("convert", st, filepath.Join(dir, "w.npz"))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, ".safetensors or .ckpt")
	code, _, errOut = runCLI("convert", "-names", "keras", st, ckpt)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "keras")
}

func TestBenchTiny(t *testing.T) {
	code, out, errOut := runCLI("bench", "-models", "vgg11", "-size", "32", "-batch", "2", "-threads", "1", "-iters", "1", "-head", "linear", "-num_classes", "10")
	require.Zero(t, code, errOut)
	require.Contains(t, out, "ms/step")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Contains(t, lines[len(lines)-1], "32x32")
	code, _, errOut = runCLI("bench", "-batch", "0")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "-batch")
}

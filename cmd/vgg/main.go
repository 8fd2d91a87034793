// Command vgg runs govgg's VGG networks: information, prediction, benchmarks, weight
// conversion, training and validation.
//
//	vgg info [-plan]                      parameters and GFLOPs of each variant
//	vgg predict -model vgg16 -weights w.safetensors -image photo.jpg [-topk 5]
//	vgg bench [-models vgg11,vgg16,vgg19] [-batch 1,8] [-threads 1,2] [-train]
//	vgg convert [-names torchvision|mindcv] SRC DST   .pth/.ckpt/safetensors → safetensors or .ckpt
//	vgg train [-c configs/vgg/vgg16_ascend.yaml] [--data_dir DIR] [--epoch_size N] …
//	                                      (no arguments: a small VGG on the built-in Fashion-MNIST subset)
//	vgg validate -c recipe.yaml --ckpt_path ckpt/vgg16-200_5004.ckpt [--data_dir DIR]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type command struct {
	summary string
	run     func(args []string, stdout io.Writer) error
}

var commands = map[string]command{
	"info":     {"print each VGG variant's parameters and GFLOPs", runInfo},
	"predict":  {"classify an image with a model and its weights", runPredict},
	"bench":    {"measure forward passes or training steps on this machine (ms/step, img/s)", runBench},
	"convert":  {"convert weights between .pth, .ckpt and safetensors", runConvert},
	"train":    {"train a VGG (MindCV's train.py flags and YAML recipes)", runTrain},
	"validate": {"evaluate a checkpoint: Top-1, Top-5 and loss (MindCV's validate.py)", runValidate},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: vgg <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'vgg <command> -h' for a command's flags.")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "vgg: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := cmd.run(args[1:], stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "vgg %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("vgg "+name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	return fs
}

// parseList splits a comma-separated flag value.
func parseList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/govgg/govgg/train"
)

// parseRecipe reads MindCV-style arguments: -c/--config FILE loads a YAML recipe over
// base, then every flag (named as the YAML keys) overrides it. Boolean flags also take
// MindCV's separate value (--distribute True).
func parseRecipe(name string, args []string, base train.Config, stdout io.Writer) (train.Config, error) {
	cfg := base
	args = joinBoolValues(args, train.BoolFlags())
	// The recipe must be read before the flags are defined, so that they override it.
	pre := flag.NewFlagSet(name, flag.ContinueOnError)
	pre.SetOutput(io.Discard)
	var path string
	pre.StringVar(&path, "config", "", "")
	pre.StringVar(&path, "c", "", "")
	for i, a := range args {
		if a == "--" {
			break
		}
		if n := strings.TrimLeft(a, "-"); n != a && (n == "config" || n == "c" || strings.HasPrefix(n, "config=") || strings.HasPrefix(n, "c=")) {
			_ = pre.Parse(args[i:min(i+2, len(args))])
		}
	}
	if path != "" {
		if err := train.LoadYAML(path, &cfg); err != nil {
			return cfg, err
		}
	}
	fs := newFlags(name, stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "usage: vgg %s [-c recipe.yaml] [--key value …]\n\n", name)
		fmt.Fprint(stdout, "Flags are MindCV's train.py/validate.py arguments and YAML keys. Keys set neither by\n"+
			"the recipe nor by a flag take MindCV's defaults. 'vgg train' without any argument runs\n"+
			"configs/vgg/vgg11_bn_embedded.yaml; to change it, pass that file with -c and the flags.\n\n")
		fs.PrintDefaults()
	}
	var ignored string
	fs.StringVar(&ignored, "config", path, "YAML recipe `file` (MindCV's configs/*.yaml); flags override it")
	fs.StringVar(&ignored, "c", path, "short for -config")
	cfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return cfg, nil
}

// joinBoolValues turns "--flag True" into "--flag=True" for boolean flags, as
// MindCV's argparse spells them; Go's flag package would stop at "True".
func joinBoolValues(args []string, bools map[string]bool) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		n := strings.TrimLeft(a, "-")
		if n != a && bools[n] && i+1 < len(args) {
			switch strings.ToLower(args[i+1]) {
			case "true", "false", "1", "0":
				out = append(out, a+"="+args[i+1])
				i++
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

func runTrain(args []string, stdout io.Writer) error {
	base := train.DefaultConfig()
	embedded := len(args) == 0
	if embedded {
		base = train.EmbeddedConfig()
		base.CkptSaveDir = filepath.Join(os.TempDir(), "govgg-embedded-ckpt")
	}
	cfg, err := parseRecipe("train", args, base, stdout)
	if err != nil {
		return err
	}
	if cfg.Distribute {
		return errors.New("--distribute needs MPI: this binary was built without -tags mpi (data-parallel training is not available yet)")
	}
	if embedded {
		fmt.Fprintf(stdout, "No arguments: training %s (width/%d) for %d epochs on the Fashion-MNIST subset built into govgg\n"+
			"(6,000 training, 1,000 test images); checkpoints in %s. 'vgg train -h' lists the flags.\n",
			cfg.Model, cfg.WidthDivisor, cfg.EpochSize, cfg.CkptSaveDir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	job, err := train.Build(cfg, stdout, train.Distributed{Size: 1})
	if err != nil {
		return err
	}
	res, err := job.Run(ctx)
	if errors.Is(err, context.Canceled) {
		if last := job.Trainer.LastCheckpoint(); last != "" {
			return fmt.Errorf("interrupted; continue with --ckpt_path %s --resume_opt True (and the same recipe)", last)
		}
		return errors.New("interrupted before the first checkpoint")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Training of %s finished in %.1fs", cfg.Model, time.Since(start).Seconds())
	if res.Best != nil {
		fmt.Fprintf(stdout, "; best validation Top-1 %.4f, Top-5 %.4f (epoch %d)", res.Best.Top1, res.Best.Top5, res.BestEpoch)
	}
	if n := len(res.Epochs); n > 0 && res.Epochs[n-1].Val != nil {
		fmt.Fprintf(stdout, "; last epoch %s", res.Epochs[n-1].Val)
	}
	fmt.Fprintf(stdout, "\nCheckpoints and result.log are in %s\n", cfg.CkptSaveDir)
	return nil
}

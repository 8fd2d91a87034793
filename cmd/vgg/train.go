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
	"runtime"
	"strings"
	"time"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/dist"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/train"
	"github.com/govgg/govgg/vgg"
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
	d, comm, reducer, err := openDistributed(cfg)
	if err != nil {
		return err
	}
	if comm != nil {
		defer comm.Close()
		if !comm.IsRoot() {
			stdout = io.Discard // rank 0 speaks for the job
		}
	}
	if embedded {
		fmt.Fprintf(stdout, "No arguments: training %s (width/%d) for %d epochs on the Fashion-MNIST subset built into govgg\n"+
			"(6,000 training, 1,000 test images); checkpoints in %s. 'vgg train -h' lists the flags.\n",
			cfg.Model, cfg.WidthDivisor, cfg.EpochSize, cfg.CkptSaveDir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	job, err := train.Build(cfg, stdout, d)
	if err != nil {
		return err
	}
	if comm != nil {
		if err := reducer.attach(comm, job.Model); err != nil {
			return err
		}
	}
	res, err := job.Run(ctx)
	if err != nil && comm != nil && comm.Size() > 1 && !errors.Is(err, context.Canceled) {
		comm.Abort(1, fmt.Sprintf("vgg train: rank %d: %v", comm.Rank(), err)) // the other ranks must not wait for this one
	}
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
	if comm != nil && comm.Size() > 1 {
		fmt.Fprintf(stdout, "%d ranks: %v\n", comm.Size(), reducer.r.Stats())
	}
	return nil
}

// ddp is the data-parallel state of a --distribute run: the gradient reducer, made
// once the model exists.
type ddp struct{ r *dist.Reducer }

// openDistributed joins the MPI job for --distribute and returns the trainer's hooks:
// a sharded loader (rank, size), gradients averaged over the ranks by dist's bucketed
// reducer, overlapped with the backward pass, and evaluation sums added up.
func openDistributed(cfg train.Config) (train.Distributed, *dist.Comm, *ddp, error) {
	if !cfg.Distribute {
		return train.Distributed{Size: 1}, nil, nil, nil
	}
	if !dist.MPI {
		return train.Distributed{}, nil, nil, errors.New("--distribute needs MPI: build with -tags mpi (see the README's \"Distributed training\") and start with mpirun")
	}
	comm, err := dist.Open()
	if err != nil {
		return train.Distributed{}, nil, nil, err
	}
	// Ranks on one host share its cores.
	asm.SetThreads(max(1, runtime.NumCPU()/comm.LocalSize()))
	red := &ddp{}
	return train.Distributed{
		Rank:        comm.Rank(),
		Size:        comm.Size(),
		ReduceGrads: func([]*layers.Param) error { return red.r.Reduce() },
		ReduceSums:  comm.AllReduceSumFloat64,
		GradReady:   func(ps []*layers.Param) { red.r.Ready(ps...) },
	}, comm, red, nil
}

// attach gives every rank rank 0's weights and makes the reducer over the model's
// parameters (both are collective: every rank calls them at the same point).
func (red *ddp) attach(comm *dist.Comm, m *vgg.Model) error {
	if err := dist.BroadcastParams(comm, m.StateDict()); err != nil {
		return err
	}
	m.ParamsChanged()
	r, err := dist.NewReducer(comm, m.Params())
	if err != nil {
		return err
	}
	red.r = r
	return nil
}

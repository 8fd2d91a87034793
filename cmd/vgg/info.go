package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/tensor"
	"github.com/govgg/govgg/vgg"
)

func runInfo(args []string, stdout io.Writer) error {
	fs := newFlags("info", stdout)
	size := fs.Int("size", 224, "input `side` in pixels for the GFLOPs column")
	flavour := fs.String("flavour", "torchvision", "model definition: torchvision or mindcv")
	plan := fs.Bool("plan", false, "time one model layer by layer: each convolution's algorithm, prepared-weight memory, time in the pass and warm, effective GFLOP/s and time share")
	model := fs.String("model", "vgg16", "`model` for -plan")
	batch := fs.Int("batch", 1, "batch size for -plan")
	runs := fs.Int("runs", 3, "timed runs for -plan (the median is reported)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fl, err := vgg.ParseFlavour(*flavour)
	if err != nil {
		return err
	}
	if *plan {
		return printPlan(stdout, *model, fl, *batch, *size, *runs)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "model\tparams\tparams(M)\tGFLOPs@%d\tweights(MiB)\t\n", *size)
	for _, name := range vgg.Names {
		cfg, bn, err := vgg.ParseName(name)
		if err != nil {
			return err
		}
		s, err := vgg.Summarize(cfg, *size, vgg.WithBatchNorm(bn), vgg.WithFlavour(fl))
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.3f\t%.1f\t\n", s.Name, s.Params, float64(s.Params)/1e6, float64(s.MACs)/1e9, float64(s.Params)*4/(1<<20))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "GFLOPs count multiply-accumulates of the convolutions and linear layers, as torchvision reports them.")
	return nil
}

// printPlan profiles one model and prints each layer's algorithm and time share.
func printPlan(stdout io.Writer, name string, fl vgg.Flavour, batch, size, runs int) error {
	if batch < 1 {
		return fmt.Errorf("-batch must be positive, got %d", batch)
	}
	m, err := vgg.NewByName(name, vgg.WithFlavour(fl))
	if err != nil {
		return err
	}
	prof, err := m.Profile(tensor.New(batch, 3, size, size), runs)
	if err != nil {
		return err
	}
	var total, convs, fcs, warm float64
	var weights int
	for _, p := range prof {
		ms := float64(p.Time.Microseconds()) / 1000
		total += ms
		warm += float64(p.Warm.Microseconds()) / 1000
		switch {
		case p.Algorithm != "":
			convs += ms
			weights += p.WeightBytes
		case strings.HasPrefix(p.Name, "classifier"):
			fcs += ms
		}
	}
	fmt.Fprintf(stdout, "%s, batch %d, %d×%d, %s kernels, %d thread(s); median of %d runs\n", m.Name(), batch, size, size, asm.Impl(), asm.Threads(), runs)
	fmt.Fprintln(stdout, "ms: in the forward pass; warm: the layer run again at once (weights and input in cache); GFLOP/s: effective, direct-convolution FLOPs over ms")
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "layer\t\toutput\talgorithm\tweights (MiB)\tms\twarm\tGFLOP/s\tshare")
	for _, p := range prof {
		ms := float64(p.Time.Microseconds()) / 1000
		w, rate := "", ""
		if p.Algorithm != "" {
			w = fmt.Sprintf("%.1f", float64(p.WeightBytes)/(1<<20))
		}
		if p.FLOPs > 0 && p.Time > 0 {
			rate = fmt.Sprintf("%.0f", float64(p.FLOPs)/p.Time.Seconds()/1e9)
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\t%.2f\t%.2f\t%s\t%.1f%%\n", p.Name, p.Layer, p.OutShape, p.Algorithm, w, ms, float64(p.Warm.Microseconds())/1000, rate, 100*ms/total)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\ntotal %.1f ms (%.1f warm): convolutions %.1f ms (%.0f%%, prepared weights %.1f MiB), classifier %.1f ms (%.0f%%), the rest %.1f ms\n",
		total, warm, convs, 100*convs/total, float64(weights)/(1<<20), fcs, 100*fcs/total, total-convs-fcs)
	return nil
}

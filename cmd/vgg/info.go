package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/govgg/govgg/vgg"
)

func runInfo(args []string, stdout io.Writer) error {
	fs := newFlags("info", stdout)
	size := fs.Int("size", 224, "input `side` in pixels for the GFLOPs column")
	flavour := fs.String("flavour", "torchvision", "model definition: torchvision or mindcv")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fl, err := vgg.ParseFlavour(*flavour)
	if err != nil {
		return err
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

package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/govgg/govgg/weights"
)

func runConvert(args []string, stdout io.Writer) error {
	fs := newFlags("convert", stdout)
	names := fs.String("names", "", "rename tensors to `flavour`: torchvision or mindcv (default: keep the file's names)")
	crc := fs.Bool("crc", false, "append MindSpore's crc_num trailer (CRC-32 of the file) to a .ckpt; older MindSpore releases cannot read it")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: vgg convert [-names torchvision|mindcv] [-crc] SRC DST\n\n"+
			"SRC is a safetensors, torchvision .pth or MindSpore .ckpt file; DST ends in .safetensors or .ckpt.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errors.New("want exactly two arguments: SRC DST")
	}
	var opts []weights.ConvertOption
	switch *names {
	case "":
	case "torchvision":
		opts = append(opts, weights.RenameTo(weights.Torchvision))
	case "mindcv":
		opts = append(opts, weights.RenameTo(weights.MindCV))
	default:
		return fmt.Errorf("-names must be torchvision or mindcv, got %q", *names)
	}
	if *crc {
		opts = append(opts, weights.ConvertCRC())
	}
	src, dst := fs.Arg(0), fs.Arg(1)
	if err := weights.Convert(src, dst, opts...); err != nil {
		return err
	}
	ts, format, err := weights.Load(dst)
	if err != nil {
		return fmt.Errorf("reading back %s: %w", dst, err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d tensors (%s)\n", dst, len(ts), format)
	return nil
}

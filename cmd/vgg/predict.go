package main

import (
	"errors"
	"fmt"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"

	"github.com/govgg/govgg/vgg"
)

func runPredict(args []string, stdout io.Writer) error {
	fs := newFlags("predict", stdout)
	model := fs.String("model", "vgg16", "`model`: vgg11 … vgg19, with _bn for batch norm")
	weightsPath := fs.String("weights", "", "weight `file`: safetensors, torchvision .pth or MindCV .ckpt (required)")
	imagePath := fs.String("image", "", "image `file`: JPEG, PNG or GIF (required)")
	topk := fs.Int("topk", 5, "number of classes to print")
	flavour := fs.String("flavour", "torchvision", "model definition: torchvision or mindcv")
	classes := fs.Int("num_classes", 1000, "classifier outputs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *weightsPath == "" || *imagePath == "" {
		fs.Usage()
		return errors.New("-weights and -image are required")
	}
	fl, err := vgg.ParseFlavour(*flavour)
	if err != nil {
		return err
	}
	img, err := decodeImage(*imagePath)
	if err != nil {
		return err
	}
	m, err := vgg.NewByName(*model, vgg.WithFlavour(fl), vgg.WithNumClasses(*classes))
	if err != nil {
		return err
	}
	if err := m.LoadWeights(*weightsPath); err != nil {
		return err
	}
	top, err := m.Predict(img, *topk)
	if err != nil {
		return err
	}
	for i, p := range top {
		fmt.Fprintf(stdout, "%d. %-30s %6.2f%%  (class %d)\n", i+1, p.Label, 100*p.Probability, p.Class)
	}
	return nil
}

func decodeImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("cannot decode image %s: %w", path, err)
	}
	if b := img.Bounds(); b.Dx() == 0 || b.Dy() == 0 {
		return nil, fmt.Errorf("image %s (%s) is empty", path, format)
	}
	return img, nil
}

package vgg_test

import (
	"fmt"
	"image/png"
	"log"
	"os"

	"github.com/govgg/govgg/tensor"
	"github.com/govgg/govgg/vgg"
)

func ExampleNew16() {
	m, err := vgg.New16(vgg.WithBatchNorm(false), vgg.WithNumClasses(1000))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Name(), m.NumParams(), "parameters")
	fmt.Printf("%.2f GFLOPs (multiply-accumulates) at 224×224\n", float64(m.MACs(224))/1e9)

	logits, err := m.Forward(tensor.New(1, 3, 224, 224))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logits", logits.Shape())
	// Output:
	// vgg16 138357544 parameters
	// 15.47 GFLOPs (multiply-accumulates) at 224×224
	// logits [1 1000]
}

func ExampleModel_Predict() {
	// A small VGG-11 with 10 classes and weights made by PyTorch (testdata/make_fixtures.py).
	names := []string{"T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"}
	m, err := vgg.New11(vgg.WithWidthDivisor(16), vgg.WithHidden(16), vgg.WithNumClasses(10), vgg.WithClassNames(names))
	if err != nil {
		log.Fatal(err)
	}
	if err := m.LoadWeights("testdata/vgg11_w16.safetensors"); err != nil {
		log.Fatal(err)
	}
	f, err := os.Open("testdata/photo.png")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		log.Fatal(err)
	}
	top, err := m.Predict(img, 3)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range top {
		fmt.Printf("%-8s %.3f\n", p.Label, p.Probability)
	}
	// Output:
	// shirt    0.292
	// sandal   0.111
	// T-shirt  0.105
}

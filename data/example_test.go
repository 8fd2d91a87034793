package data_test

import (
	"context"
	"fmt"
	"io"
	"log"

	"github.com/govgg/govgg/data"
)

// Batches of the embedded Fashion-MNIST test subset, padded to 32×32 and normalized,
// for rank 0 of a 2-way data-parallel run.
func ExampleLoader() {
	ds, err := data.EmbeddedFashionMNIST("test")
	if err != nil {
		log.Fatal(err)
	}
	l, err := data.NewLoader(ds,
		data.WithBatchSize(64),
		data.WithTransform(data.FashionMNISTEval(false)),
		data.WithShard(0, 2),
		data.WithDropRemainder(true),
		data.WithWorkers(4),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ds.Len(), "images,", l.Samples(), "for this rank,", l.Steps(), "steps")

	it, err := l.Epoch(context.Background(), 0, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer it.Close()
	for {
		b, err := it.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if b.Step == 0 {
			fmt.Println("batch", b.Images.Shape(), "first label", data.FashionMNISTClasses[b.Labels[0]])
		}
	}
	// Output:
	// 1000 images, 500 for this rank, 7 steps
	// batch [64 1 32 32] first label T-shirt/top
}

func ExampleOpen() {
	// MindCV's --dataset imagenet --data_dir /data/imagenet --train_split train:
	_, err := data.Open("imagenet", "/nonexistent/imagenet", "train")
	fmt.Println(err)
	// Output:
	// data: ImageFolder: open /nonexistent/imagenet/train: no such file or directory
}

// The evaluation pipeline on a flat grey 375×500 photo: short side to 256, centre crop
// 224, ImageNet normalization: (128 − 0.485·255) / (0.229·255) = 0.0741.
func ExampleImageNetEval() {
	img := data.NewImage(375, 500, 3)
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	if err := data.ImageNetEval(224).Apply(img, nil); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d×%d×%d, red %.4f\n", img.H, img.W, img.C, img.At(0, 0, 0))
	// Output:
	// 224×224×3, red 0.0741
}

package data

import (
	"context"
	"image"
	"image/color"
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// photoFolder writes n 500×375 JPEGs (the median ImageNet size) into an ImageFolder.
func photoFolder(b *testing.B, n int) *ImageFolder {
	root := b.TempDir()
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < n; i++ {
		m := image.NewRGBA(image.Rect(0, 0, 500, 375))
		for y := 0; y < 375; y++ {
			for x := 0; x < 500; x++ {
				m.Set(x, y, color.RGBA{uint8(x/2 + rng.IntN(20)), uint8(y/2 + rng.IntN(20)), uint8((x + y) / 4), 255})
			}
		}
		class := []string{"a", "b"}[i%2]
		writeImage(b, filepath.Join(root, "train", class, string(rune('a'+i))+".jpg"), m)
	}
	ds, err := OpenImageFolder(root, "train")
	if err != nil {
		b.Fatal(err)
	}
	return ds
}

func BenchmarkDecodeJPEG(b *testing.B) {
	ds := photoFolder(b, 4)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ds.Get(i % 4); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkImageNetTrainTransform(b *testing.B) {
	benchTransform(b, ImageNetTrain(224))
}

func BenchmarkImageNetEvalTransform(b *testing.B) {
	benchTransform(b, ImageNetEval(224))
}

func benchTransform(b *testing.B, tf Transform) {
	ds := photoFolder(b, 1)
	s, _ := ds.Get(0)
	var m Image
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := m.Load(s); err != nil {
			b.Fatal(err)
		}
		if err := tf.Apply(&m, rng); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoaderImageNet runs whole batches: decode, ImageNetTrain, batching.
func BenchmarkLoaderImageNet(b *testing.B) {
	ds := photoFolder(b, 16)
	l, err := NewLoader(ds, WithBatchSize(16), WithTransform(ImageNetTrain(224)))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		it, _ := l.Epoch(context.Background(), i, 0)
		for {
			if _, err := it.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
		it.Close()
	}
	b.ReportMetric(float64(b.N*16)/b.Elapsed().Seconds(), "img/s")
}

// BenchmarkLoaderCIFAR batches in-memory 32×32 images with the CIFAR augmentation.
func BenchmarkLoaderCIFAR(b *testing.B) {
	ds := newSynth(1024, 32, 32, 3)
	l, err := NewLoader(ds, WithBatchSize(128), WithTransform(CIFAR10Train()))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		it, _ := l.Epoch(context.Background(), i, 0)
		for {
			if _, err := it.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
		it.Close()
	}
	b.ReportMetric(float64(b.N*1024)/b.Elapsed().Seconds(), "img/s")
}

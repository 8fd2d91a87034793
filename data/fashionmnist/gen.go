//go:build ignore

// gen writes the Fashion-MNIST subset embedded in package data: the first 600 training
// images of each class and the first 100 test images of each class, in their original
// order, as gzip IDX files. Run from the repository root:
//
//	go run data/fashionmnist/gen.go -src /usr/share/datasets/fashion-mnist -out data/fashionmnist
//
// (the source is Debian's dataset-fashion-mnist package, the files Zalando publishes).
// The output is byte-for-byte reproducible: the gzip headers carry no name or time.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
)

func main() {
	src := flag.String("src", "/usr/share/datasets/fashion-mnist", "directory with the four original .gz IDX files")
	out := flag.String("out", "data/fashionmnist", "output directory")
	flag.Parse()
	for _, s := range []struct {
		prefix   string
		perClass int
	}{{"train", 600}, {"t10k", 100}} {
		images := mustRead(filepath.Join(*src, s.prefix+"-images-idx3-ubyte.gz"))
		labels := mustRead(filepath.Join(*src, s.prefix+"-labels-idx1-ubyte.gz"))
		n := int(binary.BigEndian.Uint32(labels[4:]))
		rows, cols := binary.BigEndian.Uint32(images[8:]), binary.BigEndian.Uint32(images[12:])
		px := int(rows * cols)
		var count [10]int
		var keptImages, keptLabels []byte
		for i := 0; i < n; i++ {
			l := labels[8+i]
			if count[l] == s.perClass {
				continue
			}
			count[l]++
			keptLabels = append(keptLabels, l)
			keptImages = append(keptImages, images[16+i*px:16+(i+1)*px]...)
		}
		k := uint32(len(keptLabels))
		mustWrite(filepath.Join(*out, s.prefix+"-images-idx3-ubyte.gz"), header(0x803, k, rows, cols), keptImages)
		mustWrite(filepath.Join(*out, s.prefix+"-labels-idx1-ubyte.gz"), header(0x801, k), keptLabels)
		fmt.Printf("%s: kept %d of %d (%v per class)\n", s.prefix, k, n, count)
	}
}

func header(words ...uint32) []byte {
	b := make([]byte, 4*len(words))
	for i, w := range words {
		binary.BigEndian.PutUint32(b[4*i:], w)
	}
	return b
}

func mustRead(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		log.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		log.Fatalf("%s: %v", path, err)
	}
	return b
}

func mustWrite(path string, parts ...[]byte) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range parts {
		zw.Write(p)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

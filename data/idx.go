package data

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// IDX is an MNIST-style dataset read from a pair of IDX files (images with magic
// 0x00000803 and dimensions n×rows×cols, labels with magic 0x00000801 and dimension n),
// held in memory. Its samples are single-channel rows×cols images.
type IDX struct {
	name    string // the images file, for messages
	images  []uint8
	labels  []uint8
	h, w    int
	classes []string
}

// Len returns the number of images.
func (d *IDX) Len() int { return len(d.labels) }

// Classes returns the class names given when the dataset was opened.
func (d *IDX) Classes() []string { return d.classes }

// Get returns image i; its Pix aliases the dataset's memory.
func (d *IDX) Get(i int) (Sample, error) {
	if i < 0 || i >= len(d.labels) {
		return Sample{}, fmt.Errorf("data: %s: index %d out of range [0, %d)", d.name, i, len(d.labels))
	}
	n := d.h * d.w
	return Sample{Pix: d.images[i*n : (i+1)*n : (i+1)*n], H: d.h, W: d.w, C: 1, Label: int(d.labels[i])}, nil
}

// Source names the images file and record number of sample i.
func (d *IDX) Source(i int) string { return fmt.Sprintf("%s[%d]", d.name, i) }

// OpenMNIST opens the MNIST-layout IDX pair of a split in dir: for "train",
// train-images-idx3-ubyte and train-labels-idx1-ubyte, for "test" (or "val") the t10k-
// files; each may instead carry a .gz suffix. classes names the labels (MNISTClasses or
// FashionMNISTClasses); every label must index it.
func OpenMNIST(dir, split string, classes []string) (*IDX, error) {
	train, err := trainOrTest(split)
	if err != nil {
		return nil, err
	}
	prefix := "t10k"
	if train {
		prefix = "train"
	}
	images, err := findFile(dir, prefix+"-images-idx3-ubyte")
	if err != nil {
		return nil, err
	}
	labels, err := findFile(dir, prefix+"-labels-idx1-ubyte")
	if err != nil {
		return nil, err
	}
	return OpenIDX(images, labels, classes)
}

// findFile returns dir/base or dir/base.gz, whichever exists.
func findFile(dir, base string) (string, error) {
	for _, name := range []string{base, base + ".gz"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("data: dataset directory: %w", err)
	}
	return "", fmt.Errorf("data: %s: neither %s nor %s.gz exists", dir, base, base)
}

// OpenIDX reads an images file and a labels file (plain or gzip, told apart by content).
func OpenIDX(imagesPath, labelsPath string, classes []string) (*IDX, error) {
	return openIDX(osFS{}, imagesPath, labelsPath, classes)
}

// OpenIDXFS is OpenIDX reading from a file system, such as an embed.FS.
func OpenIDXFS(fsys fs.FS, imagesName, labelsName string, classes []string) (*IDX, error) {
	return openIDX(fsys, imagesName, labelsName, classes)
}

// osFS opens host paths as given, so that messages show the caller's path.
type osFS struct{}

func (osFS) Open(name string) (fs.File, error) { return os.Open(name) }

func openIDX(fsys fs.FS, imagesName, labelsName string, classes []string) (*IDX, error) {
	idims, images, err := readIDXFile(fsys, imagesName, 3)
	if err != nil {
		return nil, err
	}
	ldims, labels, err := readIDXFile(fsys, labelsName, 1)
	if err != nil {
		return nil, err
	}
	if idims[0] != ldims[0] {
		return nil, fmt.Errorf("data: %s holds %d images but %s holds %d labels", imagesName, idims[0], labelsName, ldims[0])
	}
	if classes != nil {
		for i, l := range labels {
			if int(l) >= len(classes) {
				return nil, fmt.Errorf("data: %s: label %d of sample %d is out of range for %d classes", labelsName, l, i, len(classes))
			}
		}
	}
	return &IDX{name: imagesName, images: images, labels: labels, h: idims[1], w: idims[2], classes: classes}, nil
}

// maxIDXBytes bounds the payload a header may announce (the full MNIST train set is 47 MB).
const maxIDXBytes = 1 << 32

func readIDXFile(fsys fs.FS, name string, ndims int) ([]int, []uint8, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	dims, payload, err := readIDX(f, ndims)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: %w", name, err)
	}
	return dims, payload, nil
}

// readIDX reads an unsigned-byte IDX stream with ndims dimensions, gunzipping it if it
// starts with the gzip magic.
func readIDX(r io.Reader, ndims int) ([]int, []uint8, error) {
	br := bufio.NewReader(r)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("corrupt gzip header: %w", err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	hdr := make([]byte, 4*ndims)
	if _, err := io.ReadFull(r, hdr[:4]); err != nil {
		return nil, nil, fmt.Errorf("truncated IDX header: %w", err)
	}
	magic := binary.BigEndian.Uint32(hdr)
	if want := uint32(0x0800 | ndims); magic != want {
		return nil, nil, fmt.Errorf("bad magic 0x%08x, want 0x%08x (unsigned-byte IDX with %d dimensions)", magic, want, ndims)
	}
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, nil, fmt.Errorf("truncated IDX header: %w", err)
	}
	dims := make([]int, ndims)
	size := uint64(1)
	for i := range dims {
		d := uint64(binary.BigEndian.Uint32(hdr[4*i:]))
		dims[i] = int(d)
		if i > 0 && d == 0 {
			return nil, nil, fmt.Errorf("dimension %d is 0", i)
		}
		if d > maxIDXBytes || size*d > maxIDXBytes { // both ≤ 2³², so the product cannot overflow
			return nil, nil, fmt.Errorf("dimensions %v announce more than %d bytes", dims[:i+1], uint64(maxIDXBytes))
		}
		size *= d
	}
	// ReadAll grows with the data, so a lying header cannot force a huge allocation.
	payload, err := io.ReadAll(io.LimitReader(r, int64(size)+1))
	n := int(size)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, fmt.Errorf("truncated: %d of %d data bytes", len(payload), n)
		}
		return nil, nil, err
	}
	switch {
	case len(payload) < n:
		return nil, nil, fmt.Errorf("truncated: %d of %d data bytes for dimensions %v", len(payload), n, dims)
	case len(payload) > n:
		return nil, nil, fmt.Errorf("trailing bytes after the %d data bytes of dimensions %v", n, dims)
	}
	return dims, payload, nil
}

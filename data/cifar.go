package data

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CIFAR-10 binary record: one label byte, then 32×32 red, green and blue planes.
const (
	cifarSide   = 32
	cifarPixels = 3 * cifarSide * cifarSide
	cifarRecord = 1 + cifarPixels
)

// CIFAR10 is the CIFAR-10 binary dataset held in memory as 32×32×3 HWC images.
type CIFAR10 struct {
	files   []string // batch files in order, for messages
	counts  []int    // records per file
	pix     []uint8
	labels  []uint8
	classes []string
}

// OpenCIFAR10 reads the binary CIFAR-10 batches of a split from dir (or from
// dir/cifar-10-batches-bin, the folder inside the official archive): data_batch_1.bin
// to data_batch_5.bin for "train", test_batch.bin for "test" (or "val"). Class names come
// from batches.meta.txt when present, else CIFAR10Classes.
func OpenCIFAR10(dir, split string) (*CIFAR10, error) {
	train, err := trainOrTest(split)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "cifar-10-batches-bin")); err == nil {
		dir = filepath.Join(dir, "cifar-10-batches-bin")
	}
	names := []string{"test_batch.bin"}
	if train {
		names = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	}
	d := &CIFAR10{}
	if d.classes, err = readCIFARMeta(filepath.Join(dir, "batches.meta.txt")); err != nil {
		return nil, err
	}
	for _, name := range names {
		if err := d.readBatch(filepath.Join(dir, name)); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func readCIFARMeta(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return CIFAR10Classes, nil
	}
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	var classes []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			classes = append(classes, line)
		}
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("data: %s: no class names", path)
	}
	return classes, nil
}

func (d *CIFAR10) readBatch(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	size := st.Size()
	if size == 0 || size%cifarRecord != 0 {
		return fmt.Errorf("data: %s: size %d is not a positive multiple of the %d-byte record (truncated?)", path, size, cifarRecord)
	}
	n := int(size / cifarRecord)
	br := bufio.NewReaderSize(f, 1<<16)
	rec := make([]byte, cifarRecord)
	first := len(d.labels)
	d.pix = append(d.pix, make([]uint8, n*cifarPixels)...)
	for r := 0; r < n; r++ {
		if _, err := io.ReadFull(br, rec); err != nil {
			return fmt.Errorf("data: %s: record %d: %w", path, r, err)
		}
		if int(rec[0]) >= len(d.classes) {
			return fmt.Errorf("data: %s: record %d has label %d, out of range for %d classes", path, r, rec[0], len(d.classes))
		}
		d.labels = append(d.labels, rec[0])
		// Planar CHW on disk to interleaved HWC in memory, once, so Get copies nothing.
		dst := d.pix[(first+r)*cifarPixels:]
		plane := cifarSide * cifarSide
		for p := 0; p < plane; p++ {
			dst[3*p] = rec[1+p]
			dst[3*p+1] = rec[1+plane+p]
			dst[3*p+2] = rec[1+2*plane+p]
		}
	}
	d.files = append(d.files, path)
	d.counts = append(d.counts, n)
	return nil
}

// Len returns the number of images.
func (d *CIFAR10) Len() int { return len(d.labels) }

// Classes returns the class names.
func (d *CIFAR10) Classes() []string { return d.classes }

// Get returns image i as 32×32×3 HWC; its Pix aliases the dataset's memory.
func (d *CIFAR10) Get(i int) (Sample, error) {
	if i < 0 || i >= len(d.labels) {
		return Sample{}, fmt.Errorf("data: CIFAR-10: index %d out of range [0, %d)", i, len(d.labels))
	}
	p := d.pix[i*cifarPixels : (i+1)*cifarPixels : (i+1)*cifarPixels]
	return Sample{Pix: p, H: cifarSide, W: cifarSide, C: 3, Label: int(d.labels[i])}, nil
}

// Source names the batch file and record number of sample i.
func (d *CIFAR10) Source(i int) string {
	for k, n := range d.counts {
		if i < n {
			return fmt.Sprintf("%s[%d]", d.files[k], i)
		}
		i -= n
	}
	return fmt.Sprintf("CIFAR-10[%d]", i)
}

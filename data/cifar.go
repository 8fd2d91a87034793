package data

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// A CIFAR binary record is its label byte(s), then 32×32 red, green and blue planes.
const (
	cifarSide   = 32
	cifarPixels = 3 * cifarSide * cifarSide
)

// CIFAR is a CIFAR-10 or CIFAR-100 binary dataset held in memory as 32×32×3 HWC images.
type CIFAR struct {
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
func OpenCIFAR10(dir, split string) (*CIFAR, error) {
	train, err := trainOrTest(split)
	if err != nil {
		return nil, err
	}
	dir = subdirIfPresent(dir, "cifar-10-batches-bin")
	names := []string{"test_batch.bin"}
	if train {
		names = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	}
	classes, err := readClassNames(filepath.Join(dir, "batches.meta.txt"), CIFAR10Classes)
	if err != nil {
		return nil, err
	}
	return readCIFAR(dir, names, classes, 1, 0)
}

// OpenCIFAR100 reads the binary CIFAR-100 split from dir (or dir/cifar-100-binary):
// train.bin or test.bin (for "test" or "val"), labelled with the 100 fine classes named
// in fine_label_names.txt (or "0" … "99" without it).
func OpenCIFAR100(dir, split string) (*CIFAR, error) {
	train, err := trainOrTest(split)
	if err != nil {
		return nil, err
	}
	dir = subdirIfPresent(dir, "cifar-100-binary")
	name := "test.bin"
	if train {
		name = "train.bin"
	}
	numbered := make([]string, 100)
	for i := range numbered {
		numbered[i] = fmt.Sprint(i)
	}
	classes, err := readClassNames(filepath.Join(dir, "fine_label_names.txt"), numbered)
	if err != nil {
		return nil, err
	}
	// Records start with the coarse label, then the fine one.
	return readCIFAR(dir, []string{name}, classes, 2, 1)
}

func subdirIfPresent(dir, sub string) string {
	if st, err := os.Stat(filepath.Join(dir, sub)); err == nil && st.IsDir() {
		return filepath.Join(dir, sub)
	}
	return dir
}

// readClassNames reads one name a line, or returns def if the file does not exist.
func readClassNames(path string, def []string) ([]string, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return def, nil
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

// readCIFAR reads batch files whose records carry labelBytes label bytes, the label
// being byte labelAt.
func readCIFAR(dir string, names, classes []string, labelBytes, labelAt int) (*CIFAR, error) {
	d := &CIFAR{classes: classes}
	for _, name := range names {
		if err := d.readBatch(filepath.Join(dir, name), labelBytes, labelAt); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *CIFAR) readBatch(path string, labelBytes, labelAt int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	record := int64(labelBytes + cifarPixels)
	size := st.Size()
	if size == 0 || size%record != 0 {
		return fmt.Errorf("data: %s: size %d is not a positive multiple of the %d-byte record (truncated?)", path, size, record)
	}
	n := int(size / record)
	br := bufio.NewReaderSize(f, 1<<16)
	rec := make([]byte, record)
	first := len(d.labels)
	d.pix = append(d.pix, make([]uint8, n*cifarPixels)...)
	const plane = cifarSide * cifarSide
	for r := 0; r < n; r++ {
		if _, err := io.ReadFull(br, rec); err != nil {
			return fmt.Errorf("data: %s: record %d: %w", path, r, err)
		}
		label := rec[labelAt]
		if int(label) >= len(d.classes) {
			return fmt.Errorf("data: %s: record %d has label %d, out of range for %d classes", path, r, label, len(d.classes))
		}
		d.labels = append(d.labels, label)
		// Planar CHW on disk to interleaved HWC in memory, once, so Get copies nothing.
		src := rec[labelBytes:]
		dst := d.pix[(first+r)*cifarPixels:]
		for p := 0; p < plane; p++ {
			dst[3*p] = src[p]
			dst[3*p+1] = src[plane+p]
			dst[3*p+2] = src[2*plane+p]
		}
	}
	d.files = append(d.files, path)
	d.counts = append(d.counts, n)
	return nil
}

// Len returns the number of images.
func (d *CIFAR) Len() int { return len(d.labels) }

// Classes returns the class names.
func (d *CIFAR) Classes() []string { return d.classes }

// Get returns image i as 32×32×3 HWC; its Pix aliases the dataset's memory.
func (d *CIFAR) Get(i int) (Sample, error) {
	if i < 0 || i >= len(d.labels) {
		return Sample{}, fmt.Errorf("data: CIFAR: index %d out of range [0, %d)", i, len(d.labels))
	}
	p := d.pix[i*cifarPixels : (i+1)*cifarPixels : (i+1)*cifarPixels]
	return Sample{Pix: p, H: cifarSide, W: cifarSide, C: 3, Label: int(d.labels[i])}, nil
}

// Source names the batch file and record number of sample i.
func (d *CIFAR) Source(i int) string {
	for k, n := range d.counts {
		if i < n {
			return fmt.Sprintf("%s[%d]", d.files[k], i)
		}
		i -= n
	}
	return fmt.Sprintf("CIFAR[%d]", i)
}

package data

import (
	"fmt"
	"strings"
)

// Sample is one labelled image: Pix holds H×W×C bytes in row-major HWC order (C is 1
// for grey, 3 for RGB). Pix may alias the dataset's memory and must not be modified.
type Sample struct {
	Pix     []uint8
	H, W, C int
	Label   int
}

// Dataset is a random-access collection of labelled images. Get must be safe for
// concurrent use; the Loader calls it from several goroutines.
type Dataset interface {
	// Len returns the number of samples.
	Len() int
	// Get returns sample i, 0 ≤ i < Len(). Errors name the file involved.
	Get(i int) (Sample, error)
	// Classes returns the class names; a label is an index into it.
	Classes() []string
}

// Sourcer is implemented by datasets that can name where sample i comes from (a file
// path, or a file and record number). The Loader uses it in error messages.
type Sourcer interface {
	Source(i int) string
}

// FashionMNISTClasses are the Fashion-MNIST class names in label order.
var FashionMNISTClasses = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// MNISTClasses are the MNIST class names (the digits) in label order.
var MNISTClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// CIFAR10Classes are the CIFAR-10 class names in label order, used when a CIFAR-10
// directory has no batches.meta.txt.
var CIFAR10Classes = []string{
	"airplane", "automobile", "bird", "cat", "deer",
	"dog", "frog", "horse", "ship", "truck",
}

// Open opens a dataset the way MindCV's --dataset, --data_dir and --train_split /
// --val_split flags name it:
//
//	"imagenet" or ""       ImageFolder dir/split/<class>/*.{jpg,jpeg,png}
//	"mnist"                IDX files in dir, split "train" or "test"
//	"fashion_mnist"        IDX files in dir, split "train" or "test"
//	"cifar10"              CIFAR-10 binary batches in dir, split "train" or "test"
//	"cifar100"             CIFAR-100 binary files in dir, split "train" or "test"
//
// For the IDX and CIFAR formats the split "val" means "test", since those datasets ship
// no separate validation set and MindCV's default --val_split is "val".
func Open(name, dir, split string) (Dataset, error) {
	switch strings.ToLower(name) {
	case "", "imagenet":
		return OpenImageFolder(dir, split)
	case "mnist":
		return OpenMNIST(dir, split, MNISTClasses)
	case "fashion_mnist", "fashionmnist", "fashion-mnist":
		return OpenMNIST(dir, split, FashionMNISTClasses)
	case "cifar10":
		return OpenCIFAR10(dir, split)
	case "cifar100":
		return OpenCIFAR100(dir, split)
	}
	return nil, fmt.Errorf("data: unknown dataset %q (want imagenet, mnist, fashion_mnist, cifar10 or cifar100)", name)
}

// trainOrTest maps a split name onto the two splits of IDX and CIFAR datasets.
func trainOrTest(split string) (train bool, err error) {
	switch strings.ToLower(split) {
	case "train":
		return true, nil
	case "test", "val", "t10k":
		return false, nil
	}
	return false, fmt.Errorf("data: unknown split %q (want train or test)", split)
}

// Subset returns the samples of ds at indices, in that order: for MindCV's
// --num_samples, quick runs on part of a dataset, or hand-made splits.
func Subset(ds Dataset, indices []int) (Dataset, error) {
	for k, i := range indices {
		if i < 0 || i >= ds.Len() {
			return nil, fmt.Errorf("data: Subset index %d (position %d) out of range [0, %d)", i, k, ds.Len())
		}
	}
	return &subset{ds: ds, idx: append([]int(nil), indices...)}, nil
}

type subset struct {
	ds  Dataset
	idx []int
}

func (s *subset) Len() int          { return len(s.idx) }
func (s *subset) Classes() []string { return s.ds.Classes() }

func (s *subset) Get(i int) (Sample, error) {
	if i < 0 || i >= len(s.idx) {
		return Sample{}, fmt.Errorf("data: Subset: index %d out of range [0, %d)", i, len(s.idx))
	}
	return s.ds.Get(s.idx[i])
}

func (s *subset) Source(i int) string {
	if i < 0 || i >= len(s.idx) {
		return fmt.Sprintf("subset[%d]", i)
	}
	return source(s.ds, s.idx[i])
}

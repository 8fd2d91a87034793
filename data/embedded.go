package data

import (
	"embed"
)

//go:embed fashionmnist/*.gz
var fashionFS embed.FS

// EmbeddedFashionMNIST returns the Fashion-MNIST subset compiled into the package:
// "train" has 6,000 images (the first 600 of each class), "test" (or "val") 1,000 (the
// first 100 of each class), 28×28 grey, labelled with FashionMNISTClasses. See
// data/fashionmnist/README.md for the source and licence (MIT, © Zalando SE).
func EmbeddedFashionMNIST(split string) (*IDX, error) {
	train, err := trainOrTest(split)
	if err != nil {
		return nil, err
	}
	prefix := "fashionmnist/t10k"
	if train {
		prefix = "fashionmnist/train"
	}
	return OpenIDXFS(fashionFS, prefix+"-images-idx3-ubyte.gz", prefix+"-labels-idx1-ubyte.gz", FashionMNISTClasses)
}

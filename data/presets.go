package data

// Per-channel statistics on the 0–1 scale.
var (
	ImageNetMean     = []float32{0.485, 0.456, 0.406}
	ImageNetStd      = []float32{0.229, 0.224, 0.225}
	CIFAR10Mean      = []float32{0.4914, 0.4822, 0.4465} // of the training set
	CIFAR10Std       = []float32{0.2470, 0.2435, 0.2616}
	FashionMNISTMean = []float32{0.2860} // of the full 60,000-image training set
	FashionMNISTStd  = []float32{0.3530}
	MNISTMean        = []float32{0.1307}
	MNISTStd         = []float32{0.3081}
)

// ImageNetTrain is MindCV's ImageNet training pipeline (configs/vgg/*.yaml):
// RandomResizedCrop(size, scale 0.08–1, ratio 3/4–4/3, bilinear), horizontal flip with
// probability 0.5, ColorJitter(0.4, 0.4, 0.4), Normalize(ImageNet mean·255, std·255).
func ImageNetTrain(size int) Compose {
	return Compose{
		NewRandomResizedCrop(size),
		RandomHorizontalFlip{P: 0.5},
		ColorJitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4},
		NewNormalize(ImageNetMean, ImageNetStd),
	}
}

// ImageNetEval is MindCV's evaluation pipeline at crop_pct 0.875: Resize of the short
// side to floor(size/0.875) (256 for 224) with plain bilinear interpolation (MindSpore's
// OpenCV resize does not antialias), CenterCrop(size), Normalize(ImageNet).
func ImageNetEval(size int) Compose { return imageNetEval(size, Bilinear) }

// ImageNetEvalPIL is torchvision's evaluation preset as applied to PIL images, the way
// torchvision's reference accuracies were measured: as ImageNetEval, but resizing with
// PIL's antialiased bilinear filter.
func ImageNetEvalPIL(size int) Compose { return imageNetEval(size, BilinearAntialias) }

func imageNetEval(size int, interp Interpolation) Compose {
	return Compose{
		&Resize{Short: size * 8 / 7, Interp: interp}, // floor(size/0.875) without float error
		CenterCrop{Height: size, Width: size},
		NewNormalize(ImageNetMean, ImageNetStd),
	}
}

// CIFAR10Train is the usual small-image augmentation: RandomCrop(32, padding 4),
// horizontal flip with probability 0.5, Normalize(CIFAR-10 statistics).
func CIFAR10Train() Compose {
	return Compose{
		RandomCrop{Height: 32, Width: 32, Padding: 4},
		RandomHorizontalFlip{P: 0.5},
		NewNormalize(CIFAR10Mean, CIFAR10Std),
	}
}

// CIFAR10Eval normalizes with the CIFAR-10 statistics.
func CIFAR10Eval() Compose {
	return Compose{NewNormalize(CIFAR10Mean, CIFAR10Std)}
}

// To32 brings a 28×28 image (MNIST, Fashion-MNIST) to the 32×32 a small VGG expects:
// by resizing (bilinear) when resize is true, else by padding 2 zero pixels on each side,
// which keeps every original pixel.
func To32(resize bool) Transform {
	if resize {
		return &Resize{Height: 32, Width: 32}
	}
	return Pad{N: 2}
}

// FashionMNISTTrain is the small-image pipeline for Fashion-MNIST into a 32×32 network:
// To32(resize), RandomCrop(32, padding 4), horizontal flip, Normalize(Fashion-MNIST). The
// output has one channel; append GrayToRGB for a 3-channel model.
func FashionMNISTTrain(resize bool) Compose {
	return Compose{
		To32(resize),
		RandomCrop{Height: 32, Width: 32, Padding: 4},
		RandomHorizontalFlip{P: 0.5},
		NewNormalize(FashionMNISTMean, FashionMNISTStd),
	}
}

// FashionMNISTEval is To32(resize) and Normalize(Fashion-MNIST).
func FashionMNISTEval(resize bool) Compose {
	return Compose{To32(resize), NewNormalize(FashionMNISTMean, FashionMNISTStd)}
}

// Package data reads image-classification datasets and turns them into training batches.
//
// Three dataset formats are read, each behind the small [Dataset] interface:
//
//   - IDX (MNIST, Fashion-MNIST): the four files train-images-idx3-ubyte,
//     train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, plain or gzip;
//   - CIFAR-10 binary: data_batch_1.bin … data_batch_5.bin, test_batch.bin, batches.meta.txt
//     (and CIFAR-100 binary: train.bin, test.bin, fine_label_names.txt);
//   - ImageFolder: root/<split>/<class>/*.{jpg,jpeg,png}, classes sorted by name, images
//     decoded lazily (the layout MindCV and torchvision use for ImageNet).
//
// [Open] maps MindCV's --dataset names onto them, and [EmbeddedFashionMNIST] returns a
// 6,000 + 1,000 image subset of Fashion-MNIST compiled into the package, so that examples
// and smoke tests need no download. [Subset] selects samples of any dataset.
//
// Transforms work on an [Image]: float32 pixels, height × width × channels, on the 0–255
// scale. They follow torchvision's algorithms (RandomResizedCrop's ten attempts and centre
// fallback, ColorJitter's random order, Resize of the short side, CenterCrop's rounding) and
// draw every random number from the *rand.Rand handed to them, so a pipeline is a pure
// function of (seed, epoch, sample index). Bilinear resizing is torchvision's tensor
// bilinear with align_corners=False, without antialias by default, which is also what
// OpenCV's INTER_LINEAR (MindSpore's Resize) computes, up to OpenCV's fixed-point
// rounding on bytes; [BilinearAntialias] gives PIL's triangle filter (torchvision
// antialias=True). The presets follow MindCV ([ImageNetTrain], [ImageNetEval]) or
// torchvision on PIL images ([ImageNetEvalPIL]). Intermediate values are not rounded to
// uint8 as PIL would. JPEGs are decoded with Go's image/jpeg, with chroma upsampling and
// colour conversion redone as libjpeg does them, so pixels land within a few levels of
// PIL's decoding (0.04 levels on average on the test images).
//
// A [Loader] batches a dataset into a reusable N×C×H×W float32 tensor with parallel decode
// workers, bounded prefetch, shuffling that depends only on (seed, epoch), sharding by
// (rank, size) for data-parallel training, and resumption at (epoch, step).
package data

package weights_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/govgg/govgg/tensor"
	"github.com/govgg/govgg/weights"
)

func Example() {
	dir, _ := os.MkdirTemp("", "weights")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tiny.safetensors")

	w, _ := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	b, _ := tensor.FromSlice([]float32{0.5, -0.5}, 2)
	ts := []weights.Named{{Name: "classifier.0.weight", Tensor: w}, {Name: "classifier.0.bias", Tensor: b}}
	if err := weights.Save(path, ts, weights.Safetensors); err != nil {
		fmt.Println(err)
		return
	}

	loaded, format, err := weights.Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(format)
	for _, t := range loaded {
		fmt.Println(t.Name, t.Tensor.Shape(), t.Tensor.Data())
	}
	// Output:
	// safetensors
	// classifier.0.weight [2 3] [1 2 3 4 5 6]
	// classifier.0.bias [2] [0.5 -0.5]
}

func ExampleAssign() {
	model := []weights.Named{
		{Name: "features.0.weight", Tensor: tensor.New(4, 3, 3, 3)},
		{Name: "features.0.bias", Tensor: tensor.New(4)},
		{Name: "classifier.6.weight", Tensor: tensor.New(10, 16)},
	}
	file := []weights.Named{
		{Name: "features.0.weight", Tensor: tensor.New(4, 3, 3, 3)},
		{Name: "classifier.6.weight", Tensor: tensor.New(1000, 16)},
		{Name: "classifier.6.bias", Tensor: tensor.New(1000)},
	}
	_, err := weights.Assign(model, file)
	fmt.Println(err)

	// A 10-class head keeps its own initialisation, as MindCV's load_pretrained does.
	report, err := weights.Assign(model, file, weights.SkipPrefix("classifier.6."), weights.NonStrict())
	fmt.Println(err, report.Loaded, report.Missing, report.Skipped)
	// Output:
	// weights: cannot load the model's tensors:
	//   1 missing from the file: features.0.bias [4];
	//   1 unexpected in the file: classifier.6.bias [1000];
	//   1 with a different shape: classifier.6.weight: model [10 16], file [1000 16];
	// <nil> [features.0.weight] [features.0.bias] [classifier.6.weight classifier.6.bias]
}

func ExampleMindCVToTorchvision() {
	for _, n := range []string{"features.0.weight", "features.1.gamma", "features.1.moving_variance", "classifier.6.bias"} {
		fmt.Println(n, "->", weights.MindCVToTorchvision(n))
	}
	// Output:
	// features.0.weight -> features.0.weight
	// features.1.gamma -> features.1.weight
	// features.1.moving_variance -> features.1.running_var
	// classifier.6.bias -> classifier.6.bias
}

func ExampleTorchvisionToMindCV() {
	names := []string{"features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
		"features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked"}
	toMindCV := weights.TorchvisionToMindCV(names)
	for _, n := range names {
		fmt.Printf("%s -> %q\n", n, toMindCV(n))
	}
	// Output:
	// features.0.weight -> "features.0.weight"
	// features.0.bias -> "features.0.bias"
	// features.1.weight -> "features.1.gamma"
	// features.1.bias -> "features.1.beta"
	// features.1.running_mean -> "features.1.moving_mean"
	// features.1.running_var -> "features.1.moving_variance"
	// features.1.num_batches_tracked -> ""
}

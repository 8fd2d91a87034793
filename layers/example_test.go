package layers_test

import (
	"fmt"

	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/tensor"
)

// One training step of a linear classifier: forward, label-smoothed cross-entropy,
// backward. PyTorch's F.cross_entropy(z, 0, label_smoothing=0.1) gives the same
// loss and gradient.
func ExampleCrossEntropy() {
	fc := layers.NewLinear(2, 3, true)
	copy(fc.Params()[0].Value.Data(), []float32{1, 0, 0, 1, -1, -1}) // weight 3×2
	fc.Params()[1].Value.Zero()                                      // bias

	x, _ := tensor.FromSlice([]float32{2, 1}, 1, 2)
	logits, _ := fc.Forward(x)
	ce, _ := layers.NewCrossEntropy(0.1)
	loss, dlogits, _ := ce.Forward(logits, []int{0})
	if _, err := fc.Backward(dlogits); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("logits %v loss %.4f\n", logits.Data(), loss)
	fmt.Printf("dL/dlogits %.4f\n", dlogits.Data())
	fmt.Printf("dL/dweight %.4f\n", fc.Params()[0].Grad.Data())
	// Output:
	// logits [2 1 -3] loss 0.5182
	// dL/dlogits [-0.2059 0.2343 -0.0284]
	// dL/dweight [-0.4117 -0.2059 0.4686 0.2343 -0.0569 -0.0284]
}

// Max pooling keeps, per output, the index of the input it chose; a NaN in a
// window wins, as in PyTorch.
func ExampleMaxPool2d() {
	x, _ := tensor.FromSlice([]float32{
		1, 5, 2, 0,
		3, 4, 7, 6,
	}, 1, 1, 2, 4)
	pool := layers.NewMaxPool2d(2, 2)
	y, _ := pool.Forward(x)
	fmt.Println(y.Shape(), y.Data())
	dy, _ := tensor.FromSlice([]float32{10, 20}, 1, 1, 1, 2)
	dx, _ := pool.Backward(dy)
	fmt.Println(dx.Data())
	// Output:
	// [1 1 1 2] [5 7]
	// [0 10 0 0 0 0 20 0]
}

// Reading a network's output on the host: with a backend that keeps activations
// on a device (npu under -tags ascend) ToHost copies it back first; on the CPU it
// does nothing.
func ExampleToHost() {
	net := layers.NewSequential(layers.NewLinear(2, 2, false), layers.NewReLU())
	copy(net.Params()[0].Value.Data(), []float32{1, 2, -1, 0}) // weight 2×2
	net.ParamsChanged()
	x, _ := tensor.FromSlice([]float32{1, 1}, 1, 2)
	y, _ := net.Forward(x)
	if err := layers.ToHost(net, y); err != nil {
		fmt.Println(err)
	}
	fmt.Println(y.Data())
	// Output:
	// [3 0]
}

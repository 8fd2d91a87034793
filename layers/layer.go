package layers

import "github.com/govgg/govgg/tensor"

// Param is one named tensor of a layer: a learnable parameter with its gradient, or a
// buffer such as BatchNorm's running mean (Grad nil). Name is the last component of
// the torchvision state-dict key ("weight", "bias", "running_mean", …); containers
// prefix it with the layer's index ("features.0.weight").
type Param struct {
	Name  string
	Value *tensor.Tensor
	Grad  *tensor.Tensor
}

// Layer is one stage of a network.
//
// Forward returns the layer's output for x. The output tensor belongs to the layer and
// stays valid until the next Forward; layers keep it (and any scratch) between calls,
// so a steady state allocates nothing. In training mode Forward also keeps what
// Backward needs; Backward may read the input x of the last Forward, so the caller
// must not modify x in between.
//
// Backward takes dL/dy for the last Forward and returns dL/dx (owned by the layer).
// It overwrites (does not accumulate) the gradients of the layer's parameters. A layer
// told not to compute its input gradient (see InputGradSetter) returns a nil tensor.
type Layer interface {
	Forward(x *tensor.Tensor) (*tensor.Tensor, error)
	Backward(dy *tensor.Tensor) (*tensor.Tensor, error)
	// Params returns the learnable parameters, in state-dict order.
	Params() []*Param
	// Buffers returns the non-learnable state (BatchNorm running statistics).
	Buffers() []*Param
	// SetTraining switches between training (batch statistics, dropout) and
	// evaluation behaviour.
	SetTraining(training bool)
	// OutShape returns the output shape for an input shape, or an error naming
	// what does not fit.
	OutShape(in []int) ([]int, error)
	// ParamsChanged tells the layer that the values of its parameters or buffers
	// were written from outside (a loader, an optimizer step, an EMA swap), so a
	// layer that keeps its weights in another form (Conv2d's packed or
	// Winograd-transformed plan) refreshes that form before the next Forward. It is
	// a no-op for most layers; Sequential passes it to every child.
	ParamsChanged()
}

// InputGradSetter is implemented by layers that can skip computing dL/dx, which the
// first layer of a network never needs (Conv2d on the image saves a whole
// backward-data convolution). Sequential passes the call to its first child.
type InputGradSetter interface {
	SetNeedInputGrad(need bool)
}

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
// Backward needs.
//
// Backward takes dL/dy for the last Forward and returns dL/dx (owned by the layer).
// It overwrites (does not accumulate) the gradients of the layer's parameters.
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
}

// Package layers implements govgg's network layers with forward and backward passes:
// Conv2d, BatchNorm2d, ReLU, MaxPool2d, AdaptiveAvgPool2d, Flatten, Linear, Dropout,
// Softmax and Sequential, and the softmax cross-entropy loss with label smoothing.
// Parameter names follow torchvision's state-dict keys so that a torchvision
// checkpoint loads by name, and the semantics follow PyTorch's (checked against
// PyTorch autograd fixtures in testdata).
//
// # Buffers and allocation
//
// Every layer keeps its output, its input gradient and its scratch between calls, so a
// warm forward or training step allocates nothing. A returned tensor belongs to the
// layer and is valid until its next Forward (or Backward). A layer is not safe for
// concurrent use; give each goroutine its own network. Layers in an identity mode
// (Dropout in evaluation, AdaptiveAvgPool2d when the size already matches, ReLU in
// place) return their input itself.
//
// # Fusion and in-place ReLU
//
// A Sequential runs a ReLU that follows a Conv2d, BatchNorm2d or Linear in place,
// applies a ReLU right after a Conv2d inside the convolution, and in evaluation
// mode folds a BatchNorm2d that follows a Conv2d into the conv's weights (fusing
// the ReLU after it as well). Backward, a ReLU followed by a Conv2d or MaxPool2d
// leaves its gradient to that layer, which masks its input gradient as it writes
// it (bit for bit the unfused result). See Sequential; SetFusion(false) turns all
// of it off.
//
// # Parameters that change from outside
//
// Conv2d keeps its weights in its conv plan's form (packed, Winograd-transformed). It
// re-sends them after every Backward, since an optimizer step follows; whoever else
// writes parameter values (a loader, an EMA swap) calls ParamsChanged on the layer or
// on the Sequential that holds it.
//
// # Backends
//
// Layers keep shapes, buffers and parameters and delegate the arithmetic to a
// Backend. The CPU backend (asm kernels, conv plans, SGEMM) is the default and
// implements everything. Another backend (the Ascend one in package npu, under
// -tags ascend) implements the operation groups it accelerates — ConvBackend,
// GemmBackend, ActivationBackend, PoolBackend, BatchNormBackend, SoftmaxBackend,
// DropoutBackend, LinearBackend — and the layers use the CPU for the others. It
// registers itself with RegisterBackend; UseBackend(name), GOVGG_BACKEND=name, or
// SetBackend on a layer or Sequential select it.
//
// A backend that keeps data in memory of its own (the Ascend one keeps activations
// and gradients on the NPU between layers) implements HostSync: the layers call
// ToHost before their host code reads a buffer that a backend operation may have
// written (parameter gradients after Backward, batch-norm statistics) and
// HostWrote after the host wrote one that an operation reads (parameters after an
// optimizer step or ParamsChanged). Code outside the layers that reads a layer's
// output calls the package function ToHost first; vgg.Model.Forward does so for
// the logits.
package layers

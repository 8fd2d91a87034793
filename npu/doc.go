// Package npu runs govgg's layers on Huawei Ascend NPUs through AscendCL and the
// two-phase aclnn operator API of CANN 8.0.0.
//
// # Builds
//
// The default build is pure Go (CGO_ENABLED=0 works): Available reports false and
// New and Use return ErrNotBuilt, whose message says to rebuild with -tags ascend
// and where CANN must be. With -tags ascend the package binds AscendCL with cgo
// through a header the project owns (internal/cann/cann_decls.h, pinned to CANN
// 8.0.0) and registers the backend with package layers under the name "ascend".
// The extra tag ascendstub links C stubs instead of CANN (stub_ascend.c), so
//
//	go vet -tags ascend ./...
//	go build -tags ascend ./...
//	go test -tags ascend,ascendstub ./npu/...
//
// pass on a machine without CANN (a library package is compiled but not linked,
// so -lascendcl is needed only to link a program or a test binary).
//
// # Selecting the backend
//
// GOVGG_BACKEND=ascend, or Use(options…), makes the registered backend the default
// of every layer; New(options…) makes an independent one for a model's SetBackend.
// The device is WithDevice's, else the MPI local rank (OMPI_COMM_WORLD_LOCAL_RANK),
// else 0.
//
// # What runs where
//
// On the NPU: convolution forward (aclnnConvolution, plus aclnnInplaceRelu when the
// layer fuses its ReLU) and both backward passes (aclnnConvolutionBackward), matrix
// products (aclnnMm, aclnnInplaceAddmm; transposes and leading dimensions are
// strides), ReLU and its gradient (aclnnRelu, aclnnInplaceRelu,
// aclnnThresholdBackward), max pooling with int32 indices and its gradient
// (aclnnMaxPool2dWithIndices, …Backward), batch norm in training mode and its
// gradient (aclnnBatchNorm, aclnnBatchNormBackward), the evaluation-mode channel
// affine (aclnnMul, aclnnInplaceAdd), softmax and its gradient, and dropout's
// multiply (aclnnMul; the mask is drawn on the host with the CPU backend's hash,
// so both backends drop the same elements), Linear's bias and its gradient
// (aclnnInplaceAdd, aclnnReduceSum), and softmax cross-entropy with label
// smoothing and its gradient (aclnnCrossEntropyLoss, aclnnCrossEntropyLossGrad).
// On the CPU: cross-entropy with probability targets (mixup, cutmix; aclnn takes
// class indices only), batch norm's running-statistics update, AdaptiveAvgPool2d
// and the optimizer. An operator that rejects its arguments in phase 1 (a shape or type the
// device does not support) runs on the CPU instead, with one log line per operator
// and reason (WithLogger).
//
// Each operator's executor is built once, marked repeatable
// (aclSetAclOpExecutorRepeatable) and cached under its operator, shapes, strides,
// types, formats, device addresses and scalars, which in a steady state means one
// executor per layer and direction; all share one workspace on one stream.
//
// # Device residency
//
// Layers call a backend with host []float32 slices; the backend keeps a device
// mirror per host buffer (keyed by first element and length), and data stays on
// the device between layers. The contract is layers.HostSync, which this backend
// implements:
//
//   - The output of an NPU operation stays on the device. Its host copy is stale
//     (in tests with the ascendstub tag it can be filled with NaN) until ToHost
//     copies it back. Layers call ToHost where their own host code reads one:
//     parameter gradients at the end of Backward (an optimizer reads them), batch
//     norm's batch statistics (the running update), AdaptiveAvgPool2d's input and
//     gradient; vgg.Model.Forward brings the logits back (layers.ToHost). Other
//     code that reads a layer's output or gradient calls ToHost first.
//   - A buffer an NPU operation wrote, or one named in HostWrote or Freeze, is
//     tracked: the host promises to announce each write to it with HostWrote, so
//     its device copy is used until then and uploaded once after. Layers
//     announce their parameters before the first Forward, after every Backward
//     (an optimizer step follows; Conv2d re-sends its weights through
//     SetWeights then) and after ParamsChanged, and batch norm's
//     evaluation-mode statistics when they compute them.
//   - Any other buffer (the image, labels, anything the caller owns) is
//     uploaded on every operation that reads it, except the input of a
//     convolution or Linear forward pass, which its backward pass reads again
//     without an upload: the layers' contract says the caller leaves it alone
//     in between.
//   - A host write must cover the whole buffer named in HostWrote; to change
//     part of a device-newer buffer, ToHost it first. Mirrors of overlapping host
//     ranges are kept coherent (an operation reading one copies the other's newer
//     data through the host).
//   - An operation that falls back to the CPU first copies every device-newer
//     mirror back, then announces its outputs.
//   - Invalidate makes every host copy authoritative (device results not yet
//     copied back are dropped); Freeze uploads buffers now and tracks them.
//   - A mirror keeps its host buffer alive, so the address cannot be reused by
//     another allocation while it is mirrored. At most 16 mirrors of untracked
//     buffers are kept (the least recently used goes first), so new buffers on
//     every call do not accumulate. WithMemoryLimit frees the least recently used
//     mirrors, copying device-newer ones back first.
//   - Operations are queued on the stream without waiting; a copy waits for the
//     queued operations first. An execution error on the device therefore
//     surfaces at the next copy (or Close), not at the operation's call.
//
// So the copies of a warm inference forward are the image up and the logits
// down. A warm training step with the optimizer on the host also moves, up, the
// labels, every parameter (changed by the optimizer) and the dropout masks (drawn
// on the host with the CPU backend's hash), and, down, the loss (4 bytes), every
// parameter gradient and each batch norm's batch mean and 1/std: for VGG-16 at
// batch 32 that is the 553 MB of parameters each way per step, where ≈2 GB of
// activations were copied back per forward before. The ascendstub tests count
// these copies exactly (vgg_ascend_test.go).
//
// # Numbers
//
// Convolutions and matrix products use cubeMathType AllowDownPrecision by default
// (WithCubeMath): on Atlas A2/A3 float32 convolution runs in HF32 or FP16, so expect
// relative differences from the CPU backend around 1e-3 (HF32) to 1e-2 (FP16)
// rather than float32's 1e-6. aclnnMaxPool2dWithIndices does not accept NaN or −Inf
// inputs on Atlas A2/A3.
package npu

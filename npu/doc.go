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
// so both backends drop the same elements). On the CPU: softmax cross-entropy (an
// N×classes array whose gradient Linear reads on the host anyway), Linear's bias
// gradient, batch norm's running-statistics update, AdaptiveAvgPool2d and the
// optimizer. An operator that rejects its arguments in phase 1 (a shape or type the
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
// Layers call a backend with host []float32 slices. The backend keeps a device
// mirror per host buffer (keyed by first element and length) and these rules:
//
//   - Outputs are written through: after each operation the stream is synchronized
//     and every output is copied back to its host buffer, so the host is never
//     stale and any CPU code (a layer's own host arithmetic, the loss, the user)
//     may read any buffer at any time. The mirror is then marked device-authored.
//   - An input whose mirror is device-authored is used without an upload: the
//     activations and gradients that one layer hands to the next chain on the
//     device. Every other input is uploaded on every use: the image, parameters
//     (an optimizer changes them on the host; Conv2d's weights are uploaded only
//     when the layer re-sends them), and a GEMM's C when beta ≠ 0 (Linear writes
//     its bias into it on the host).
//   - A write to a buffer by the CPU path of this backend, or by an NPU operation
//     to an overlapping buffer, clears the device-authored mark of every mirror it
//     overlaps.
//   - Freeze(bufs…) uploads buffers that will not change (the parameters, for
//     inference) and marks their mirrors current, so they go up once; after
//     changing one, call Invalidate.
//   - A mirror keeps its host buffer alive, so the address cannot be reused by
//     another allocation while it is mirrored; WithMemoryLimit frees the least
//     recently used mirrors (always safe, the host copy is current).
//
// The rules rest on one assumption the backend cannot check: nothing but this
// backend writes into a buffer an NPU operation produced (a layer's output or
// gradient) while it stays mirrored. The layers honour it (layer outputs belong to
// the layer); code that writes into such a buffer, or switches single layers
// between backends, calls Invalidate. So the steady-state copies are the image
// and the parameters up, and every output down: more than the ideal (input up,
// logits down), because the layer interface passes host slices and does not say
// when the CPU will read one. See the README section "Running on Ascend".
//
// # Numbers
//
// Convolutions and matrix products use cubeMathType AllowDownPrecision by default
// (WithCubeMath): on Atlas A2/A3 float32 convolution runs in HF32 or FP16, so expect
// relative differences from the CPU backend around 1e-3 (HF32) to 1e-2 (FP16)
// rather than float32's 1e-6. aclnnMaxPool2dWithIndices does not accept NaN or −Inf
// inputs on Atlas A2/A3.
package npu

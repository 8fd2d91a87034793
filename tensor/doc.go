// Package tensor holds govgg's Tensor type: a shape, a layout and 64-byte-aligned
// float32 storage, plus a Workspace that hands out reusable scratch buffers so that a
// steady-state forward or training step allocates nothing.
//
// Public tensors are NCHW (batch, channels, height, width), the layout of torchvision
// state dicts and PyTorch fixtures. Kernels may use the blocked NCHWc16 layout internally;
// Layout records which one a tensor holds.
//
// tensor is the ground floor of govgg: it imports only the standard library and does no
// math beyond trivial helpers.
package tensor

package layers

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/govgg/govgg/conv"
	"github.com/govgg/govgg/tensor"
)

// Backend computes the heavy operations that layers delegate: convolution, matrix
// products, activations, pooling, batch norm, softmax / cross-entropy and dropout.
// Layers keep shapes, buffers and parameters; a backend only computes on flat
// float32 slices in NCHW order.
//
// The operations come in groups, one optional interface each (ConvBackend,
// GemmBackend, LinearBackend, ActivationBackend, PoolBackend, BatchNormBackend,
// SoftmaxBackend, DropoutBackend). A backend implements the groups it
// accelerates; for every other group the layers use the CPU backend (Linear
// layers use the backend's GemmBackend when it lacks LinearBackend). Inside a
// group it implements, a backend may still hand individual calls (a shape it does
// not support) to CPU(), which implements every group. A backend that keeps data
// in memory of its own also implements HostSync. Its ConvOps may implement
// MaskedConvOp and it may implement MaskedPoolBackend, which fold a ReLU's
// backward pass into the next layer's.
//
// Selecting a backend: the CPU backend is the default. Another backend (the Ascend
// one in package npu, built with -tags ascend) registers itself under a name with
// RegisterBackend from its init function; UseBackend(name) or the environment
// variable GOVGG_BACKEND=name (read on first use) makes it the default for every
// layer, and a layer's or Sequential's SetBackend overrides it for that subtree.
type Backend interface {
	// Name identifies the backend ("cpu", "ascend").
	Name() string
}

// ConvBackend makes convolutions for a fixed geometry.
type ConvBackend interface {
	// NewConv returns a convolution of geometry g. opts are the conv package's
	// options (algorithm choice and the like); a backend may ignore those it does
	// not understand.
	NewConv(g conv.Geometry, opts ...conv.Option) (ConvOp, error)
}

// ConvOp is a convolution of fixed geometry with weights kept in the backend's form
// (a *conv.Plan on the CPU). x is N×C×H×W, w K×C×R×S, y N×K×OH×OW.
type ConvOp interface {
	// SetWeights takes new weights (K×C×R×S) and bias (K, or nil).
	SetWeights(w, bias []float32) error
	Forward(y, x []float32, n int) error
	// BackwardData computes dx from dy with the weights last set.
	BackwardData(dx, dy []float32, n int) error
	// BackwardFilter overwrites dw (and db when non-nil) with the gradients.
	BackwardFilter(dw, db, x, dy []float32, n int) error
}

// MaskedConvOp is implemented by a ConvOp that can apply, as it writes dx, the
// gradient of a ReLU whose output is the convolution's input (a *conv.Plan does).
// A Sequential holding ReLU → Conv2d then skips the ReLU's own backward pass; with
// an op that lacks it, the ReLU computes its gradient itself.
type MaskedConvOp interface {
	// BackwardDataMasked is BackwardData followed by the ReLU's backward pass, bit
	// for bit: dx where mask > 0 or is NaN, else 0, with mask the ReLU's output
	// (the convolution's forward input x, N×C×H×W).
	BackwardDataMasked(dx, dy, mask []float32, n int) error
}

// GemmBackend computes matrix products (Linear layers).
type GemmBackend interface {
	// Sgemm has the semantics of asm.Sgemm: C = alpha·op(A)·op(B) + beta·C, row-major.
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error
}

// ActivationBackend computes ReLU and its gradient.
type ActivationBackend interface {
	// ReLU sets y = max(x, 0) elementwise, NaN kept; y may be x.
	ReLU(y, x []float32) error
	// ReLUBackward sets dx = dy where y > 0 (or NaN), else 0, from the output y.
	ReLUBackward(dx, dy, y []float32) error
}

// PoolShape is the geometry of a max pooling: N×C planes of H×W, a square window of
// Kernel with Stride, no padding, floor mode.
type PoolShape struct {
	N, C, H, W     int
	Kernel, Stride int
}

// OutH returns the output height.
func (s PoolShape) OutH() int { return (s.H-s.Kernel)/s.Stride + 1 }

// OutW returns the output width.
func (s PoolShape) OutW() int { return (s.W-s.Kernel)/s.Stride + 1 }

// PoolBackend computes max pooling.
type PoolBackend interface {
	// MaxPool2d writes y (N×C×OH×OW) and, per output, the index within its input
	// plane (row·W + col) of the chosen element, PyTorch's convention.
	MaxPool2d(y []float32, idx []int32, x []float32, s PoolShape) error
	// MaxPool2dBackward overwrites dx (N×C×H×W) with dy routed through idx.
	MaxPool2dBackward(dx []float32, idx []int32, dy []float32, s PoolShape) error
}

// MaskedPoolBackend is implemented by a PoolBackend that can apply the gradient
// of a ReLU before the pool in the pool's backward pass (the CPU does). As with
// MaskedConvOp, a Sequential holding ReLU → MaxPool2d then skips the ReLU's pass.
type MaskedPoolBackend interface {
	// MaxPool2dBackwardMasked is MaxPool2dBackward with dy[o] taken as 0 where
	// y[o], the pool's forward output (the chosen input, which the ReLU wrote),
	// is ≤ 0: bit for bit MaxPool2dBackward followed by the ReLU's backward pass.
	MaxPool2dBackwardMasked(dx []float32, idx []int32, dy, y []float32, s PoolShape) error
}

// BatchNormBackend computes 2-D batch normalization over N×C×HW tensors.
type BatchNormBackend interface {
	// BatchNormTrain normalizes x with its own per-channel statistics: it writes
	// the batch mean and 1/sqrt(biased var + eps) into mean and invStd, and
	// y = (x − mean)·invStd·gamma + beta. It returns the biased variances in
	// variance (for the running update).
	BatchNormTrain(y, mean, invStd, variance, x, gamma, beta []float32, n, c, hw int, eps float32) error
	// ChannelAffine sets y = (x − mean[c])·scale[c] + shift[c] per channel: the
	// evaluation pass, with scale = γ/√(running var + eps), shift = β.
	ChannelAffine(y, x, mean, scale, shift []float32, n, c, hw int) error
	// BatchNormBackward writes dgamma and dbeta and, when dx is non-nil, dx. With
	// batchStats it differentiates through the batch mean and variance (training
	// mode); otherwise mean and invStd are treated as constants (evaluation mode).
	BatchNormBackward(dx, dgamma, dbeta, dy, x, gamma, mean, invStd []float32, n, c, hw int, batchStats bool) error
}

// SoftmaxBackend computes softmax over dimension 1 and softmax cross-entropy.
type SoftmaxBackend interface {
	// Softmax computes y = softmax(x) over the middle axis of an outer×c×inner
	// array; y may be x.
	Softmax(y, x []float32, outer, c, inner int) error
	// SoftmaxBackward computes dx = y·(dy − Σ_c dy·y).
	SoftmaxBackward(dx, dy, y []float32, outer, c, inner int) error
	// SoftmaxCrossEntropy returns the mean over rows of −Σ_c q·log softmax(logits)
	// with q = (1−smoothing)·target + smoothing/classes, where the target is
	// one-hot labels (labels non-nil) or the rows×classes probabilities soft, and
	// writes dL/dlogits = (softmax − q)/rows into grad.
	SoftmaxCrossEntropy(grad, logits []float32, labels []int, soft []float32, rows, classes int, smoothing float32) (float64, error)
}

// LinearBackend computes a Linear layer whole, bias included, so that a backend
// with its own memory keeps the operands there. A backend without it computes
// Linear layers through its GemmBackend, with the bias added and its gradient
// summed on the host.
type LinearBackend interface {
	// LinearForward sets y = x·wᵀ + bias, row by row, for x rows×in, w out×in,
	// bias out (nil: none) and y rows×out.
	LinearForward(y, x, w, bias []float32, rows, in, out int) error
	// LinearBackward overwrites dw = dyᵀ·x (out×in), db = Σ_rows dy (out; skipped
	// when nil) and dx = dy·w (rows×in; skipped when nil).
	LinearBackward(dw, db, dx, dy, x, w []float32, rows, in, out int) error
}

// HostSync is implemented by a backend that keeps data in memory of its own (the
// Ascend backend keeps activations, gradients and parameters on the NPU): the
// result of one of its operations may exist only there, and a buffer the host
// changed must be sent again. Layers call it exactly where their own host code
// touches a buffer that a backend operation reads or writes:
//
//   - ToHost before host code reads a buffer that an operation may have written:
//     the parameter gradients at the end of Backward (an optimizer reads them),
//     batch norm's batch statistics (the running update), AdaptiveAvgPool2d's
//     input and gradient, Linear's output gradient when its bias gradient is
//     summed on the host, and, through the package function ToHost, a model's
//     output.
//   - HostWrote after host code wrote a buffer that an operation will read:
//     parameters before the first Forward, after every Backward (an optimizer
//     step follows, as for Conv2d's weights) and after ParamsChanged; batch
//     norm's evaluation statistics; AdaptiveAvgPool2d's output and input
//     gradient; Linear's output when the host writes the bias into it.
//
// Everything else stays in the backend's memory between layers. A backend
// without HostSync (the CPU) works on the host buffers themselves. Code outside
// the layers follows the same rule: read a layer's output or gradient only after
// ToHost (vgg.Model.Forward does it for the logits), and announce host writes to a
// buffer the layers hand to the backend with HostWrote (a layer's ParamsChanged
// does it for its parameters).
type HostSync interface {
	// ToHost makes the host copy of buf current.
	ToHost(buf []float32) error
	// HostWrote says that the host wrote the whole of buf, so the backend's copy
	// is stale and is refreshed before its next use. It also promises that every
	// later host write of buf will be announced the same way, so the backend
	// may keep using its copy until then.
	HostWrote(buf []float32)
}

// ToHost makes the host copy of t current for reading, where t is an output of
// l or of a layer inside it (a Sequential's children are asked in turn). It
// does nothing on backends without HostSync, such as the CPU.
func ToHost(l Layer, t *tensor.Tensor) error {
	if t == nil {
		return nil
	}
	var last Backend
	return eachBackend(l, &last, func(hs HostSync) error { return hs.ToHost(t.Data()) })
}

// eachBackend calls fn with the HostSync of every backend that l and its
// descendants compute with, skipping a backend equal to the previous one.
func eachBackend(l Layer, last *Backend, fn func(HostSync) error) error {
	if s, ok := l.(*Sequential); ok {
		for _, c := range s.layers {
			if err := eachBackend(c, last, fn); err != nil {
				return err
			}
		}
		return nil
	}
	r, ok := l.(interface{ backend() Backend })
	if !ok {
		return nil
	}
	be := r.backend()
	if *last != nil && be == *last {
		return nil
	}
	*last = be
	if hs, ok := be.(HostSync); ok {
		return fn(hs)
	}
	return nil
}

// DropoutBackend computes dropout.
type DropoutBackend interface {
	// Dropout writes mask (0 or 1/(1−p) per element, a function of seed, step and
	// the element index only) and y = x·mask.
	Dropout(y, mask, x []float32, p float32, seed, step uint64) error
	// DropoutBackward sets dx = dy·mask.
	DropoutBackward(dx, dy, mask []float32) error
}

// BackendSetter is implemented by every layer of this package: SetBackend(nil)
// returns the layer to the package default.
type BackendSetter interface {
	SetBackend(b Backend)
}

var (
	registryMu sync.Mutex
	registry   = map[string]Backend{"cpu": cpuBackend{}}
	defaultBE  atomic.Pointer[Backend]
	envOnce    sync.Once
)

// CPU returns the CPU backend: the asm kernels, conv plans and the SGEMM driver. It
// implements every operation group.
func CPU() Backend { return cpuBackend{} }

// RegisterBackend makes b selectable by name. It fails if the name is taken.
func RegisterBackend(name string, b Backend) error {
	registryMu.Lock()
	defer registryMu.Unlock()
	if b == nil {
		return fmt.Errorf("layers: RegisterBackend(%q): nil backend", name)
	}
	if _, ok := registry[name]; ok {
		return fmt.Errorf("layers: backend %q is already registered", name)
	}
	registry[name] = b
	return nil
}

// Backends lists the registered backend names.
func Backends() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// UseBackend makes the named backend the default of every layer that has none of its
// own. Layers pick the change up on their next call.
func UseBackend(name string) error {
	envOnce.Do(func() {}) // an explicit choice wins over GOVGG_BACKEND
	registryMu.Lock()
	b, ok := registry[name]
	registryMu.Unlock()
	if !ok {
		return fmt.Errorf("layers: unknown backend %q (registered: %v)", name, Backends())
	}
	defaultBE.Store(&b)
	return nil
}

// DefaultBackend returns the backend layers use when none was set on them.
func DefaultBackend() Backend {
	envOnce.Do(func() {
		if name := os.Getenv("GOVGG_BACKEND"); name != "" {
			registryMu.Lock()
			b, ok := registry[name]
			registryMu.Unlock()
			if !ok {
				fmt.Fprintf(os.Stderr, "govgg: GOVGG_BACKEND=%s is not registered (have %v); using cpu\n", name, Backends())
				return
			}
			defaultBE.Store(&b)
		}
	})
	if p := defaultBE.Load(); p != nil {
		return *p
	}
	return cpuBackend{}
}

// backendRef is embedded in every layer: the layer's own backend, if any.
type backendRef struct{ be Backend }

// SetBackend sets the backend this layer computes with; nil means the default.
func (r *backendRef) SetBackend(b Backend) { r.be = b }

func (r *backendRef) backend() Backend {
	if r.be != nil {
		return r.be
	}
	return DefaultBackend()
}

func (r *backendRef) conv() ConvBackend {
	if b, ok := r.backend().(ConvBackend); ok {
		return b
	}
	return cpuBackend{}
}

func (r *backendRef) gemm() GemmBackend {
	if b, ok := r.backend().(GemmBackend); ok {
		return b
	}
	return cpuBackend{}
}

func (r *backendRef) activation() ActivationBackend {
	if b, ok := r.backend().(ActivationBackend); ok {
		return b
	}
	return cpuBackend{}
}

func (r *backendRef) pool() PoolBackend {
	if b, ok := r.backend().(PoolBackend); ok {
		return b
	}
	return cpuBackend{}
}

func (r *backendRef) batchNorm() BatchNormBackend {
	if b, ok := r.backend().(BatchNormBackend); ok {
		return b
	}
	return cpuBackend{}
}

func (r *backendRef) softmax() SoftmaxBackend {
	if b, ok := r.backend().(SoftmaxBackend); ok {
		return b
	}
	return cpuBackend{}
}

// toHost makes buf current on the host (see HostSync).
func (r *backendRef) toHost(buf []float32) error {
	if hs, ok := r.backend().(HostSync); ok && len(buf) > 0 {
		return hs.ToHost(buf)
	}
	return nil
}

// hostWrote tells the backend that the host wrote buf (see HostSync).
func (r *backendRef) hostWrote(buf []float32) {
	if hs, ok := r.backend().(HostSync); ok && len(buf) > 0 {
		hs.HostWrote(buf)
	}
}

func (r *backendRef) dropout() DropoutBackend {
	if b, ok := r.backend().(DropoutBackend); ok {
		return b
	}
	return cpuBackend{}
}

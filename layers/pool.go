package layers

import (
	"fmt"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/tensor"
)

// MaxPool2d is PyTorch's nn.MaxPool2d with a square window, no padding, dilation 1
// and floor mode. Forward keeps, per output, the index of the chosen input element
// for Backward. 2×2 windows with stride 2 (every VGG pool) run on SIMD kernels.
type MaxPool2d struct {
	backendRef
	kernel, stride int
	idx            []int32
	shape          PoolShape
	x, y, dx       *tensor.Tensor
	yShape         []int

	// Set by a Sequential: the ReLU before this layer leaves its backward pass to
	// this one (maskReLU); maskedFor is the input whose ReLU mask the last dx
	// holds (nil when it holds none).
	maskReLU  bool
	maskedFor *tensor.Tensor
}

// NewMaxPool2d returns a max pooling with a kernel×kernel window and the given
// stride. Non-positive values are reported by Forward and OutShape.
func NewMaxPool2d(kernel, stride int) *MaxPool2d {
	return &MaxPool2d{kernel: kernel, stride: stride}
}

// String describes the layer, e.g. "MaxPool2d(k2 s2)".
func (l *MaxPool2d) String() string { return fmt.Sprintf("MaxPool2d(k%d s%d)", l.kernel, l.stride) }

// Params returns nothing.
func (l *MaxPool2d) Params() []*Param { return nil }

// Buffers returns nothing.
func (l *MaxPool2d) Buffers() []*Param { return nil }

// SetTraining does nothing.
func (l *MaxPool2d) SetTraining(bool) {}

// ParamsChanged does nothing.
func (l *MaxPool2d) ParamsChanged() {}

func (l *MaxPool2d) poolShape(in []int) (PoolShape, error) {
	if l.kernel <= 0 || l.stride <= 0 {
		return PoolShape{}, fmt.Errorf("layers: %s: kernel and stride must be positive", l)
	}
	if len(in) != 4 {
		return PoolShape{}, fmt.Errorf("layers: %s: input must be N×C×H×W, got shape %v", l, in)
	}
	if in[2] < l.kernel || in[3] < l.kernel {
		return PoolShape{}, fmt.Errorf("layers: %s: input %d×%d is smaller than the window (shape %v)", l, in[2], in[3], in)
	}
	return PoolShape{N: in[0], C: in[1], H: in[2], W: in[3], Kernel: l.kernel, Stride: l.stride}, nil
}

// OutShape returns N×C×OH×OW with OH = (H−kernel)/stride + 1.
func (l *MaxPool2d) OutShape(in []int) ([]int, error) {
	s, err := l.poolShape(in)
	if err != nil {
		return nil, err
	}
	return []int{s.N, s.C, s.OutH(), s.OutW()}, nil
}

// Forward pools an N×C×H×W batch.
func (l *MaxPool2d) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkNil(l, x); err != nil {
		return nil, err
	}
	s, err := l.poolShape(x.Shape())
	if err != nil {
		return nil, err
	}
	l.yShape = append(l.yShape[:0], s.N, s.C, s.OutH(), s.OutW())
	l.y = tensor.Ensure(l.y, l.yShape...)
	if cap(l.idx) < l.y.Len() {
		l.idx = make([]int32, l.y.Len())
	}
	l.idx = l.idx[:l.y.Len()]
	if err := l.pool().MaxPool2d(l.y.Data(), l.idx, x.Data(), s); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	l.shape, l.x = s, x
	return l.y, nil
}

// Backward routes each dy element to the input element its window chose.
func (l *MaxPool2d) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkGrad(l, l.y, dy); err != nil {
		return nil, err
	}
	s := l.shape
	l.yShape = append(l.yShape[:0], s.N, s.C, s.H, s.W)
	l.dx = tensor.Ensure(l.dx, l.yShape...)
	l.maskedFor = nil
	var err error
	if mp, ok := l.pool().(MaskedPoolBackend); ok && l.maskReLU {
		// The input is the previous ReLU's output, and the pool's output holds
		// the chosen input values: the mask of every routed gradient. (A ReLU
		// after the pool that overwrites that output keeps its sign.)
		err = mp.MaxPool2dBackwardMasked(l.dx.Data(), l.idx, dy.Data(), l.y.Data(), s)
		l.maskedFor = l.x
	} else {
		err = l.pool().MaxPool2dBackward(l.dx.Data(), l.idx, dy.Data(), s)
	}
	if err != nil {
		l.maskedFor = nil
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	return l.dx, nil
}

// setReLUMask makes Backward apply the gradient of the ReLU whose output is this
// layer's input, when the backend can (MaskedPoolBackend).
func (l *MaxPool2d) setReLUMask(on bool) { l.maskReLU = on }

// maskedGrad returns the last input gradient and the input whose ReLU mask it
// holds (nil when it holds none).
func (l *MaxPool2d) maskedGrad() (dx, in *tensor.Tensor) { return l.dx, l.maskedFor }

// MaxPool2dBackwardMasked is MaxPool2dBackward through the ReLU before the pool:
// a gradient reaches its input element only where y, the pool's output (the
// element's value), is > 0 or NaN. Overlapping windows (stride < kernel) that
// choose the same element all see its value, so skipping their sum is the same as
// masking it.
func (cpuBackend) MaxPool2dBackwardMasked(dx []float32, idx []int32, dy, y []float32, s PoolShape) error {
	if err := s.check("MaxPool2dBackwardMasked", len(dx), len(dy), len(idx)); err != nil {
		return err
	}
	if err := short("MaxPool2dBackwardMasked", s.N*s.C*s.OutH()*s.OutW(), "y", len(y)); err != nil {
		return err
	}
	if s.Kernel != 2 || s.Stride != 2 {
		// The general path scatters through the indices.
		for _, k := range idx[:s.N*s.C*s.OutH()*s.OutW()] {
			if k < 0 || int(k) >= s.H*s.W {
				return fmt.Errorf("layers: cpu MaxPool2dBackwardMasked: index %d outside a %d×%d plane", k, s.H, s.W)
			}
		}
	}
	j := getJob(maxPoolBackMaskedPlanes)
	j.x, j.idx, j.y, j.z, j.p = dx, idx, dy, y, s
	j.do(s.N*s.C, planeGrain(s.H*s.W))
	return nil
}

// maxPoolBackMaskedPlanes writes the masked input gradient of planes lo … hi−1.
func maxPoolBackMaskedPlanes(j *job, lo, hi int) {
	dx, idx, dy, y, s := j.x, j.idx, j.y, j.z, j.p
	oh, ow := s.OutH(), s.OutW()
	in, out := s.H*s.W, oh*ow
	for p := lo; p < hi; p++ {
		dxp, ip, dyp, yp := dx[p*in:(p+1)*in], idx[p*out:(p+1)*out], dy[p*out:(p+1)*out], y[p*out:(p+1)*out]
		if s.Kernel == 2 && s.Stride == 2 {
			asm.MaxPool2x2BackwardMasked(dxp, ip, dyp, yp, s.H, s.W)
			continue
		}
		clear(dxp)
		for o, k := range ip {
			if !(yp[o] <= 0) {
				dxp[k] += dyp[o]
			}
		}
	}
}

// AdaptiveAvgPool2d averages an H×W input down to a fixed oh×ow output with
// PyTorch's windows: output row i covers input rows ⌊i·H/oh⌋ … ⌈(i+1)·H/oh⌉−1.
// When the input already has the output size (VGG at 224×224: 7×7 → 7×7) it is
// the identity and returns its input unchanged. It computes on the host whatever
// its backend; a backend with memory of its own (HostSync) is asked for the input
// and told about the output.
type AdaptiveAvgPool2d struct {
	backendRef
	oh, ow   int
	identity bool
	out      *tensor.Tensor // own output buffer
	x, y, dx *tensor.Tensor // y: the last output (out, or x for the identity)
	yShape   []int
}

// NewAdaptiveAvgPool2d returns an adaptive average pooling to h×w.
func NewAdaptiveAvgPool2d(h, w int) *AdaptiveAvgPool2d { return &AdaptiveAvgPool2d{oh: h, ow: w} }

// String describes the layer, e.g. "AdaptiveAvgPool2d(7×7)".
func (l *AdaptiveAvgPool2d) String() string {
	return fmt.Sprintf("AdaptiveAvgPool2d(%d×%d)", l.oh, l.ow)
}

// Params returns nothing.
func (l *AdaptiveAvgPool2d) Params() []*Param { return nil }

// Buffers returns nothing.
func (l *AdaptiveAvgPool2d) Buffers() []*Param { return nil }

// SetTraining does nothing.
func (l *AdaptiveAvgPool2d) SetTraining(bool) {}

// ParamsChanged does nothing.
func (l *AdaptiveAvgPool2d) ParamsChanged() {}

// OutShape returns N×C×oh×ow.
func (l *AdaptiveAvgPool2d) OutShape(in []int) ([]int, error) {
	if err := l.check(in); err != nil {
		return nil, err
	}
	return []int{in[0], in[1], l.oh, l.ow}, nil
}

func (l *AdaptiveAvgPool2d) check(in []int) error {
	if l.oh <= 0 || l.ow <= 0 {
		return fmt.Errorf("layers: %s: output size must be positive", l)
	}
	if len(in) != 4 || in[2] <= 0 || in[3] <= 0 {
		return fmt.Errorf("layers: %s: input must be N×C×H×W with H, W > 0, got shape %v", l, in)
	}
	return nil
}

// window returns PyTorch's adaptive window [start, end) for output i of out over n.
func window(i, out, n int) (int, int) {
	return i * n / out, ((i+1)*n + out - 1) / out
}

// Forward pools an N×C×H×W batch.
func (l *AdaptiveAvgPool2d) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkNil(l, x); err != nil {
		return nil, err
	}
	s := x.Shape()
	if err := l.check(s); err != nil {
		return nil, err
	}
	l.x = x
	if l.identity = s[2] == l.oh && s[3] == l.ow; l.identity {
		l.y = x
		return x, nil
	}
	h, w := s[2], s[3]
	l.yShape = append(l.yShape[:0], s[0], s[1], l.oh, l.ow)
	l.out = tensor.Ensure(l.out, l.yShape...)
	l.y = l.out
	xd, yd := x.Data(), l.y.Data()
	if err := l.toHost(xd); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	for p := 0; p < s[0]*s[1]; p++ {
		xp, yp := xd[p*h*w:(p+1)*h*w], yd[p*l.oh*l.ow:(p+1)*l.oh*l.ow]
		for i := 0; i < l.oh; i++ {
			h0, h1 := window(i, l.oh, h)
			for j := 0; j < l.ow; j++ {
				w0, w1 := window(j, l.ow, w)
				var sum float32
				for r := h0; r < h1; r++ {
					for c := w0; c < w1; c++ {
						sum += xp[r*w+c]
					}
				}
				yp[i*l.ow+j] = sum / float32((h1-h0)*(w1-w0))
			}
		}
	}
	l.hostWrote(yd)
	return l.y, nil
}

// Backward spreads each dy element evenly over its window (dy itself for the
// identity case).
func (l *AdaptiveAvgPool2d) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkGrad(l, l.y, dy); err != nil {
		return nil, err
	}
	if l.identity {
		return dy, nil
	}
	s := l.x.Shape()
	h, w := s[2], s[3]
	l.dx = tensor.Ensure(l.dx, s...)
	dxd, dyd := l.dx.Data(), dy.Data()
	if err := l.toHost(dyd); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	clear(dxd)
	for p := 0; p < s[0]*s[1]; p++ {
		dxp, dyp := dxd[p*h*w:(p+1)*h*w], dyd[p*l.oh*l.ow:(p+1)*l.oh*l.ow]
		for i := 0; i < l.oh; i++ {
			h0, h1 := window(i, l.oh, h)
			for j := 0; j < l.ow; j++ {
				w0, w1 := window(j, l.ow, w)
				g := dyp[i*l.ow+j] / float32((h1-h0)*(w1-w0))
				for r := h0; r < h1; r++ {
					for c := w0; c < w1; c++ {
						dxp[r*w+c] += g
					}
				}
			}
		}
	}
	l.hostWrote(dxd)
	return l.dx, nil
}

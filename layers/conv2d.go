package layers

import (
	"fmt"
	"math"

	"github.com/govgg/govgg/conv"
	"github.com/govgg/govgg/tensor"
)

// Conv2d is a 2-D convolution with square kernels, PyTorch's nn.Conv2d with
// dilation 1 and groups 1: weight K×C×R×S ("weight"), optional bias K ("bias").
//
// It computes through a ConvOp (a conv.Plan on the CPU) made for the input's
// height and width on the first Forward and remade when they change. The plan keeps
// the weights in its own form; Conv2d re-sends them before the next Forward after
// ParamsChanged and after every Backward (whose gradients exist to be applied by an
// optimizer step), so training needs no extra call; a loader that writes weights
// must call ParamsChanged.
type Conv2d struct {
	backendRef
	in, out, kernel, stride, padding int
	opts                             []conv.Option

	weight, bias *Param

	op        ConvOp
	opBackend Backend
	geom      conv.Geometry
	stale     bool
	needDX    bool

	// Inference fusion, set by a Sequential in evaluation mode: the plan applies
	// the following ReLU (fuseReLU) and the weights sent to it have the following
	// batch norm folded in (foldBN, with the folded copies in wFold, bFold).
	fuseReLU, planReLU bool
	foldBN             *BatchNorm2d
	wFold, bFold       []float32

	// Training fusion, set by a Sequential: the ReLU before this layer leaves its
	// backward pass to BackwardData (maskReLU); maskedFor is the input whose ReLU
	// mask the last dx holds (nil when it holds none).
	maskReLU  bool
	maskedFor *tensor.Tensor

	x, y, dx *tensor.Tensor
	yShape   []int
}

// NewConv2d returns a convolution from in to out channels with a kernel×kernel
// window, stride and zero padding, with or without bias, initialized like PyTorch
// (U(±1/√(in·kernel²))). opts are passed to the conv plan (algorithm choice). A
// fused ReLU (conv.WithReLU) makes Forward return relu(conv(x)); Backward then does
// not differentiate through that ReLU, so use it for inference only.
func NewConv2d(in, out, kernel, stride, padding int, bias bool, opts ...conv.Option) (*Conv2d, error) {
	switch {
	case in <= 0 || out <= 0:
		return nil, fmt.Errorf("layers: Conv2d: channels must be positive, got in=%d out=%d", in, out)
	case kernel <= 0:
		return nil, fmt.Errorf("layers: Conv2d: kernel must be positive, got %d", kernel)
	case stride <= 0:
		return nil, fmt.Errorf("layers: Conv2d: stride must be positive, got %d", stride)
	case padding < 0:
		return nil, fmt.Errorf("layers: Conv2d: padding must not be negative, got %d", padding)
	}
	l := &Conv2d{in: in, out: out, kernel: kernel, stride: stride, padding: padding,
		opts: opts, needDX: true, stale: true}
	l.weight = newParam("weight", out, in, kernel, kernel)
	if bias {
		l.bias = newParam("bias", out)
	}
	kaimingUniform(l.weight, l.bias, in*kernel*kernel)
	return l, nil
}

// Plan returns the conv plan computing this layer on the CPU backend (its algorithm
// and prepared-weight memory), or nil before the first Forward or on another backend.
func (l *Conv2d) Plan() *conv.Plan {
	p, _ := l.op.(*conv.Plan)
	return p
}

// String describes the layer like PyTorch's repr, e.g. "Conv2d(3→64, k3 s1 p1)".
func (l *Conv2d) String() string {
	return fmt.Sprintf("Conv2d(%d→%d, k%d s%d p%d)", l.in, l.out, l.kernel, l.stride, l.padding)
}

// Params returns weight and, if present, bias.
func (l *Conv2d) Params() []*Param { return nonNilParams(l.weight, l.bias) }

// Buffers returns nothing.
func (l *Conv2d) Buffers() []*Param { return nil }

// SetTraining does nothing: a convolution behaves the same in both modes.
func (l *Conv2d) SetTraining(bool) {}

// ParamsChanged makes the next Forward re-send the weights to the plan.
func (l *Conv2d) ParamsChanged() { l.stale = true }

// SetNeedInputGrad turns the computation of dL/dx in Backward on or off; off suits the
// network's first layer, whose input is the image.
func (l *Conv2d) SetNeedInputGrad(need bool) { l.needDX = need }

// OutShape returns N×out×OH×OW for an N×in×H×W input.
func (l *Conv2d) OutShape(in []int) ([]int, error) {
	g, err := l.geometry(in)
	if err != nil {
		return nil, err
	}
	return []int{in[0], l.out, g.OutH(), g.OutW()}, nil
}

func (l *Conv2d) geometry(in []int) (conv.Geometry, error) {
	if len(in) != 4 || in[1] != l.in {
		return conv.Geometry{}, fmt.Errorf("layers: %s: input must be N×%d×H×W, got shape %v", l, l.in, in)
	}
	g := conv.Geometry{C: l.in, H: in[2], W: in[3], K: l.out, R: l.kernel, S: l.kernel,
		StrideH: l.stride, StrideW: l.stride, PadH: l.padding, PadW: l.padding, DilH: 1, DilW: 1}
	if err := g.Validate(); err != nil {
		return g, fmt.Errorf("layers: %s: input %v: %w", l, in, err)
	}
	return g, nil
}

func (l *Conv2d) biasData() []float32 {
	if l.bias == nil {
		return nil
	}
	return l.bias.Value.Data()
}

// Forward convolves an N×in×H×W batch.
func (l *Conv2d) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkNil(l, x); err != nil {
		return nil, err
	}
	g, err := l.geometry(x.Shape())
	if err != nil {
		return nil, err
	}
	if be := l.backend(); l.op == nil || g != l.geom || be != l.opBackend || l.planReLU != l.fuseReLU {
		// The plan may keep the weights it is given: they change only before the
		// next SetWeights (see stale).
		opts := append(l.opts[:len(l.opts):len(l.opts)], conv.WithSharedWeights(true))
		if l.fuseReLU {
			opts = append(opts, conv.WithReLU(true))
		}
		op, err := l.conv().NewConv(g, opts...)
		if err != nil {
			return nil, fmt.Errorf("layers: %s: %w", l, err)
		}
		l.op, l.geom, l.opBackend, l.planReLU, l.stale = op, g, be, l.fuseReLU, true
	}
	if l.stale {
		w, b := l.weight.Value.Data(), l.biasData()
		if l.foldBN != nil {
			w, b = l.folded()
		}
		if err := l.op.SetWeights(w, b); err != nil {
			return nil, fmt.Errorf("layers: %s: %w", l, err)
		}
		l.stale = false
	}
	n := x.Dim(0)
	l.yShape = append(l.yShape[:0], n, l.out, g.OutH(), g.OutW())
	l.y = tensor.Ensure(l.y, l.yShape...)
	if err := l.op.Forward(l.y.Data(), x.Data(), n); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	l.x = x
	return l.y, nil
}

// Backward overwrites the weight and bias gradients and returns dL/dx (nil after
// SetNeedInputGrad(false)).
func (l *Conv2d) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkGrad(l, l.y, dy); err != nil {
		return nil, err
	}
	if l.foldBN != nil {
		return nil, fmt.Errorf("layers: %s: Backward after an evaluation-mode Forward with the next batch norm folded in; switch the Sequential to training mode or call SetFusion(false)", l)
	}
	n := l.x.Dim(0)
	var db []float32
	if l.bias != nil {
		db = l.bias.Grad.Data()
	}
	if err := l.op.BackwardFilter(l.weight.Grad.Data(), db, l.x.Data(), dy.Data(), n); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	// An optimizer step is about to change the weights.
	l.stale = true
	l.maskedFor = nil
	if l.needDX {
		l.dx = tensor.Ensure(l.dx, l.x.Shape()...)
		var err error
		if mo, ok := l.op.(MaskedConvOp); ok && l.maskReLU {
			// The input is the previous ReLU's output, and so its mask.
			err = mo.BackwardDataMasked(l.dx.Data(), dy.Data(), l.x.Data(), n)
			l.maskedFor = l.x
		} else {
			err = l.op.BackwardData(l.dx.Data(), dy.Data(), n)
		}
		if err != nil {
			l.maskedFor = nil
			return nil, fmt.Errorf("layers: %s: %w", l, err)
		}
	}
	// The optimizer reads the gradients on the host.
	if err := l.toHost(l.weight.Grad.Data()); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	if err := l.toHost(db); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	if !l.needDX {
		return nil, nil
	}
	return l.dx, nil
}

// setFusion makes the layer apply the ReLU that follows it (relu) and fold the batch
// norm that follows it (bn, or nil) into the weights it sends to its plan.
func (l *Conv2d) setFusion(bn *BatchNorm2d, relu bool) {
	if bn != l.foldBN || relu != l.fuseReLU {
		l.foldBN, l.fuseReLU, l.stale = bn, relu, true
	}
}

// setReLUMask makes Backward apply the gradient of the ReLU whose output is this
// layer's input, when the op can (MaskedConvOp).
func (l *Conv2d) setReLUMask(on bool) { l.maskReLU = on }

// maskedGrad returns the last input gradient and the input whose ReLU mask it
// holds (nil when it holds none).
func (l *Conv2d) maskedGrad() (dx, in *tensor.Tensor) { return l.dx, l.maskedFor }

// folded returns the weights and bias with the batch norm's evaluation transform
// folded in: per output channel k, w'ₖ = wₖ·sₖ and b'ₖ = (bₖ − μₖ)·sₖ + βₖ with
// sₖ = γₖ/√(σ²ₖ + ε).
func (l *Conv2d) folded() (w, b []float32) {
	bn := l.foldBN
	per := l.in * l.kernel * l.kernel
	if len(l.wFold) != l.weight.Value.Len() {
		l.wFold, l.bFold = make([]float32, l.weight.Value.Len()), make([]float32, l.out)
	}
	src := l.weight.Value.Data()
	g, beta := bn.weight.Value.Data(), bn.bias.Value.Data()
	rm, rv := bn.runMean.Value.Data(), bn.runVar.Value.Data()
	for k := 0; k < l.out; k++ {
		s := float64(g[k]) / math.Sqrt(float64(rv[k])+float64(bn.eps))
		for i, v := range src[k*per : (k+1)*per] {
			l.wFold[k*per+i] = float32(float64(v) * s)
		}
		var b0 float64
		if l.bias != nil {
			b0 = float64(l.bias.Value.Data()[k])
		}
		l.bFold[k] = float32((b0-float64(rm[k]))*s + float64(beta[k]))
	}
	return l.wFold, l.bFold
}

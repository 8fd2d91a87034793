package layers

import (
	"fmt"
	"math"

	"github.com/govgg/govgg/tensor"
)

// BatchNorm2d is PyTorch's nn.BatchNorm2d with affine parameters and running
// statistics: weight γ and bias β (C), buffers running_mean, running_var and
// num_batches_tracked (a one-element float32 tensor; PyTorch stores it as int64).
//
// In training mode it normalizes with the batch's mean and biased variance and
// updates running_mean and running_var (unbiased) with momentum 0.1; in evaluation
// mode it uses the running statistics. eps is 1e-5.
type BatchNorm2d struct {
	backendRef
	c        int
	eps      float32
	momentum float32
	training bool

	weight, bias                    *Param
	runMean, runVar, batchesTracked *Param

	// Per-channel statistics of the last Forward (batch or running ones) and the
	// scale γ/√(var + eps) of the evaluation pass.
	mean, invStd, variance, scale []float32
	batchStats                    bool
	// paramsStale: the host may have written γ and β since the backend paramsBE
	// was last told (see HostSync).
	paramsStale bool
	paramsBE    Backend
	// foldedInto: a Sequential in evaluation mode folded this batch norm into
	// that preceding Conv2d, so Forward passes its input through.
	foldedInto *Conv2d

	out      *tensor.Tensor // own output buffer
	x, y, dx *tensor.Tensor // y: the last output (out, or x when folded)
}

// NewBatchNorm2d returns a batch norm over c channels with torchvision's defaults:
// eps 1e-5, momentum 0.1, γ = 1, β = 0, running mean 0 and variance 1, in
// evaluation mode until SetTraining(true).
func NewBatchNorm2d(c int) *BatchNorm2d {
	c = max(c, 0)
	l := &BatchNorm2d{c: c, eps: 1e-5, momentum: 0.1,
		mean: make([]float32, c), invStd: make([]float32, c), variance: make([]float32, c),
		scale: make([]float32, c), paramsStale: true}
	l.weight = newParam("weight", c)
	l.bias = newParam("bias", c)
	l.runMean = &Param{Name: "running_mean", Value: tensor.New(c)}
	l.runVar = &Param{Name: "running_var", Value: tensor.New(c)}
	l.batchesTracked = &Param{Name: "num_batches_tracked", Value: tensor.New()}
	for i := 0; i < c; i++ {
		l.weight.Value.Data()[i] = 1
		l.runVar.Value.Data()[i] = 1
	}
	return l
}

// String describes the layer, e.g. "BatchNorm2d(64)".
func (l *BatchNorm2d) String() string { return fmt.Sprintf("BatchNorm2d(%d)", l.c) }

// Params returns weight and bias.
func (l *BatchNorm2d) Params() []*Param { return []*Param{l.weight, l.bias} }

// Buffers returns running_mean, running_var and num_batches_tracked.
func (l *BatchNorm2d) Buffers() []*Param { return []*Param{l.runMean, l.runVar, l.batchesTracked} }

// SetTraining switches between batch statistics (true) and running statistics.
func (l *BatchNorm2d) SetTraining(on bool) { l.training = on }

// ParamsChanged tells the Conv2d this batch norm is folded into, if any, to fold
// the new values, and a backend with memory of its own (HostSync) to take γ and β
// again; the CPU reads them in place on every Forward.
func (l *BatchNorm2d) ParamsChanged() {
	l.paramsStale = true
	if l.foldedInto != nil {
		l.foldedInto.ParamsChanged()
	}
}

// OutShape returns the input shape, which must be N×c×H×W.
func (l *BatchNorm2d) OutShape(in []int) ([]int, error) {
	if len(in) != 4 || in[1] != l.c {
		return nil, fmt.Errorf("layers: %s: input must be N×%d×H×W, got shape %v", l, l.c, in)
	}
	return append([]int(nil), in...), nil
}

// Forward normalizes an N×c×H×W batch.
func (l *BatchNorm2d) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkNil(l, x); err != nil {
		return nil, err
	}
	s := x.Shape()
	if len(s) != 4 || s[1] != l.c {
		return nil, fmt.Errorf("layers: %s: input must be N×%d×H×W, got shape %v", l, l.c, s)
	}
	n, hw := s[0], s[2]*s[3]
	if l.foldedInto != nil && !l.training {
		l.x, l.y = x, x
		return x, nil
	}
	l.y = tensor.Ensure(l.out, s...)
	l.out = l.y
	if be := l.backend(); l.paramsStale || be != l.paramsBE {
		l.hostWrote(l.weight.Value.Data())
		l.hostWrote(l.bias.Value.Data())
		l.paramsStale, l.paramsBE = false, be
	}
	be := l.batchNorm()
	if l.training {
		if n*hw < 2 {
			return nil, fmt.Errorf("layers: %s: training needs more than one value per channel, got input shape %v", l, s)
		}
		if err := be.BatchNormTrain(l.y.Data(), l.mean, l.invStd, l.variance, x.Data(),
			l.weight.Value.Data(), l.bias.Value.Data(), n, l.c, hw, l.eps); err != nil {
			return nil, fmt.Errorf("layers: %s: %w", l, err)
		}
		// The running update reads the batch statistics on the host.
		if err := l.toHost(l.mean); err != nil {
			return nil, fmt.Errorf("layers: %s: %w", l, err)
		}
		if err := l.toHost(l.variance); err != nil {
			return nil, fmt.Errorf("layers: %s: %w", l, err)
		}
		m := l.momentum
		unbias := float32(n*hw) / float32(n*hw-1)
		rm, rv := l.runMean.Value.Data(), l.runVar.Value.Data()
		for c := range rm {
			rm[c] = (1-m)*rm[c] + m*l.mean[c]
			rv[c] = (1-m)*rv[c] + m*l.variance[c]*unbias
		}
		l.batchesTracked.Value.Data()[0]++
		l.batchStats = true
	} else {
		rm, rv := l.runMean.Value.Data(), l.runVar.Value.Data()
		g, b := l.weight.Value.Data(), l.bias.Value.Data()
		for c := range rm {
			is := 1 / math.Sqrt(float64(rv[c])+float64(l.eps))
			l.mean[c], l.invStd[c] = rm[c], float32(is)
			l.scale[c] = float32(float64(g[c]) * is)
		}
		// Backward reads mean and invStd on the backend, which may hold the
		// batch statistics of an earlier training-mode Forward.
		l.hostWrote(l.mean)
		l.hostWrote(l.invStd)
		l.hostWrote(l.scale)
		if err := be.ChannelAffine(l.y.Data(), x.Data(), l.mean, l.scale, b, n, l.c, hw); err != nil {
			return nil, fmt.Errorf("layers: %s: %w", l, err)
		}
		l.batchStats = false
	}
	l.x = x
	return l.y, nil
}

// Backward overwrites the γ and β gradients and returns dL/dx. After a training-mode
// Forward it differentiates through the batch statistics, after an evaluation-mode
// one it treats the running statistics as constants.
func (l *BatchNorm2d) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if err := checkGrad(l, l.y, dy); err != nil {
		return nil, err
	}
	if l.y == l.x {
		return nil, fmt.Errorf("layers: %s: Backward after an evaluation-mode Forward in which it was folded into the preceding Conv2d; switch the Sequential to training mode or call SetFusion(false)", l)
	}
	s := l.x.Shape()
	l.dx = tensor.Ensure(l.dx, s...)
	if err := l.batchNorm().BatchNormBackward(l.dx.Data(), l.weight.Grad.Data(), l.bias.Grad.Data(),
		dy.Data(), l.x.Data(), l.weight.Value.Data(), l.mean, l.invStd, s[0], l.c, s[2]*s[3], l.batchStats); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	// An optimizer reads the gradients on the host and then changes γ and β.
	if err := l.toHost(l.weight.Grad.Data()); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	if err := l.toHost(l.bias.Grad.Data()); err != nil {
		return nil, fmt.Errorf("layers: %s: %w", l, err)
	}
	l.paramsStale = true
	return l.dx, nil
}

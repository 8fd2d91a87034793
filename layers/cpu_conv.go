package layers

import "github.com/govgg/govgg/conv"

func (cpuBackend) NewConv(g conv.Geometry, opts ...conv.Option) (ConvOp, error) {
	p, err := conv.NewPlan(g, opts...)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// The CPU applies a ReLU's backward pass inside the next layer's (see Sequential).
var (
	_ MaskedConvOp      = (*conv.Plan)(nil)
	_ MaskedPoolBackend = cpuBackend{}
)

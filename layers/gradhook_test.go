package layers

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/govgg/govgg/tensor"
)

func TestSequentialGradHook(t *testing.T) {
	conv1, err := NewConv2d(2, 3, 3, 1, 1, true)
	require.NoError(t, err)
	lin := NewLinear(3*4*4, 5, true)
	inner := NewSequential(NewFlatten(), lin)
	s := NewSequential(conv1, NewReLU(), inner)
	s.SetTraining(true)
	var order []string
	s.SetGradHook(func(ps []*Param) {
		for _, p := range ps {
			require.NotNil(t, p.Grad, p.Name)
			order = append(order, p.Name)
		}
	})
	x := tensor.New(2, 2, 4, 4)
	for i := range x.Data() {
		x.Data()[i] = float32(i%7) - 3
	}
	y, err := s.Forward(x)
	require.NoError(t, err)
	dy := tensor.New(y.Shape()...)
	for i := range dy.Data() {
		dy.Data()[i] = 1
	}
	_, err = s.Backward(dy)
	require.NoError(t, err)
	// The last layer's gradients are final first.
	require.Equal(t, []string{"weight", "bias", "weight", "bias"}, order)
	s.SetGradHook(nil)
	order = nil
	_, err = s.Backward(dy)
	require.NoError(t, err)
	require.Empty(t, order)
	require.NotNil(t, conv1.Plan())
}

package vgg

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/govgg/govgg/tensor"
)

func TestProfileFLOPsAndWarm(t *testing.T) {
	m, err := New11(WithWidthDivisor(16), WithHidden(16), WithNumClasses(10))
	require.NoError(t, err)
	prof, err := m.Profile(tensor.New(2, 3, 32, 32), 1)
	require.NoError(t, err)
	byName := map[string]LayerProfile{}
	for _, p := range prof {
		byName[p.Name] = p
		require.Positive(t, p.Time, p.Name)
		require.Positive(t, p.Warm, p.Name)
	}
	// Conv2d(3→4): 2 FLOPs × 4·3·9 weights × 32·32 pixels × 2 images.
	require.Equal(t, int64(2*4*3*9*32*32*2), byName["features.0"].FLOPs)
	require.Zero(t, byName["features.1"].FLOPs) // ReLU
	last := prof[len(prof)-1]
	require.Equal(t, "classifier.6", last.Name)
	require.Equal(t, int64(2*16*10*2), last.FLOPs) // Linear(16→10), 2 rows

	m.SetTraining(true)
	prof, err = m.Profile(tensor.New(2, 3, 32, 32), 1)
	require.NoError(t, err)
	for _, p := range prof {
		require.Zero(t, p.Warm, "%s: no second run in training mode", p.Name)
	}
}

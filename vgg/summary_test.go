package vgg

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSummarizeTorchvision(t *testing.T) {
	for _, tc := range []struct {
		depth     int
		bn        bool
		params    int64
		gmacsX100 int64
	}{
		{11, false, 132863336, 761}, {13, false, 133047848, 1131}, {16, false, 138357544, 1547}, {19, false, 143667240, 1963},
		{11, true, 132868840, 761}, {13, true, 133053736, 1131}, {16, true, 138365992, 1547}, {19, true, 143678248, 1963},
	} {
		s, err := Summarize(Configs[tc.depth], 224, WithBatchNorm(tc.bn))
		if err != nil {
			t.Fatal(err)
		}
		if s.Params != tc.params || (s.MACs+5e6)/1e7 != tc.gmacsX100 {
			t.Errorf("%s: params %d MACs %d, want %d and %d/100 G", s.Name, s.Params, s.MACs, tc.params, tc.gmacsX100)
		}
	}
	s, err := Summarize(ConfigD, 224, WithFlavour(MindCV))
	require.NoError(t, err)
	require.Equal(t, int64(138353320), s.Params, "MindCV VGG-16 has no conv bias")
}

package dist

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStatsOverlapped(t *testing.T) {
	require.Zero(t, Stats{}.Overlapped())
	s := Stats{Steps: 2, Comm: 4 * time.Second, Exposed: time.Second}
	require.InDelta(t, 0.75, s.Overlapped(), 1e-9)
	require.Contains(t, s.String(), "75% hidden")
	require.Zero(t, Stats{Comm: time.Second, Exposed: 2 * time.Second}.Overlapped())
}

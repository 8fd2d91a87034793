//go:build !unix

package conv

import "time"

// cpuTime is unavailable here; the benchmarks then skip their CPU-time metric.
func cpuTime() time.Duration { return 0 }

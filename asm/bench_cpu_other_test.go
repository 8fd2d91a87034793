//go:build !unix

package asm

import "time"

func cpuTime() time.Duration { return 0 }

// CPUTime exports cpuTime to the external benchmarks.
var CPUTime = cpuTime

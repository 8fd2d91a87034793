//go:build unix

package asm

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time. On the shared development
// machine, work per CPU-second is a steadier figure than work per wall second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CPUTime exports cpuTime to the external benchmarks.
var CPUTime = cpuTime

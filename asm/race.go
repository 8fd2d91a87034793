//go:build race

package asm

import (
	"runtime"
	"unsafe"
)

// The race detector does not see the memory that assembly reads and writes; the
// GEMM driver reports each micro-kernel call's operands to it.
const raceEnabled = true

func raceKernel(kc int, a *float32, mr int, b *float32, ldb, nr int, c *float32, ldc, rows, cols int) {
	runtime.RaceReadRange(unsafe.Pointer(a), 4*mr*kc)
	runtime.RaceReadRange(unsafe.Pointer(b), 4*((kc-1)*ldb+nr))
	for i := 0; i < rows; i++ {
		runtime.RaceWriteRange(unsafe.Add(unsafe.Pointer(c), 4*i*ldc), 4*cols)
	}
}

// raceRead reports a read of n floats from p (a packing kernel's source span).
func raceRead(p *float32, n int) { runtime.RaceReadRange(unsafe.Pointer(p), 4*n) }

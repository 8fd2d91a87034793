//go:build race

package asm

import (
	"runtime"
	"unsafe"
)

// The race detector cannot see the memory that assembly touches, so the update
// kernels' exported entry points report their reads and writes to it.

func raceReadVec(x []float32) {
	if len(x) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&x[0]), 4*len(x))
	}
}

func raceWriteVec(x []float32) {
	if len(x) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&x[0]), 4*len(x))
	}
}

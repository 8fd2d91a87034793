//go:build race

package asm

import (
	"runtime"
	"unsafe"
)

// ewRead and ewWrite report to the race detector the memory that an elementwise
// kernel is about to read or write: it does not see what assembly touches.
func ewRead(s []float32) {
	if len(s) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&s[0]), 4*len(s))
	}
}

func ewWrite(s []float32) {
	if len(s) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&s[0]), 4*len(s))
	}
}

func ewReadIdx(s []int32) {
	if len(s) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&s[0]), 4*len(s))
	}
}

func ewWriteIdx(s []int32) {
	if len(s) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&s[0]), 4*len(s))
	}
}

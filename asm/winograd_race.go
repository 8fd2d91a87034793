//go:build race

package asm

import (
	"runtime"
	"unsafe"
)

// The Winograd transforms report the memory their assembly touches to the race
// detector, which does not see it.

func winogradRaceRead(p unsafe.Pointer, n int)  { runtime.RaceReadRange(p, n) }
func winogradRaceWrite(p unsafe.Pointer, n int) { runtime.RaceWriteRange(p, n) }

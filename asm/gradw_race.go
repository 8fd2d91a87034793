//go:build race

package asm

import (
	"runtime"
	"unsafe"
)

// raceGradW reports GradW's reads and writes, row by row, to the race detector.
func raceGradW(acc []float32, ldacc int, a []float32, lda int, aOff []int, b []float32, bStep int, bOff []int, cols int) {
	for i := 0; i < GradWRows; i++ {
		runtime.RaceWriteRange(unsafe.Pointer(&acc[i*ldacc]), 4*GradWCols)
	}
	for r, ao := range aOff {
		for i := 0; i < GradWRows; i++ {
			runtime.RaceReadRange(unsafe.Pointer(&a[ao+i*lda]), 4*cols)
		}
		runtime.RaceReadRange(unsafe.Pointer(&b[bOff[r]]), 4*((cols-1)*bStep+GradWCols))
	}
}

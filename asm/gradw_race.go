//go:build race

package asm

import (
	"runtime"
	"unsafe"
)

// raceGradW reports GradW's reads and writes to the race detector.
func raceGradW(cols int, acc []float32, ldacc int, a []float32, lda int, b []float32, tab *GradWTable, lo, hi int) {
	for i := 0; i < GradWRows; i++ {
		runtime.RaceWriteRange(unsafe.Pointer(&acc[i*ldacc]), 4*cols)
		if hi > lo {
			runtime.RaceReadRange(unsafe.Pointer(&a[i*lda]), 4*(hi-lo))
		}
	}
	for _, o := range tab.off[lo:hi] {
		runtime.RaceReadRange(unsafe.Pointer(&b[o]), 4*cols)
	}
}

func raceInterleave16(dst []float32, step int, src []float32, plane, n int) {
	for i := 0; i < 16; i++ {
		runtime.RaceReadRange(unsafe.Pointer(&src[i*plane]), 4*n)
	}
	for j := 0; j < n; j++ {
		runtime.RaceWriteRange(unsafe.Pointer(&dst[j*step]), 64)
	}
}

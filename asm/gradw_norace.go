//go:build !race

package asm

func raceGradW(acc []float32, ldacc int, a []float32, lda int, aOff []int, b []float32, bStep int, bOff []int, cols int) {
}

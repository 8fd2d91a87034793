//go:build !race

package asm

func raceGradW(acc []float32, ldacc int, a []float32, lda int, b []float32, tab *GradWTable, lo, hi int) {
}

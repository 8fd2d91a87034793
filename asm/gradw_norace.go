//go:build !race

package asm

func raceGradW(cols int, acc []float32, ldacc int, a []float32, lda int, b []float32, tab *GradWTable, lo, hi int) {
}

func raceInterleave16(dst []float32, step int, src []float32, plane, n int) {}

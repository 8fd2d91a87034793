//go:build !race

package asm

const raceEnabled = false

func raceKernel(kc int, a *float32, mr int, b *float32, ldb, nr int, c *float32, ldc, rows, cols int) {
}

func raceDot(a *float32, lda int, b *float32, ldb, k int) {}

package asm_test

import (
	"fmt"

	"github.com/govgg/govgg/asm"
)

// A weight gradient dW[k][c] = Σ_p dY[k][p]·X[c][p] over three pixels: dY as six
// planes (output channels) of three pixels, X channels-last (64 floats a pixel),
// read through a table of pixel offsets.
func ExampleGradW() {
	const pixels = 3
	dy := make([]float32, asm.GradWRows*pixels)
	for k := 0; k < asm.GradWRows; k++ {
		for p := 0; p < pixels; p++ {
			dy[k*pixels+p] = float32(k + 1) // channel k's gradient is k+1 everywhere
		}
	}
	x := make([]float32, pixels*asm.GradWCols)
	for p := 0; p < pixels; p++ {
		for c := 0; c < asm.GradWCols; c++ {
			x[p*asm.GradWCols+c] = float32(p * c)
		}
	}
	tab, err := asm.NewGradWTable([]int{0, asm.GradWCols, 2 * asm.GradWCols})
	if err != nil {
		panic(err)
	}
	dw := make([]float32, asm.GradWRows*asm.GradWCols)
	asm.GradW(dw, asm.GradWCols, dy, pixels, x, tab, 0, pixels, true)
	// dW[k][c] = (k+1)·(0+1+2)·c
	fmt.Println(dw[0*asm.GradWCols+1], dw[1*asm.GradWCols+2], dw[5*asm.GradWCols+10])
	// Output: 3 12 180
}

// Gather16 as a transpose: a 2×16 matrix read column by column.
func ExampleGather16() {
	src := make([]float32, 32)
	for i := range src {
		src[i] = float32(i)
	}
	idx := make([]int32, 32)
	for o := range idx {
		idx[o] = int32(o%2*16 + o/2) // output o = column o/2, row o%2
	}
	tab, err := asm.NewGather16Table(idx)
	if err != nil {
		panic(err)
	}
	dst := make([]float32, 32)
	asm.Gather16(dst, src, tab, 0, 1)
	fmt.Println(dst[:6])
	// Output: [0 16 1 17 2 18]
}

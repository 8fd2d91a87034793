package asm_test

import (
	"fmt"

	"github.com/govgg/govgg/asm"
)

// The Toom–Cook matrices of F(2×2, 3×3) on the points {0, 1, −1, ∞}: Lavin's
// matrices up to the signs of rows.
func ExampleWinogradMatrices() {
	at, g, bt, err := asm.WinogradMatrices(2)
	if err != nil {
		panic(err)
	}
	fmt.Println("Aᵀ =", at)
	fmt.Println("G  =", g)
	fmt.Println("Bᵀ =", bt)
	// Output:
	// Aᵀ = [[1 1 1 0] [0 1 -1 1]]
	// G  = [[-1 0 0] [0.5 0.5 0.5] [0.5 -0.5 0.5] [0 0 1]]
	// Bᵀ = [[-1 0 1 0] [0 1 1 0] [0 -1 1 0] [0 -1 0 1]]
}

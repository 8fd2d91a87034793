package conv_test

import (
	"fmt"

	"github.com/govgg/govgg/conv"
)

// A 3×3 box filter with "same" padding over a 4×4 image: every output is the sum of
// the pixels around it, plus the bias.
func ExampleNewPlan() {
	g := conv.Square3x3(1, 1, 4, 4) // C=1 → K=1, 4×4, stride 1, padding 1
	p, err := conv.NewPlan(g, conv.WithAlgorithm(conv.Im2col))
	if err != nil {
		fmt.Println(err)
		return
	}
	w := []float32{1, 1, 1, 1, 1, 1, 1, 1, 1}
	if err := p.SetWeights(w, []float32{100}); err != nil {
		fmt.Println(err)
		return
	}
	x := []float32{
		1, 1, 1, 1,
		1, 1, 1, 1,
		1, 1, 1, 1,
		1, 1, 1, 1,
	}
	y := make([]float32, g.K*g.OutH()*g.OutW())
	if err := p.Forward(y, x, 1); err != nil {
		fmt.Println(err)
		return
	}
	for i := 0; i < 4; i++ {
		fmt.Println(y[4*i : 4*i+4])
	}
	fmt.Println(p.Algorithm())
	// Output:
	// [104 106 106 104]
	// [106 109 109 106]
	// [106 109 109 106]
	// [104 106 106 104]
	// im2col
}

// The filter gradient of a 1×1 convolution is the correlation of input and output
// gradient; the bias gradient is the sum of the output gradient.
func ExamplePlan_BackwardFilter() {
	g := conv.Geometry{C: 2, H: 1, W: 3, K: 1, R: 1, S: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}
	p, _ := conv.NewPlan(g)
	x := []float32{1, 2, 3, 10, 20, 30} // channel 0, channel 1
	dy := []float32{1, 0, -1}
	dw := make([]float32, 2)
	db := make([]float32, 1)
	if err := p.BackwardFilter(dw, db, x, dy, 1); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(dw, db)
	// Output: [-2 -20] [0]
}

func ExampleParseAlgorithm() {
	a, err := conv.ParseAlgorithm("im2col")
	fmt.Println(a == conv.Im2col, err)
	_, err = conv.ParseAlgorithm("fft")
	fmt.Println(err != nil)
	// Output:
	// true <nil>
	// true
}

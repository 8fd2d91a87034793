package conv

import "fmt"

// Geometry describes a 2-D convolution independent of the batch size: input channels C,
// height H and width W; output channels K; kernel R×S; stride, padding and dilation.
// Tensors are NCHW: x is N×C×H×W, w is K×C×R×S, y is N×K×OutH()×OutW().
type Geometry struct {
	C, H, W          int
	K                int
	R, S             int
	StrideH, StrideW int
	PadH, PadW       int
	DilH, DilW       int
}

// Square3x3 returns the geometry of a 3×3, stride-1, padding-1 convolution (every VGG conv).
func Square3x3(c, k, h, w int) Geometry {
	return Geometry{C: c, H: h, W: w, K: k, R: 3, S: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilH: 1, DilW: 1}
}

// OutH returns the output height.
func (g Geometry) OutH() int { return (g.H+2*g.PadH-g.DilH*(g.R-1)-1)/g.StrideH + 1 }

// OutW returns the output width.
func (g Geometry) OutW() int { return (g.W+2*g.PadW-g.DilW*(g.S-1)-1)/g.StrideW + 1 }

// Validate reports a geometry that cannot be computed.
func (g Geometry) Validate() error {
	switch {
	case g.C <= 0 || g.K <= 0 || g.H <= 0 || g.W <= 0 || g.R <= 0 || g.S <= 0:
		return fmt.Errorf("conv: sizes must be positive: %+v", g)
	case g.StrideH <= 0 || g.StrideW <= 0 || g.DilH <= 0 || g.DilW <= 0:
		return fmt.Errorf("conv: stride and dilation must be positive: %+v", g)
	case g.PadH < 0 || g.PadW < 0:
		return fmt.Errorf("conv: padding must not be negative: %+v", g)
	case g.H+2*g.PadH < g.DilH*(g.R-1)+1 || g.W+2*g.PadW < g.DilW*(g.S-1)+1:
		// (Tested before OutH/OutW, whose truncating division rounds a
		// slightly negative extent up to 1.)
		return fmt.Errorf("conv: kernel %d×%d (dilation %d,%d) does not fit input %d×%d with padding %d,%d", g.R, g.S, g.DilH, g.DilW, g.H, g.W, g.PadH, g.PadW)
	}
	return nil
}

// FLOPs returns the multiply-adds ×2 of a direct convolution of a batch of n: the
// figure GFLOP/s are reported against, whatever the algorithm.
func (g Geometry) FLOPs(n int) int64 {
	return 2 * int64(n) * int64(g.K) * int64(g.C) * int64(g.R) * int64(g.S) * int64(g.OutH()) * int64(g.OutW())
}

// Is3x3s1 reports whether Winograd F(m,3) applies: 3×3, stride 1, dilation 1.
func (g Geometry) Is3x3s1() bool {
	return g.R == 3 && g.S == 3 && g.StrideH == 1 && g.StrideW == 1 && g.DilH == 1 && g.DilW == 1
}

func (g Geometry) String() string {
	return fmt.Sprintf("%d→%d %dx%d k%dx%d s%d,%d p%d,%d d%d,%d", g.C, g.K, g.H, g.W, g.R, g.S, g.StrideH, g.StrideW, g.PadH, g.PadW, g.DilH, g.DilW)
}

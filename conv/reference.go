package conv

import (
	"fmt"
	"math"
)

// The float64 references below are direct loops over the definition of a 2-D
// cross-correlation (PyTorch's Conv2d), for any stride, padding and dilation. They
// are the oracle every fast path is tested against, here and in other packages; they
// are slow and allocate their results.
//
// With x N×C×H×W, w K×C×R×S and y N×K×P×Q (P = OutH, Q = OutW):
//
//	y[n,k,p,q] = b[k] + Σ_{c,r,s} w[k,c,r,s] · x[n, c, p·StrideH−PadH+r·DilH, q·StrideW−PadW+s·DilW]
//
// where x outside the image reads as 0.

// ReferenceForward returns y = conv(x, w) + b for a batch of n. b may be nil.
// It panics if a slice is shorter than g and n require: it is a test oracle.
func ReferenceForward(g Geometry, n int, x, w, b []float64) []float64 {
	mustRefLen(g, n, "x", len(x), n*g.C*g.H*g.W)
	mustRefLen(g, n, "w", len(w), g.K*g.C*g.R*g.S)
	if b != nil {
		mustRefLen(g, n, "b", len(b), g.K)
	}
	P, Q := g.OutH(), g.OutW()
	y := make([]float64, n*g.K*P*Q)
	for i := 0; i < n; i++ {
		for k := 0; k < g.K; k++ {
			for p := 0; p < P; p++ {
				for q := 0; q < Q; q++ {
					var s float64
					if b != nil {
						s = b[k]
					}
					for c := 0; c < g.C; c++ {
						for r := 0; r < g.R; r++ {
							iy := p*g.StrideH - g.PadH + r*g.DilH
							if iy < 0 || iy >= g.H {
								continue
							}
							for t := 0; t < g.S; t++ {
								ix := q*g.StrideW - g.PadW + t*g.DilW
								if ix < 0 || ix >= g.W {
									continue
								}
								s += w[((k*g.C+c)*g.R+r)*g.S+t] * x[((i*g.C+c)*g.H+iy)*g.W+ix]
							}
						}
					}
					y[((i*g.K+k)*P+p)*Q+q] = s
				}
			}
		}
	}
	return y
}

// ReferenceBackwardData returns dx = ∂L/∂x (N×C×H×W) given dy = ∂L/∂y (N×K×P×Q):
// every input pixel gathers the gradients of the outputs it contributed to.
func ReferenceBackwardData(g Geometry, n int, dy, w []float64) []float64 {
	P, Q := g.OutH(), g.OutW()
	mustRefLen(g, n, "dy", len(dy), n*g.K*P*Q)
	mustRefLen(g, n, "w", len(w), g.K*g.C*g.R*g.S)
	dx := make([]float64, n*g.C*g.H*g.W)
	for i := 0; i < n; i++ {
		for k := 0; k < g.K; k++ {
			for p := 0; p < P; p++ {
				for q := 0; q < Q; q++ {
					d := dy[((i*g.K+k)*P+p)*Q+q]
					for c := 0; c < g.C; c++ {
						for r := 0; r < g.R; r++ {
							iy := p*g.StrideH - g.PadH + r*g.DilH
							if iy < 0 || iy >= g.H {
								continue
							}
							for t := 0; t < g.S; t++ {
								ix := q*g.StrideW - g.PadW + t*g.DilW
								if ix < 0 || ix >= g.W {
									continue
								}
								dx[((i*g.C+c)*g.H+iy)*g.W+ix] += w[((k*g.C+c)*g.R+r)*g.S+t] * d
							}
						}
					}
				}
			}
		}
	}
	return dx
}

// ReferenceBackwardFilter returns dw = ∂L/∂w (K×C×R×S) and db = ∂L/∂b (K) given the
// forward input x and dy = ∂L/∂y, summed over the batch.
func ReferenceBackwardFilter(g Geometry, n int, x, dy []float64) (dw, db []float64) {
	P, Q := g.OutH(), g.OutW()
	mustRefLen(g, n, "x", len(x), n*g.C*g.H*g.W)
	mustRefLen(g, n, "dy", len(dy), n*g.K*P*Q)
	dw = make([]float64, g.K*g.C*g.R*g.S)
	db = make([]float64, g.K)
	for i := 0; i < n; i++ {
		for k := 0; k < g.K; k++ {
			for p := 0; p < P; p++ {
				for q := 0; q < Q; q++ {
					d := dy[((i*g.K+k)*P+p)*Q+q]
					db[k] += d
					for c := 0; c < g.C; c++ {
						for r := 0; r < g.R; r++ {
							iy := p*g.StrideH - g.PadH + r*g.DilH
							if iy < 0 || iy >= g.H {
								continue
							}
							for t := 0; t < g.S; t++ {
								ix := q*g.StrideW - g.PadW + t*g.DilW
								if ix < 0 || ix >= g.W {
									continue
								}
								dw[((k*g.C+c)*g.R+r)*g.S+t] += x[((i*g.C+c)*g.H+iy)*g.W+ix] * d
							}
						}
					}
				}
			}
		}
	}
	return dw, db
}

func mustRefLen(g Geometry, n int, name string, got, want int) {
	if got < want {
		panic(fmt.Sprintf("conv: reference %v batch %d: %s has %d elements, want %d", g, n, name, got, want))
	}
}

// ToFloat64 returns x widened to float64.
func ToFloat64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// Abs returns |x| element-wise. Running a reference on Abs(x) and Abs(w) gives the
// per-element scale Σ|x||w| that rounding errors are bounded by (see CheckBound).
func Abs(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = math.Abs(v)
	}
	return y
}

// ErrorStats says how far a float32 result is from its float64 reference.
type ErrorStats struct {
	RelL2  float64 // ‖got−want‖₂ / ‖want‖₂ (the absolute L2 error when want is all zero)
	MaxAbs float64 // max |got−want|
	MaxRel float64 // MaxAbs / max |want| (MaxAbs when want is all zero)
	Worst  int     // index of the largest |got−want|
}

// Compare measures got against want. A NaN or Inf in got where want is finite, or a
// length mismatch, makes every statistic +Inf.
func Compare(got []float32, want []float64) ErrorStats {
	inf := math.Inf(1)
	if len(got) != len(want) {
		return ErrorStats{RelL2: inf, MaxAbs: inf, MaxRel: inf, Worst: -1}
	}
	var e ErrorStats
	var num, den, maxWant float64
	for i, w := range want {
		d := math.Abs(float64(got[i]) - w)
		if math.IsNaN(d) {
			if math.IsNaN(w) && math.IsNaN(float64(got[i])) {
				continue
			}
			d = inf
		}
		if d > e.MaxAbs {
			e.MaxAbs, e.Worst = d, i
		}
		num += d * d
		den += w * w
		maxWant = math.Max(maxWant, math.Abs(w))
	}
	e.RelL2 = math.Sqrt(num)
	if den > 0 {
		e.RelL2 /= math.Sqrt(den)
	}
	e.MaxRel = e.MaxAbs
	if maxWant > 0 {
		e.MaxRel /= maxWant
	}
	return e
}

// Within reports whether the statistics meet the tolerances relL2 and maxRel (see
// kernels.md §2: 1e-5 and 2e-5 for direct and implicit GEMM).
func (e ErrorStats) Within(relL2, maxRel float64) bool {
	return e.RelL2 <= relL2 && e.MaxRel <= maxRel
}

func (e ErrorStats) String() string {
	return fmt.Sprintf("relL2 %.3g, max|err| %.3g (%.3g of max|y|) at %d", e.RelL2, e.MaxAbs, e.MaxRel, e.Worst)
}

// CheckBound checks every element against |got−want| ≤ tol·scale, where scale is the
// reference run on absolute values (Σ|x||w| for a forward conv). This catches wrong
// outputs that cancel to near zero, which relative metrics forgive. It returns an
// error naming the first offending index.
func CheckBound(got []float32, want, scale []float64, tol float64) error {
	if len(got) != len(want) || len(want) != len(scale) {
		return fmt.Errorf("conv: CheckBound: lengths got %d, want %d, scale %d differ", len(got), len(want), len(scale))
	}
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(w) || math.IsInf(w, 0) {
			if g == w || (math.IsNaN(w) && math.IsNaN(g)) {
				continue
			}
			return fmt.Errorf("conv: element %d is %g, want %g", i, g, w)
		}
		// A tiny absolute floor keeps all-zero windows from demanding exactness
		// beyond float32's subnormal range.
		if d := math.Abs(g - w); !(d <= tol*scale[i]+1e-30) {
			return fmt.Errorf("conv: element %d is %g, want %g: |err| %.3g exceeds %g × %.3g", i, g, w, d, tol, scale[i])
		}
	}
	return nil
}

package asm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/govgg/govgg/asm"
)

// Tests of the layer kernels (relu, bias, bn, pool families). Every ISA path on this
// machine runs each kernel on sizes 1…67 and a few large ones (past the 64 Ki chunk),
// at start offsets 0–3, with sentinels around every output, and is compared with a
// float64 reference of the documented loop; NaN and ±Inf cases are compared with the
// pure-Go twin.

func ewSizes() []int {
	s := make([]int, 0, 72)
	for n := 1; n <= 67; n++ {
		s = append(s, n)
	}
	return append(s, 1000, 4099, 1<<16+7, 150001)
}

func ewRand(r *rand.Rand, s []float32) {
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
}

// ewClose reports whether got is within tol·(1+|want|) of want, or both are NaN.
func ewClose(got float32, want float64, tol float64) bool {
	if math.IsNaN(want) {
		return got != got
	}
	if math.IsInf(want, 0) {
		return float64(got) == want
	}
	return math.Abs(float64(got)-want) <= tol*(1+math.Abs(want))
}

// ewElementwise checks a kernel that maps nin input slices to one output slice
// elementwise (the output may be written in place over input 0 when inPlace).
func ewElementwise(t *testing.T, name string, nin int, inPlace bool, run func(out []float32, in [][]float32), ref func(in []float64) float64, tol float64) {
	eachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, uint64(nin)))
		for _, n := range ewSizes() {
			for off := 0; off < 4; off++ {
				in := make([][]float32, nin)
				alls := make([][]float32, nin)
				for k := range in {
					in[k], alls[k] = guarded(n, off)
					ewRand(r, in[k])
				}
				in64 := make([][]float64, nin)
				for k := range in {
					in64[k] = make([]float64, n)
					for i, v := range in[k] {
						in64[k][i] = float64(v)
					}
				}
				out, outAll := in[0], alls[0]
				if !inPlace {
					out, outAll = guarded(n, (off+1)%4)
				}
				run(out, in)
				what := fmt.Sprintf("%s n=%d off=%d", name, n, off)
				x := make([]float64, nin)
				for i := range out {
					for k := range x {
						x[k] = in64[k][i]
					}
					if want := ref(x); !ewClose(out[i], want, tol) {
						t.Fatalf("%s: element %d = %g, want %g (inputs %v)", what, i, out[i], want, x)
					}
				}
				if inPlace {
					checkGuards(t, what, outAll, n, off)
				} else {
					checkGuards(t, what, outAll, n, (off+1)%4)
					for k := range alls {
						checkGuards(t, what+" input", alls[k], n, off)
					}
				}
			}
		}
	})
}

// ewSpecials runs a kernel on inputs seeded with NaN, ±Inf, ±0 and checks every path
// against the generic twin bit for bit on the special outputs.
func ewSpecials(t *testing.T, name string, nin int, run func(out []float32, in [][]float32), tol float64) {
	const n = 67
	mk := func() (out []float32, in [][]float32) {
		r := rand.New(rand.NewPCG(9, 9))
		in = make([][]float32, nin)
		for k := range in {
			in[k] = make([]float32, n)
			ewRand(r, in[k])
			for i, v := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1))} {
				in[k][(i*13+k*5)%n] = v
				in[k][(i*13+k*5+40)%n] = v
			}
		}
		return make([]float32, n), in
	}
	restore, _ := asm.SetImpl(asm.Generic)
	want, win := mk()
	run(want, win)
	restore()
	eachISA(t, func(t *testing.T) {
		got, in := mk()
		run(got, in)
		for i := range got {
			w := float64(want[i])
			if !ewClose(got[i], w, tol) {
				t.Fatalf("%s: element %d = %g, twin has %g", name, i, got[i], w)
			}
		}
	})
}

func TestReLUKernel(t *testing.T) {
	run := func(out []float32, in [][]float32) { asm.ReLU(out, in[0]) }
	ref := func(x []float64) float64 { return max(x[0], 0) }
	ewElementwise(t, "ReLU", 1, false, run, ref, 0)
	ewElementwise(t, "ReLU in place", 1, true, run, ref, 0)
	ewSpecials(t, "ReLU", 1, run, 0)
}

func TestReLUNaN(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		for n := 1; n <= 40; n++ {
			x := make([]float32, n)
			x[n-1] = float32(math.NaN())
			asm.ReLU(x, x)
			if x[n-1] == x[n-1] {
				t.Fatalf("n=%d: ReLU(NaN) = %g, want NaN like PyTorch", n, x[n-1])
			}
		}
	})
}

func TestReLUBackwardKernel(t *testing.T) {
	run := func(out []float32, in [][]float32) { asm.ReLUBackward(out, in[0], in[1]) }
	ref := func(x []float64) float64 {
		if x[1] <= 0 {
			return 0
		}
		return x[0]
	}
	ewElementwise(t, "ReLUBackward", 2, false, run, ref, 0)
	ewElementwise(t, "ReLUBackward in place", 2, true, run, ref, 0)
	ewSpecials(t, "ReLUBackward", 2, run, 0)
}

func TestAddBiasKernel(t *testing.T) {
	for _, relu := range []bool{false, true} {
		name := fmt.Sprint("AddBias relu=", relu)
		run := func(out []float32, in [][]float32) {
			copy(out, in[0])
			asm.AddBias(out, []float32{0.375}, len(out), relu)
		}
		ref := func(x []float64) float64 {
			v := float64(float32(x[0] + 0.375))
			if relu {
				v = max(v, 0)
			}
			return v
		}
		ewElementwise(t, name, 1, false, run, ref, 0)
		ewSpecials(t, name, 1, run, 0)
	}
}

func TestAddBiasPlanes(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		const hw = 37
		b := []float32{1, -2, 3}
		x, all := guarded(len(b)*hw, 1)
		for i := range x {
			x[i] = float32(i % 5)
		}
		asm.AddBias(x, b, hw, true)
		for i, v := range x {
			if want := max(float32(i%5)+b[i/hw], 0); v != want {
				t.Fatalf("x[%d] = %g, want %g", i, v, want)
			}
		}
		checkGuards(t, "AddBias planes", all, len(b)*hw, 1)
	})
}

func TestScaleShiftKernel(t *testing.T) {
	run := func(out []float32, in [][]float32) { asm.ScaleShift(out, in[0], 0.75, 1.25, -0.5) }
	ref := func(x []float64) float64 { return (x[0]-0.75)*1.25 - 0.5 }
	ewElementwise(t, "ScaleShift", 1, false, run, ref, 1e-7)
	ewElementwise(t, "ScaleShift in place", 1, true, run, ref, 1e-7)
	ewSpecials(t, "ScaleShift", 1, run, 1e-7)
}

func TestAxpByCKernel(t *testing.T) {
	run := func(out []float32, in [][]float32) { asm.AxpByC(out, in[0], in[1], -0.375, 0.75, -1.5, 0.25) }
	ref := func(x []float64) float64 { return 0.75*x[0] - 1.5*(x[1]+0.375) + 0.25 }
	ewElementwise(t, "AxpByC", 2, false, run, ref, 2e-6)
	ewElementwise(t, "AxpByC in place", 2, true, run, ref, 2e-6)
	ewSpecials(t, "AxpByC", 2, run, 2e-6)
}

func TestSumSqSumDotKernels(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, n := range append([]int{0}, ewSizes()...) {
			for off := 0; off < 4; off++ {
				x, _ := guarded(n, off)
				dy, _ := guarded(n, 3-off)
				ewRand(r, x)
				ewRand(r, dy)
				for i := range x {
					x[i] += 3 // a mean well away from 0, as batch-norm inputs have
				}
				var s, q, sd, sdx, mag float64
				for i, v := range x {
					s += float64(v)
					q += float64(v) * float64(v)
					sd += float64(dy[i])
					sdx += float64(dy[i]) * float64(v)
					mag += math.Abs(float64(dy[i]) * float64(v))
				}
				gs, gq := asm.SumSq(x)
				gsd, gsdx := asm.SumDot(dy, x)
				// float64 sums in another order: errors near 1e-16 relative to Σ|terms|.
				tol := 1e-12 * (1 + q + mag)
				if math.Abs(gs-s) > tol || math.Abs(gq-q) > tol || math.Abs(gsd-sd) > tol || math.Abs(gsdx-sdx) > tol {
					t.Fatalf("n=%d off=%d: SumSq = %g, %g want %g, %g; SumDot = %g, %g want %g, %g", n, off, gs, gq, s, q, gsd, gsdx, sd, sdx)
				}
			}
		}
	})
}

func TestSumSqNaNInf(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		for n := 1; n <= 40; n++ {
			x := make([]float32, n)
			x[n-1] = float32(math.NaN())
			if s, q := asm.SumSq(x); !math.IsNaN(s) || !math.IsNaN(q) {
				t.Fatalf("n=%d: SumSq with a NaN = %g, %g", n, s, q)
			}
			x[n-1] = float32(math.Inf(-1))
			if s, q := asm.SumSq(x); !math.IsInf(s, -1) || !math.IsInf(q, 1) {
				t.Fatalf("n=%d: SumSq with -Inf = %g, %g", n, s, q)
			}
			if s, d := asm.SumDot(x, x); !math.IsInf(s, -1) || !math.IsInf(d, 1) {
				t.Fatalf("n=%d: SumDot with -Inf = %g, %g", n, s, d)
			}
		}
	})
}

// refMaxPool2x2 is the float64-free reference of MaxPool2x2 for one plane, in
// PyTorch's scan order.
func refMaxPool2x2(x []float32, h, w int) ([]float32, []int32) {
	oh, ow := h/2, w/2
	y, idx := make([]float32, oh*ow), make([]int32, oh*ow)
	for i := 0; i < oh; i++ {
		for j := 0; j < ow; j++ {
			m, k := float32(math.Inf(-1)), (2*i)*w+2*j
			for r := 2 * i; r < 2*i+2; r++ {
				for c := 2 * j; c < 2*j+2; c++ {
					if v := x[r*w+c]; v > m || v != v {
						m, k = v, r*w+c
					}
				}
			}
			y[i*ow+j], idx[i*ow+j] = m, int32(k)
		}
	}
	return y, idx
}

func poolShapes() [][2]int {
	var s [][2]int
	for _, h := range []int{2, 3, 5} {
		for w := 2; w <= 70; w++ {
			s = append(s, [2]int{h, w})
		}
	}
	return append(s, [2]int{224, 224}, [2]int{112, 112}, [2]int{56, 56}, [2]int{28, 28}, [2]int{14, 14}, [2]int{7, 7}, [2]int{9, 601}, [2]int{600, 9})
}

func TestMaxPool2x2Kernel(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, hw := range poolShapes() {
			h, w := hw[0], hw[1]
			for off := 0; off < 4; off++ {
				n := (h / 2) * (w / 2)
				x, xall := guarded(h*w, off)
				ewRand(r, x)
				// Ties: some windows hold repeated values.
				for i := 0; i+1 < len(x); i += 7 {
					x[i+1] = x[i]
				}
				y, yall := guarded(n, 3-off)
				idxAll := make([]int32, n+2*guardLen)
				for i := range idxAll {
					idxAll[i] = -7
				}
				idx := idxAll[guardLen : guardLen+n]
				asm.MaxPool2x2(y, idx, x, h, w)
				wy, widx := refMaxPool2x2(x, h, w)
				for i := range wy {
					if y[i] != wy[i] || idx[i] != widx[i] {
						t.Fatalf("%d×%d off=%d: output %d = %g at %d, want %g at %d", h, w, off, i, y[i], idx[i], wy[i], widx[i])
					}
				}
				what := fmt.Sprintf("MaxPool2x2 %d×%d off=%d", h, w, off)
				checkGuards(t, what, yall, n, 3-off)
				checkGuards(t, what+" input", xall, h*w, off)
				for i, v := range idxAll {
					if (i < guardLen || i >= guardLen+n) && v != -7 {
						t.Fatalf("%s: index written outside the slice at %d", what, i)
					}
				}
			}
		}
	})
}

func TestMaxPool2x2NaN(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		const h, w = 4, 70
		nan := float32(math.NaN())
		for pos := 0; pos < h*w; pos += 3 {
			x := make([]float32, h*w)
			for i := range x {
				x[i] = float32(i % 11)
			}
			x[pos] = nan
			if pos+1 < len(x) && pos%5 == 0 {
				x[pos+1] = nan // two NaNs in a window: the later one is reported
			}
			y, idx := make([]float32, h*w/4), make([]int32, h*w/4)
			asm.MaxPool2x2(y, idx, x, h, w)
			wy, widx := refMaxPool2x2(x, h, w)
			for i := range wy {
				if (y[i] != y[i]) != (wy[i] != wy[i]) || (wy[i] == wy[i] && y[i] != wy[i]) || idx[i] != widx[i] {
					t.Fatalf("NaN at %d: output %d = %g at %d, want %g at %d", pos, i, y[i], idx[i], wy[i], widx[i])
				}
			}
		}
	})
}

func TestMaxPool2x2BackwardKernel(t *testing.T) {
	eachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, hw := range poolShapes() {
			h, w := hw[0], hw[1]
			n := (h / 2) * (w / 2)
			x := make([]float32, h*w)
			ewRand(r, x)
			_, idx := refMaxPool2x2(x, h, w)
			for off := 0; off < 4; off++ {
				dy, _ := guarded(n, off)
				ewRand(r, dy)
				dx, dxall := guarded(h*w, 3-off)
				asm.MaxPool2x2Backward(dx, idx, dy, h, w)
				want := make([]float32, h*w)
				for o, k := range idx {
					want[k] += dy[o]
				}
				for i := range want {
					if dx[i] != want[i] {
						t.Fatalf("%d×%d off=%d: dx[%d] = %g, want %g", h, w, off, i, dx[i], want[i])
					}
				}
				checkGuards(t, fmt.Sprintf("MaxPool2x2Backward %d×%d off=%d", h, w, off), dxall, h*w, 3-off)
			}
		}
	})
}

// The benchmarks run every kernel on every ISA path on one VGG-sized activation
// (64 channels of 112×112, 3.2 MB), so the paths compare side by side.
func ewBench(b *testing.B, bytesPerElem int, fn func(n int)) {
	const n = 64 * 112 * 112
	for _, isa := range asm.Supported() {
		b.Run(isa.String(), func(b *testing.B) {
			restore, _ := asm.SetImpl(isa)
			defer restore()
			b.SetBytes(int64(n * bytesPerElem))
			for b.Loop() {
				fn(n)
			}
		})
	}
}

var ewX, ewY, ewZ = make([]float32, 64*112*112), make([]float32, 64*112*112), make([]float32, 64*112*112)

func init() {
	r := rand.New(rand.NewPCG(1, 1))
	ewRand(r, ewX)
	ewRand(r, ewY)
}

func BenchmarkReLU(b *testing.B) {
	ewBench(b, 8, func(n int) { asm.ReLU(ewZ[:n], ewX[:n]) })
}

func BenchmarkReLUBackward(b *testing.B) {
	ewBench(b, 12, func(n int) { asm.ReLUBackward(ewZ[:n], ewY[:n], ewX[:n]) })
}

func BenchmarkScaleShift(b *testing.B) {
	ewBench(b, 8, func(n int) { asm.ScaleShift(ewZ[:n], ewX[:n], 0.5, 1.5, 0.25) })
}

func BenchmarkSumSq(b *testing.B) {
	ewBench(b, 4, func(n int) { asm.SumSq(ewX[:n]) })
}

func BenchmarkSumDot(b *testing.B) {
	ewBench(b, 8, func(n int) { asm.SumDot(ewY[:n], ewX[:n]) })
}

func BenchmarkAxpByC(b *testing.B) {
	ewBench(b, 12, func(n int) { asm.AxpByC(ewZ[:n], ewY[:n], ewX[:n], 0.5, 0.5, -0.25, 0.125) })
}

var ewIdx = make([]int32, 64*56*56)

func BenchmarkMaxPool2x2(b *testing.B) {
	// 64 planes of 112×112 → 56×56: reads the input, writes a quarter plus indices.
	ewBench(b, 6, func(n int) {
		for p := 0; p < 64; p++ {
			asm.MaxPool2x2(ewZ[p*56*56:(p+1)*56*56], ewIdx[p*56*56:(p+1)*56*56], ewX[p*112*112:(p+1)*112*112], 112, 112)
		}
	})
}

func BenchmarkMaxPool2x2Backward(b *testing.B) {
	for p := 0; p < 64; p++ {
		asm.MaxPool2x2(ewZ[p*56*56:(p+1)*56*56], ewIdx[p*56*56:(p+1)*56*56], ewX[p*112*112:(p+1)*112*112], 112, 112)
	}
	ewBench(b, 6, func(n int) {
		for p := 0; p < 64; p++ {
			asm.MaxPool2x2Backward(ewY[p*112*112:(p+1)*112*112], ewIdx[p*56*56:(p+1)*56*56], ewZ[p*56*56:(p+1)*56*56], 112, 112)
		}
	})
}

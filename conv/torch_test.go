package conv

import (
	"encoding/json"
	"os"
	"testing"
)

// torchCase is one geometry of testdata/torch_conv.json, written by
// testdata/make_fixtures.py from PyTorch's conv2d in float64.
type torchCase struct {
	Name                   string
	C, K, H, W, R, S       int
	StrideH, StrideW       int
	PadH, PadW, DilH, DilW int
	N                      int
	X, W_, B, DY           []float64
	Y, DX, DW, DB          []float64
}

// UnmarshalJSON reads the weights "w" into W_: encoding/json matches names
// case-insensitively, so "w" would otherwise collide with the width "W".
func (c *torchCase) UnmarshalJSON(data []byte) error {
	type plain torchCase
	var v struct {
		plain
		Wt []float64 `json:"w"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*c = torchCase(v.plain)
	c.W_ = v.Wt
	return nil
}

func (c *torchCase) geometry() Geometry {
	return Geometry{C: c.C, K: c.K, H: c.H, W: c.W, R: c.R, S: c.S, StrideH: c.StrideH, StrideW: c.StrideW,
		PadH: c.PadH, PadW: c.PadW, DilH: c.DilH, DilW: c.DilW}
}

func loadTorchCases(t *testing.T) []torchCase {
	t.Helper()
	data, err := os.ReadFile("testdata/torch_conv.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []torchCase }
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("testdata/torch_conv.json: %v", err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("testdata/torch_conv.json has no cases")
	}
	return f.Cases
}

func toF32(v []float64) []float32 {
	if v == nil {
		return nil
	}
	o := make([]float32, len(v))
	for i, e := range v {
		o[i] = float32(e)
	}
	return o
}

// TestReferenceMatchesTorch checks that the float64 references compute PyTorch's
// conv2d and its gradients: padding, stride and dilation conventions included.
func TestReferenceMatchesTorch(t *testing.T) {
	for _, c := range loadTorchCases(t) {
		g := c.geometry()
		if err := g.Validate(); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		dw, db := ReferenceBackwardFilter(g, c.N, c.X, c.DY)
		for _, r := range []struct {
			what      string
			got, want []float64
		}{
			{"y", ReferenceForward(g, c.N, c.X, c.W_, c.B), c.Y},
			{"dx", ReferenceBackwardData(g, c.N, c.DY, c.W_), c.DX},
			{"dw", dw, c.DW},
			{"db", db, c.DB},
		} {
			if len(r.got) != len(r.want) {
				t.Fatalf("%s %s: %d elements, PyTorch %d", c.Name, r.what, len(r.got), len(r.want))
			}
			for i := range r.want {
				if d := r.got[i] - r.want[i]; d > 1e-9 || d < -1e-9 {
					t.Errorf("%s %s[%d] = %.12g, PyTorch %.12g", c.Name, r.what, i, r.got[i], r.want[i])
					break
				}
			}
		}
	}
}

// TestPlanMatchesTorch checks every pass of an implicit-GEMM plan against PyTorch
// on each ISA.
func TestPlanMatchesTorch(t *testing.T) {
	for _, c := range loadTorchCases(t) {
		g := c.geometry()
		t.Run(c.Name, func(t *testing.T) {
			forEachISA(t, func(t *testing.T) {
				p, err := NewPlan(g, WithAlgorithm(Im2col))
				if err != nil {
					t.Fatal(err)
				}
				if err := p.SetWeights(toF32(c.W_), toF32(c.B)); err != nil {
					t.Fatal(err)
				}
				x, dy := toF32(c.X), toF32(c.DY)
				y := make([]float32, len(c.Y))
				dx := make([]float32, len(c.DX))
				dw := make([]float32, len(c.DW))
				db := make([]float32, len(c.DB))
				if err := p.Forward(y, x, c.N); err != nil {
					t.Fatal(err)
				}
				if err := p.BackwardData(dx, dy, c.N); err != nil {
					t.Fatal(err)
				}
				if err := p.BackwardFilter(dw, db, x, dy, c.N); err != nil {
					t.Fatal(err)
				}
				for _, r := range []struct {
					what string
					got  []float32
					want []float64
				}{{"y", y, c.Y}, {"dx", dx, c.DX}, {"dw", dw, c.DW}, {"db", db, c.DB}} {
					if e := Compare(r.got, r.want); !e.Within(tolRelL2, tolMaxRel) {
						t.Errorf("%s: %v", r.what, e)
					}
				}
			})
		})
	}
}

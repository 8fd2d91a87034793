package layers

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/govgg/govgg/tensor"
)

// The fixtures come from PyTorch 1.13 autograd (testdata/make_fixtures.py).

type fxTensor struct {
	Shape []int    `json:"shape"`
	Bits  []uint32 `json:"bits"`
}

func (f *fxTensor) data() []float32 {
	d := make([]float32, len(f.Bits))
	for i, b := range f.Bits {
		d[i] = math.Float32frombits(b)
	}
	return d
}

func (f *fxTensor) tensor(t testing.TB) *tensor.Tensor {
	if len(f.Shape) == 0 {
		x := tensor.New()
		copy(x.Data(), f.data())
		return x
	}
	return mustTensor(t, f.data(), f.Shape...)
}

type fxLayer struct {
	Name         string              `json:"name"`
	Args         map[string]any      `json:"args"`
	Training     bool                `json:"training"`
	X            fxTensor            `json:"x"`
	Params       map[string]fxTensor `json:"params"`
	Buffers      map[string]fxTensor `json:"buffers"`
	Y            fxTensor            `json:"y"`
	DY           fxTensor            `json:"dy"`
	DX           fxTensor            `json:"dx"`
	Grads        map[string]fxTensor `json:"grads"`
	BuffersAfter map[string]fxTensor `json:"buffers_after"`
}

type fxCE struct {
	Name      string    `json:"name"`
	Smoothing float32   `json:"smoothing"`
	Logits    fxTensor  `json:"logits"`
	Labels    []int     `json:"labels"`
	Target    *fxTensor `json:"target"`
	Loss      fxTensor  `json:"loss"`
	DLogits   fxTensor  `json:"dlogits"`
}

type fxNetwork struct {
	X          fxTensor            `json:"x"`
	Labels     []int               `json:"labels"`
	State      map[string]fxTensor `json:"state"`
	Logits     fxTensor            `json:"logits"`
	Loss       fxTensor            `json:"loss"`
	Grads      map[string]fxTensor `json:"grads"`
	StateAfter map[string]fxTensor `json:"state_after"`
	LogitsEval fxTensor            `json:"logits_eval"`
}

type fxFile struct {
	Torch        string    `json:"torch"`
	Layers       []fxLayer `json:"layers"`
	CrossEntropy []fxCE    `json:"cross_entropy"`
	Network      fxNetwork `json:"network"`
}

func loadFixtures(t *testing.T) *fxFile {
	b, err := os.ReadFile("testdata/fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fxFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("testdata/fixtures.json: %v", err)
	}
	return &f
}

// sameFloats compares got with PyTorch's want: NaN where PyTorch has NaN, else
// |got−want| ≤ tol·max(1, max|want|).
func sameFloats(t *testing.T, what string, got []float32, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, PyTorch has %d", what, len(got), len(want))
	}
	scale := 1.0
	for _, w := range want {
		if !math.IsNaN(float64(w)) {
			scale = max(scale, math.Abs(float64(w)))
		}
	}
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(w) != math.IsNaN(g) || (!math.IsNaN(w) && math.Abs(g-w) > tol*scale) {
			t.Errorf("%s[%d] = %g, PyTorch has %g", what, i, g, w)
			return
		}
	}
}

func fxArg(c fxLayer, k string) int { return int(c.Args[k].(float64)) }

func fxBuild(t *testing.T, c fxLayer) Layer {
	switch c.Args["kind"] {
	case "conv2d":
		l, err := NewConv2d(fxArg(c, "inC"), fxArg(c, "outC"), fxArg(c, "kernel"), fxArg(c, "stride"), fxArg(c, "padding"), c.Args["bias"].(bool))
		if err != nil {
			t.Fatal(err)
		}
		return l
	case "batchnorm2d":
		return NewBatchNorm2d(fxArg(c, "c"))
	case "relu":
		return NewReLU()
	case "maxpool2d":
		return NewMaxPool2d(fxArg(c, "kernel"), fxArg(c, "stride"))
	case "adaptiveavgpool2d":
		return NewAdaptiveAvgPool2d(fxArg(c, "h"), fxArg(c, "w"))
	case "linear":
		return NewLinear(fxArg(c, "inF"), fxArg(c, "outF"), c.Args["bias"].(bool))
	case "softmax":
		return NewSoftmax()
	}
	t.Fatalf("unknown fixture layer %v", c.Args["kind"])
	return nil
}

// loadState copies fixture tensors into the params and buffers of the same names.
func loadState(t *testing.T, ps []*Param, state map[string]fxTensor) {
	t.Helper()
	for _, p := range ps {
		f, ok := state[p.Name]
		if !ok {
			t.Fatalf("fixture has no %q", p.Name)
		}
		if len(f.Bits) != p.Value.Len() {
			t.Fatalf("%s: fixture has %d values, layer %d", p.Name, len(f.Bits), p.Value.Len())
		}
		copy(p.Value.Data(), f.data())
	}
}

func TestPyTorchLayers(t *testing.T) {
	f := loadFixtures(t)
	for _, c := range f.Layers {
		t.Run(c.Name, func(t *testing.T) {
			forEachISA(t, func(t *testing.T) {
				l := fxBuild(t, c)
				loadState(t, l.Params(), c.Params)
				loadState(t, l.Buffers(), c.Buffers)
				l.ParamsChanged()
				l.SetTraining(c.Training)
				y, err := l.Forward(c.X.tensor(t))
				if err != nil {
					t.Fatal(err)
				}
				if !tensor.SameShape(y.Shape(), c.Y.Shape) {
					t.Fatalf("output shape %v, PyTorch %v", y.Shape(), c.Y.Shape)
				}
				sameFloats(t, "y", y.Data(), c.Y.data(), 1e-5)
				dx, err := l.Backward(c.DY.tensor(t))
				if err != nil {
					t.Fatal(err)
				}
				sameFloats(t, "dx", dx.Data(), c.DX.data(), 1e-5)
				for _, p := range l.Params() {
					g := c.Grads[p.Name]
					sameFloats(t, "d"+p.Name, p.Grad.Data(), g.data(), 1e-5)
				}
				for _, p := range l.Buffers() {
					b := c.BuffersAfter[p.Name]
					sameFloats(t, p.Name, p.Value.Data(), b.data(), 1e-6)
				}
			})
		})
	}
}

func TestPyTorchCrossEntropy(t *testing.T) {
	f := loadFixtures(t)
	for _, c := range f.CrossEntropy {
		t.Run(c.Name, func(t *testing.T) {
			ce, err := NewCrossEntropy(c.Smoothing)
			if err != nil {
				t.Fatal(err)
			}
			var loss float32
			var g *tensor.Tensor
			if c.Target != nil {
				loss, g, err = ce.ForwardSoft(c.Logits.tensor(t), c.Target.tensor(t))
			} else {
				loss, g, err = ce.Forward(c.Logits.tensor(t), c.Labels)
			}
			if err != nil {
				t.Fatal(err)
			}
			sameFloats(t, "loss", []float32{loss}, c.Loss.data(), 1e-6)
			sameFloats(t, "dlogits", g.Data(), c.DLogits.data(), 1e-6)
		})
	}
}

// TestPyTorchNetwork runs one training step of a small VGG-shaped network and
// compares logits, loss, every gradient and the updated running statistics.
func TestPyTorchNetwork(t *testing.T) {
	f := loadFixtures(t)
	fx := f.Network
	forEachISA(t, func(t *testing.T) {
		c1, _ := NewConv2d(3, 8, 3, 1, 1, true)
		c2, _ := NewConv2d(8, 16, 3, 1, 1, true)
		net := NewSequential(c1, NewBatchNorm2d(8), NewReLU(), NewMaxPool2d(2, 2),
			c2, NewBatchNorm2d(16), NewReLU(), NewMaxPool2d(2, 2),
			NewAdaptiveAvgPool2d(2, 2), NewFlatten(), NewLinear(64, 32, true), NewReLU(), NewLinear(32, 10, true))
		loadState(t, append(net.Params(), net.Buffers()...), fx.State)
		net.ParamsChanged()
		net.SetTraining(true)
		logits, err := net.Forward(fx.X.tensor(t))
		if err != nil {
			t.Fatal(err)
		}
		sameFloats(t, "logits", logits.Data(), fx.Logits.data(), 1e-5)
		ce, _ := NewCrossEntropy(0.1)
		loss, g, err := ce.Forward(logits, fx.Labels)
		if err != nil {
			t.Fatal(err)
		}
		sameFloats(t, "loss", []float32{loss}, fx.Loss.data(), 1e-5)
		if _, err := net.Backward(g); err != nil {
			t.Fatal(err)
		}
		for _, p := range net.Params() {
			w := fx.Grads[p.Name]
			sameFloats(t, "d"+p.Name, p.Grad.Data(), w.data(), 1e-4)
		}
		for _, p := range net.Buffers() {
			w := fx.StateAfter[p.Name]
			sameFloats(t, p.Name, p.Value.Data(), w.data(), 1e-5)
		}
		// Evaluation mode, with the batch norms folded into the convs and the
		// ReLUs fused, against PyTorch's eval() output.
		net.SetTraining(false)
		if net.Layers()[0].(*Conv2d).foldBN == nil {
			t.Fatal("evaluation mode did not fold the batch norm")
		}
		eval, err := net.Forward(fx.X.tensor(t))
		if err != nil {
			t.Fatal(err)
		}
		sameFloats(t, "eval logits", eval.Data(), fx.LogitsEval.data(), 1e-5)
	})
}

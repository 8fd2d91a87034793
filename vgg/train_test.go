package vgg

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/conv"
	"github.com/govgg/govgg/layers"
	"github.com/govgg/govgg/optim"
	"github.com/govgg/govgg/tensor"
	"github.com/govgg/govgg/weights"
)

// Ten SGD-momentum steps of a small VGG-11-BN (batch statistics, label-smoothed cross
// entropy, weight decay on everything) give PyTorch's losses and weights
// (testdata/make_train_fixture.py), on every kernel path.
func TestTrainingMatchesPyTorch(t *testing.T) {
	final, err := weights.ReadFile("testdata/train_vgg11_bn_w16_final.safetensors")
	require.NoError(t, err)
	var want []float64
	require.NoError(t, json.Unmarshal([]byte(final.Metadata["losses"]), &want))
	wantBy := map[string]*tensor.Tensor{}
	for _, n := range final.Tensors {
		wantBy[n.Name] = n.Tensor
	}

	for _, isa := range asm.Supported() {
		for _, algo := range []conv.Algorithm{conv.Im2col, conv.Auto} {
			t.Run(isa.String()+"/"+algo.String(), func(t *testing.T) {
				restore, err := asm.SetImpl(isa)
				require.NoError(t, err)
				defer restore()
				m, err := New11(WithBatchNorm(true), WithWidthDivisor(16), WithHidden(8), WithNumClasses(10), WithDropout(0), WithConvOptions(conv.WithAlgorithm(algo)))
				require.NoError(t, err)
				require.NoError(t, m.LoadWeights("testdata/train_vgg11_bn_w16_init.safetensors"))
				m.SetTraining(true)
				opt, err := optim.NewSGD(m.Params(), optim.WithLR(0.02), optim.WithMomentum(0.9),
					optim.WithWeightDecay(1e-4), optim.WithDecayFilter(optim.FilterDisable), optim.WithParamsChanged(m.ParamsChanged))
				require.NoError(t, err)
				ce, err := layers.NewCrossEntropy(0.1)
				require.NoError(t, err)
				x := tensor.New(8, 3, 32, 32)
				for i := range x.Data() {
					x.Data()[i] = inputValue(i)
				}
				labels := []int{0, 1, 2, 3, 4, 5, 6, 7}

				for step, w := range want {
					logits, err := m.Forward(x)
					require.NoError(t, err)
					loss, grad, err := ce.Forward(logits, labels)
					require.NoError(t, err)
					require.InEpsilon(t, w, float64(loss), 1e-4, "loss at step %d", step)
					require.NoError(t, m.Backward(grad))
					require.NoError(t, opt.Step())
				}
				worst, at := 0.0, ""
				for _, p := range m.StateDict() {
					exp, ok := wantBy[p.Name]
					require.True(t, ok, p.Name)
					if e := tensorRelErr(p.Value.Data(), exp.Data()); e > worst {
						worst, at = e, p.Name
					}
				}
				t.Logf("worst relative error %.3g at %s", worst, at)
				require.LessOrEqual(t, worst, 1e-4, at)
			})
		}
	}
}

// tensorRelErr is max|a-b| / max|b| (absolute when b is all zero).
func tensorRelErr(a, b []float32) float64 {
	var e, s float64
	for i := range b {
		e = math.Max(e, math.Abs(float64(a[i]-b[i])))
		s = math.Max(s, math.Abs(float64(b[i])))
	}
	if s == 0 {
		return e
	}
	return e / s
}

func ExampleModel_Backward() {
	m, err := New11(WithBatchNorm(true), WithWidthDivisor(16), WithHidden(16), WithNumClasses(10))
	if err != nil {
		panic(err)
	}
	m.SetTraining(true)
	opt, _ := optim.NewSGD(m.Params(), optim.WithLR(0.01), optim.WithMomentum(0.9), optim.WithParamsChanged(m.ParamsChanged))
	ce, _ := layers.NewCrossEntropy(0.1)
	x := tensor.New(4, 3, 32, 32)
	for i := range x.Data() {
		x.Data()[i] = inputValue(i)
	}
	labels := []int{0, 1, 2, 3}
	var first, last float32
	for step := 0; step < 20; step++ {
		logits, _ := m.Forward(x)
		loss, grad, _ := ce.Forward(logits, labels)
		if step == 0 {
			first = loss
		}
		last = loss
		_ = m.Backward(grad)
		_ = opt.Step()
	}
	fmt.Println("loss fell:", last < first)
	// Output: loss fell: true
}

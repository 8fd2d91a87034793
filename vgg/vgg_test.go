package vgg

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/govgg/govgg/asm"
	"github.com/govgg/govgg/conv"
	"github.com/govgg/govgg/tensor"
	"github.com/govgg/govgg/weights"
)

// inputValue is make_fixtures.py's input_value: inputs are computed, not stored.
func inputValue(i int) float32 {
	return float32(math.Sin(0.0137*float64(i)) * math.Cos(0.0021*float64(i)+0.5) * 1.5)
}

type fixture struct {
	path   string
	opts   []Option
	cfg    Config
	shape  []int
	logits []float64
}

func loadFixture(t testing.TB, path string) fixture {
	t.Helper()
	f, err := weights.ReadFile(path)
	require.NoError(t, err)
	md := f.Metadata
	atoi := func(k string) int {
		v, err := strconv.Atoi(md[k])
		require.NoError(t, err, k)
		return v
	}
	cfg, _, err := ParseName(md["model"])
	require.NoError(t, err)
	fl, err := ParseFlavour(md["flavour"])
	require.NoError(t, err)
	fx := fixture{path: path, cfg: cfg, opts: []Option{
		WithBatchNorm(md["batch_norm"] == "true"), WithFlavour(fl), WithWidthDivisor(atoi("width_divisor")),
		WithHidden(atoi("hidden")), WithNumClasses(atoi("num_classes")), WithInChannels(atoi("in_channels")),
	}}
	require.NoError(t, json.Unmarshal([]byte(md["input_shape"]), &fx.shape))
	require.NoError(t, json.Unmarshal([]byte(md["logits"]), &fx.logits))
	return fx
}

func (fx fixture) input() *tensor.Tensor {
	x := tensor.New(fx.shape...)
	for i := range x.Data() {
		x.Data()[i] = inputValue(i)
	}
	return x
}

// relMaxErr is max|got-want| / max|want|.
func relMaxErr(got []float32, want []float64) float64 {
	var e, s float64
	for i := range want {
		e = math.Max(e, math.Abs(float64(got[i])-want[i]))
		s = math.Max(s, math.Abs(want[i]))
	}
	return e / s
}

var fixtures = []string{"vgg11_w16", "vgg13_bn_w16", "vgg16_w16_gray", "vgg19_bn_w16", "vgg11_bn_mindcv_w16"}

// Logits equal PyTorch's on every kernel path: within 1e-4 with the im2col GEMM, 1e-3
// with the planner's choice (Winograd where it applies).
func TestForwardMatchesPyTorch(t *testing.T) {
	for _, name := range fixtures {
		fx := loadFixture(t, filepath.Join("testdata", name+".safetensors"))
		for _, isa := range asm.Supported() {
			for _, algo := range []conv.Algorithm{conv.Im2col, conv.Auto} {
				t.Run(fmt.Sprintf("%s/%s/%s", name, isa, algo), func(t *testing.T) {
					restore, err := asm.SetImpl(isa)
					require.NoError(t, err)
					defer restore()
					m, err := New(fx.cfg, append(fx.opts, WithConvOptions(conv.WithAlgorithm(algo)))...)
					require.NoError(t, err)
					require.NoError(t, m.LoadWeights(fx.path))
					y, err := m.Forward(fx.input())
					require.NoError(t, err)
					require.Equal(t, []int{fx.shape[0], len(fx.logits) / fx.shape[0]}, y.Shape())
					tol := 1e-4
					if algo == conv.Auto {
						tol = 1e-3
					}
					require.LessOrEqual(t, relMaxErr(y.Data(), fx.logits), tol)
				})
			}
		}
	}
}

// The same weights saved by torch.save load from the .pth and give PyTorch's logits.
func TestLoadPyTorchCheckpoint(t *testing.T) {
	fx := loadFixture(t, "testdata/vgg11_w16.safetensors")
	m, err := New(fx.cfg, fx.opts...)
	require.NoError(t, err)
	require.NoError(t, m.LoadWeights("testdata/vgg11_w16.pth"))
	y, err := m.Forward(fx.input())
	require.NoError(t, err)
	require.LessOrEqual(t, relMaxErr(y.Data(), fx.logits), 1e-4)
}

func TestPredictMatchesPyTorch(t *testing.T) {
	var want struct {
		Logits []float64 `json:"logits"`
	}
	raw, err := os.ReadFile("testdata/photo_vgg11_w16.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &want))
	fx := loadFixture(t, "testdata/vgg11_w16.safetensors")
	names := make([]string, 10)
	for i := range names {
		names[i] = fmt.Sprintf("label%d", i)
	}
	m, err := New(fx.cfg, append(fx.opts, WithClassNames(names))...)
	require.NoError(t, err)
	require.NoError(t, m.LoadWeights(fx.path))
	got, err := m.Predict(readPNG(t, "testdata/photo.png"), 3)
	require.NoError(t, err)
	require.Len(t, got, 3)

	logits := make([]float32, len(want.Logits))
	for i, v := range want.Logits {
		logits[i] = float32(v)
	}
	exp := TopK(logits, 3, names)
	for i := range exp {
		require.Equal(t, exp[i].Class, got[i].Class)
		require.Equal(t, exp[i].Label, got[i].Label)
		require.InDelta(t, exp[i].Probability, got[i].Probability, 1e-4)
	}
	require.GreaterOrEqual(t, got[0].Probability, got[1].Probability)
}

func TestForwardAllocatesNothing(t *testing.T) {
	m, err := New11(WithWidthDivisor(16), WithHidden(16), WithNumClasses(10))
	require.NoError(t, err)
	x := tensor.New(2, 3, 32, 32)
	_, err = m.Forward(x)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := m.Forward(x); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
}

func TestNewErrors(t *testing.T) {
	_, err := NewByName("vgg17")
	require.ErrorContains(t, err, `unknown model "vgg17"`)
	for _, o := range []Option{WithNumClasses(0), WithInChannels(-1), WithDropout(1), WithWidthDivisor(3), WithHidden(-2), WithClassNames([]string{"a"})} {
		_, err := New11(o)
		require.Error(t, err)
	}
	_, err = ParseFlavour("keras")
	require.ErrorContains(t, err, "keras")
}

func TestForwardShapeErrors(t *testing.T) {
	m, err := New11(WithWidthDivisor(16), WithHidden(8), WithNumClasses(3))
	require.NoError(t, err)
	_, err = m.Forward(tensor.New(1, 1, 32, 32))
	require.ErrorContains(t, err, "3 input channels")
	_, err = m.Forward(tensor.New(1, 3, 16, 40))
	require.ErrorContains(t, err, "at least 32×32")
	_, err = m.Forward(tensor.New(3, 32, 32))
	require.ErrorContains(t, err, "N×C×H×W")
	mc, err := New11(WithFlavour(MindCV), WithWidthDivisor(16), WithHidden(8))
	require.NoError(t, err)
	_, err = mc.Forward(tensor.New(1, 3, 64, 64))
	require.ErrorContains(t, err, "expects 224×224")
}

func TestParamNamesAreTorchvisions(t *testing.T) {
	m, err := New16(WithBatchNorm(true), WithWidthDivisor(16), WithHidden(8))
	require.NoError(t, err)
	var names []string
	for _, p := range m.StateDict() {
		names = append(names, p.Name)
	}
	// torchvision vgg16_bn: conv at 0, BN at 1, …, the last conv at 40, BN at 41.
	require.Contains(t, names, "features.0.weight")
	require.Contains(t, names, "features.1.running_mean")
	require.Contains(t, names, "features.40.bias")
	require.Contains(t, names, "features.41.running_var")
	require.Contains(t, names, "classifier.6.bias")
	require.True(t, m.IsNorm("features.1.weight"))
	require.True(t, m.IsNorm("features.41.bias"))
	require.False(t, m.IsNorm("features.0.weight"))
	require.False(t, m.IsNorm("classifier.0.bias"))
	require.False(t, m.IsNorm("features.99.weight"))
	s, err := Summarize(ConfigD, 224, WithBatchNorm(true), WithWidthDivisor(16), WithHidden(8))
	require.NoError(t, err)
	require.Equal(t, s.Params, int64(m.NumParams()))
	require.Equal(t, s.MACs, m.MACs(224))
}

func TestLoadWeightsErrors(t *testing.T) {
	fx := loadFixture(t, "testdata/vgg11_w16.safetensors")
	m, err := New(fx.cfg, fx.opts...)
	require.NoError(t, err)
	require.ErrorContains(t, m.LoadWeights("testdata/missing.safetensors"), "missing.safetensors")

	// A model with another head: the error names the mis-shaped tensors; SkipHead loads the rest.
	m5, err := New(fx.cfg, append(fx.opts, WithNumClasses(5))...)
	require.NoError(t, err)
	err = m5.LoadWeights(fx.path)
	require.ErrorContains(t, err, "classifier.6.weight")
	var r weights.Report
	require.NoError(t, m5.LoadWeights(fx.path, SkipHead(), ReportTo(&r)))
	require.NotContains(t, r.Loaded, "classifier.6.weight")
	require.Contains(t, r.Loaded, "classifier.3.weight")

	// Batch norm in the model but not in the file.
	mbn, err := New(fx.cfg, append(fx.opts, WithBatchNorm(true))...)
	require.NoError(t, err)
	require.ErrorContains(t, mbn.LoadWeights(fx.path), "features.1.running_mean")
}

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, ext := range []string{".safetensors", ".ckpt"} {
		a, err := New13(WithBatchNorm(true), WithWidthDivisor(16), WithHidden(8), WithSeed(3))
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "m"+ext)
		require.NoError(t, a.SaveWeights(path))
		b, err := New13(WithBatchNorm(true), WithWidthDivisor(16), WithHidden(8), WithSeed(4))
		require.NoError(t, err)
		require.NoError(t, b.LoadWeights(path), ext)
		x := tensor.New(1, 3, 32, 32)
		for i := range x.Data() {
			x.Data()[i] = inputValue(i)
		}
		ya, err := a.Forward(x)
		require.NoError(t, err)
		want := append([]float32(nil), ya.Data()...)
		yb, err := b.Forward(x)
		require.NoError(t, err)
		require.Equal(t, want, yb.Data(), ext)
	}
}

func TestProfile(t *testing.T) {
	m, err := New11(WithWidthDivisor(16), WithHidden(16), WithNumClasses(10))
	require.NoError(t, err)
	prof, err := m.Profile(tensor.New(1, 3, 64, 64), 2)
	require.NoError(t, err)
	require.Equal(t, "features.0", prof[0].Name)
	require.NotEmpty(t, prof[0].Algorithm)
	require.Positive(t, prof[0].WeightBytes)
	require.Equal(t, []int{1, 4, 64, 64}, prof[0].OutShape)
	last := prof[len(prof)-1]
	require.Equal(t, "classifier.6", last.Name)
	require.Equal(t, []int{1, 10}, last.OutShape)
	_, err = m.Profile(tensor.New(1, 3, 64, 64), 0)
	require.Error(t, err)
}

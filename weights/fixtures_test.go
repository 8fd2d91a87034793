package weights

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govgg/govgg/tensor"
)

type expectedTensor struct {
	Name   string `json:"name"`
	Shape  []int  `json:"shape"`
	DType  string `json:"dtype"`
	Offset int    `json:"offset"`
	values []float32
}

// loadExpected reads the values make_fixtures.py computed with torch.
func loadExpected(t *testing.T) []expectedTensor {
	t.Helper()
	js, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/expected.f32")
	if err != nil {
		t.Fatal(err)
	}
	var exp []expectedTensor
	if err := json.Unmarshal(js, &exp); err != nil {
		t.Fatal(err)
	}
	for i := range exp {
		n := 1
		for _, d := range exp[i].Shape {
			n *= d
		}
		exp[i].values = make([]float32, n)
		for j := range n {
			exp[i].values[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*(exp[i].Offset+j):]))
		}
	}
	return exp
}

var torchDTypes = map[string]DType{"float32": F32, "float16": F16, "bfloat16": BF16, "float64": F64, "int64": I64, "int32": I32}

// sameBits compares float32 values bit for bit, treating any two NaNs as equal.
func sameBits(a, b float32) bool {
	if a != a && b != b {
		return true
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

func checkAgainstExpected(t *testing.T, got []Named, exp []expectedTensor) {
	t.Helper()
	if len(got) != len(exp) {
		t.Fatalf("got %d tensors, want %d", len(got), len(exp))
	}
	for i, e := range exp {
		g := got[i]
		if g.Name != e.Name {
			t.Errorf("tensor %d: name %q, want %q (file order)", i, g.Name, e.Name)
			continue
		}
		if !equalInts(g.Tensor.Shape(), e.Shape) {
			t.Errorf("%s: shape %v, want %v", e.Name, g.Tensor.Shape(), e.Shape)
			continue
		}
		if want := torchDTypes[e.DType]; g.DType != want {
			t.Errorf("%s: dtype %v, want %v (%s)", e.Name, g.DType, want, e.DType)
		}
		for j, v := range g.Tensor.Data() {
			if !sameBits(v, e.values[j]) {
				t.Errorf("%s[%d] = %v, want %v", e.Name, j, v, e.values[j])
				break
			}
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFixtures(t *testing.T) {
	exp := loadExpected(t)
	for _, tc := range []struct {
		file   string
		format Format
	}{
		{"tiny_zip.pth", PyTorch},
		{"tiny_legacy.pth", PyTorchLegacy},
		{"tiny_nested.pth", PyTorch},
		{"tiny.safetensors", Safetensors},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f, err := ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if f.Format != tc.format {
				t.Errorf("format %v, want %v", f.Format, tc.format)
			}
			checkAgainstExpected(t, f.Tensors, exp)
		})
	}
}

func TestNestedCheckpointReportsSkipped(t *testing.T) {
	f, err := ReadFile("testdata/tiny_nested.pth")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range f.Skipped {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "epoch,best_acc1,optimizer" {
		t.Errorf("skipped %q, want epoch,best_acc1,optimizer", got)
	}
}

func TestPickledModuleRefused(t *testing.T) {
	_, err := ReadFile("testdata/tiny_module.pth")
	if err == nil || !strings.Contains(err.Error(), "torch.nn.modules.conv.Conv2d") {
		t.Fatalf("err = %v, want a refusal naming torch.nn.modules.conv.Conv2d", err)
	}
}

func TestFixtureProtocol4(t *testing.T) {
	exp := loadExpected(t)
	byName := map[string]expectedTensor{}
	for _, e := range exp {
		byName[e.Name] = e
	}
	f, err := ReadFile("testdata/tiny_p4.pth")
	if err != nil {
		t.Fatal(err)
	}
	var want []expectedTensor
	for _, n := range []string{"features.0.weight", "extra.transposed", "extra.half"} {
		want = append(want, byName[n])
	}
	checkAgainstExpected(t, f.Tensors, want)
}

// TestFixtureMindSpore reads a .ckpt written by the protobuf library as MindSpore
// does (see make_fixtures.py): MindCV names, a parameter in three slices, training
// state, and the crc_num trailer.
func TestFixtureMindSpore(t *testing.T) {
	exp := loadExpected(t)
	f, err := ReadFile("testdata/tiny_mindspore.ckpt")
	if err != nil {
		t.Fatal(err)
	}
	var skipped []string
	for _, s := range f.Skipped {
		skipped = append(skipped, s.Name)
	}
	if got := strings.Join(skipped, ","); got != "moments.features.0.weight,learning_rate,global_step,momentum" {
		t.Errorf("skipped %s", got)
	}
	if DetectFlavor(Names(f.Tensors)) != MindCV {
		t.Error("not detected as MindCV names")
	}
	got := map[string]Named{}
	for _, n := range f.Tensors {
		n.Name = MindCVToTorchvision(n.Name)
		got[n.Name] = n
	}
	var want, have []Named
	for _, e := range exp {
		if !strings.HasPrefix(e.Name, "features.") && !strings.HasPrefix(e.Name, "classifier.") ||
			strings.HasSuffix(e.Name, "num_batches_tracked") || e.Name == "features.0.bias" || e.Name == "features.4.bias" {
			continue
		}
		w, _ := tensor.FromSlice(e.values, e.Shape...)
		want = append(want, Named{Name: e.Name, Tensor: w})
		have = append(have, got[e.Name])
	}
	if len(got) != len(want) {
		t.Fatalf("%d tensors, want %d", len(got), len(want))
	}
	equalNamed(t, have, want)
}

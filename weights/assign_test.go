package weights

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govgg/govgg/tensor"
)

func filled(v float32, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data() {
		t.Data()[i] = v
	}
	return t
}

// model returns a torchvision-named destination set: conv with bias, BN, classifier.
func model() []Named {
	return []Named{
		{Name: "features.0.weight", Tensor: filled(0, 4, 3, 3, 3)},
		{Name: "features.0.bias", Tensor: filled(0, 4)},
		{Name: "features.1.weight", Tensor: filled(0, 4)},
		{Name: "features.1.bias", Tensor: filled(0, 4)},
		{Name: "features.1.running_mean", Tensor: filled(0, 4)},
		{Name: "features.1.running_var", Tensor: filled(0, 4)},
		{Name: "features.1.num_batches_tracked", Tensor: filled(0)},
		{Name: "classifier.6.weight", Tensor: filled(0, 10, 16)},
		{Name: "classifier.6.bias", Tensor: filled(0, 10)},
	}
}

func source(v float32) []Named {
	var s []Named
	for _, d := range model() {
		s = append(s, Named{Name: d.Name, Tensor: filled(v, d.Tensor.Shape()...)})
	}
	return s
}

func TestAssignStrict(t *testing.T) {
	dst := model()
	r, err := Assign(dst, source(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Loaded) != 8 || len(r.Skipped) != 1 || r.Skipped[0] != "features.1.num_batches_tracked" {
		t.Errorf("report %+v", r)
	}
	if dst[0].Tensor.Data()[7] != 2 || dst[6].Tensor.Data()[0] != 0 {
		t.Error("values not copied, or num_batches_tracked copied by default")
	}
	if _, err := Assign(dst, source(3), KeepNumBatchesTracked()); err != nil || dst[6].Tensor.Data()[0] != 3 {
		t.Errorf("KeepNumBatchesTracked: %v, value %v", err, dst[6].Tensor.Data()[0])
	}
}

func TestAssignListsEveryProblem(t *testing.T) {
	dst := model()
	src := source(5)
	src = src[1:]                                                             // features.0.weight missing
	src[0].Tensor = filled(5, 5)                                              // features.0.bias mis-shaped
	src = append(src, Named{Name: "extra.thing", Tensor: filled(5, 2, 2)})    // unexpected
	src = append(src, Named{Name: "features.9.weight", Tensor: filled(5, 1)}) // unexpected
	r, err := Assign(dst, src)
	var ae *AssignError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want *AssignError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"1 missing from the file: features.0.weight [4 3 3 3]",
		"2 unexpected in the file: extra.thing [2 2]; features.9.weight [1]",
		"1 with a different shape: features.0.bias: model [4], file [5]",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if len(r.Missing) != 1 || len(r.Unexpected) != 2 || len(r.Mismatched) != 1 {
		t.Errorf("report %+v", r)
	}
	for _, d := range dst {
		for _, v := range d.Tensor.Data() {
			if v != 0 {
				t.Fatalf("%s was written by a failed Assign", d.Name)
			}
		}
	}
	// Non-strict: missing and unexpected are allowed, the mis-shape is still an error.
	if _, err := Assign(dst, src, NonStrict()); err == nil {
		t.Error("NonStrict accepted a mis-shaped tensor")
	}
	src[0].Tensor = filled(5, 4)
	r, err = Assign(dst, src, NonStrict())
	if err != nil || len(r.Missing) != 1 || len(r.Unexpected) != 2 {
		t.Errorf("NonStrict: %v %+v", err, r)
	}
}

func TestAssignSkipPrefixAndMindCV(t *testing.T) {
	// MindCV names, no conv bias, and a 1000-class head into a 10-class model.
	src := []Named{
		{Name: "features.0.weight", Tensor: filled(1, 4, 3, 3, 3)},
		{Name: "features.1.gamma", Tensor: filled(2, 4)},
		{Name: "features.1.beta", Tensor: filled(3, 4)},
		{Name: "features.1.moving_mean", Tensor: filled(4, 4)},
		{Name: "features.1.moving_variance", Tensor: filled(5, 4)},
		{Name: "classifier.6.weight", Tensor: filled(6, 1000, 16)},
		{Name: "classifier.6.bias", Tensor: filled(7, 1000)},
	}
	dst := model()
	dst[8].Tensor.Data()[0] = 9 // the head keeps its own values
	dst[1].Tensor.Data()[0] = 9 // the conv bias is zeroed
	r, err := Assign(dst, src, MapNames(MindCVToTorchvision), SkipPrefix("classifier.6."), ZeroMissingBiases())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Zeroed) != 1 || r.Zeroed[0] != "features.0.bias" || dst[1].Tensor.Data()[0] != 0 {
		t.Errorf("zeroed %v, bias %v", r.Zeroed, dst[1].Tensor.Data()[0])
	}
	if dst[8].Tensor.Data()[0] != 9 || dst[5].Tensor.Data()[0] != 5 || dst[3].Tensor.Data()[0] != 3 {
		t.Error("wrong values after a mapped, prefix-skipped assign")
	}
	if strings.Join(r.Skipped, ",") != "classifier.6.weight,classifier.6.bias" {
		t.Errorf("skipped %v", r.Skipped)
	}
	if got, want := r.String(), "loaded 5, zeroed 1 (features.0.bias), skipped 2 (classifier.6.weight, classifier.6.bias)"; got != want {
		t.Errorf("report %q, want %q", got, want)
	}
	if DetectFlavor(Names(src)) != MindCV || DetectFlavor(Names(model())) != Torchvision || MindCV.String() != "mindcv" {
		t.Error("DetectFlavor")
	}
	// Without ZeroMissingBiases the bias is missing.
	if _, err := Assign(model(), src, MapNames(MindCVToTorchvision), SkipPrefix("classifier.6.")); err == nil || !strings.Contains(err.Error(), "features.0.bias [4]") {
		t.Errorf("err = %v", err)
	}
}

func TestAssignMapAndDuplicates(t *testing.T) {
	m := map[string]*tensor.Tensor{"b": filled(0, 2), "a": filled(0, 1)}
	r, err := AssignMap(m, []Named{{Name: "a", Tensor: filled(1, 1)}, {Name: "b", Tensor: filled(2, 2)}})
	if err != nil || strings.Join(r.Loaded, ",") != "a,b" || m["b"].Data()[1] != 2 {
		t.Errorf("AssignMap: %v %+v", err, r)
	}
	_, err = Assign(m2n(m), []Named{{Name: "x.a", Tensor: filled(1, 1)}, {Name: "a", Tensor: filled(1, 1)}}, MapNames(StripPrefix("x.")))
	if err == nil || !strings.Contains(err.Error(), `"a" after mapping`) {
		t.Errorf("duplicate after mapping: %v", err)
	}
}

func m2n(m map[string]*tensor.Tensor) []Named {
	var ns []Named
	for k, v := range m {
		ns = append(ns, Named{Name: k, Tensor: v})
	}
	return ns
}

func TestNameMapping(t *testing.T) {
	for in, want := range map[string]string{
		"features.1.gamma":           "features.1.weight",
		"features.1.beta":            "features.1.bias",
		"features.1.moving_mean":     "features.1.running_mean",
		"features.1.moving_variance": "features.1.running_var",
		"features.0.weight":          "features.0.weight",
		"classifier.6.bias":          "classifier.6.bias",
	} {
		if got := MindCVToTorchvision(in); got != want {
			t.Errorf("MindCVToTorchvision(%s) = %s, want %s", in, got, want)
		}
	}
	back := TorchvisionToMindCV(Names(model()))
	for in, want := range map[string]string{
		"features.0.weight":              "features.0.weight",
		"features.0.bias":                "features.0.bias",
		"features.1.weight":              "features.1.gamma",
		"features.1.bias":                "features.1.beta",
		"features.1.running_mean":        "features.1.moving_mean",
		"features.1.running_var":         "features.1.moving_variance",
		"features.1.num_batches_tracked": "",
		"classifier.6.weight":            "classifier.6.weight",
	} {
		if got := back(in); got != want {
			t.Errorf("TorchvisionToMindCV(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestConvert(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "tiny.safetensors")
	ck := filepath.Join(dir, "tiny.ckpt")
	back := filepath.Join(dir, "back.safetensors")
	if err := Convert("testdata/tiny_zip.pth", st); err != nil {
		t.Fatal(err)
	}
	orig, _, err := Load("testdata/tiny_zip.pth")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(st)
	if err != nil {
		t.Fatal(err)
	}
	equalNamed(t, f.Tensors, orig)
	if f.Metadata["source_format"] != "pytorch" {
		t.Errorf("metadata %v", f.Metadata)
	}
	// To MindCV names in a .ckpt, and back to torchvision names.
	if err := Convert(st, ck, RenameTo(MindCV), ConvertCRC()); err != nil {
		t.Fatal(err)
	}
	m, _, err := Load(ck)
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Join(Names(m), ",")
	if !strings.Contains(names, "features.1.gamma") || strings.Contains(names, "num_batches_tracked") {
		t.Errorf("ckpt names %s", names)
	}
	if err := Convert(ck, back, RenameTo(Torchvision)); err != nil {
		t.Fatal(err)
	}
	got, _, err := Load(back)
	if err != nil {
		t.Fatal(err)
	}
	var want []Named
	for _, n := range orig {
		// Renaming to MindCV drops num_batches_tracked; the safetensors step made
		// every other tensor F32.
		if !strings.HasSuffix(n.Name, "num_batches_tracked") {
			want = append(want, n)
		}
	}
	equalNamed(t, got, want)
	if err := Convert(st, filepath.Join(dir, "x.pth")); err == nil {
		t.Error("converting to .pth succeeded")
	}
}

func TestBlockedLayoutRefused(t *testing.T) {
	blocked := tensor.New(1, 16, 2, 2)
	blocked.SetLayout(tensor.NCHWc16)
	_, err := Assign([]Named{{Name: "x", Tensor: blocked}}, []Named{{Name: "x", Tensor: tensor.New(1, 16, 2, 2)}})
	if err == nil || !strings.Contains(err.Error(), "x: model tensor is in layout NCHWc16") {
		t.Errorf("Assign into a blocked tensor: %v", err)
	}
	var sb strings.Builder
	if err := Write(&sb, []Named{{Name: "x", Tensor: blocked}}, Safetensors); err == nil || !strings.Contains(err.Error(), `"x" is in layout NCHWc16`) {
		t.Errorf("Write of a blocked tensor: %v", err)
	}
}

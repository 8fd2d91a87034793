package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govgg/govgg/tensor"
)

// sample returns a small set of named tensors with random values, including a
// scalar and an empty tensor.
func sample(seed uint64) []Named {
	rng := rand.New(rand.NewPCG(seed, 1))
	mk := func(name string, shape ...int) Named {
		t := tensor.New(shape...)
		for i := range t.Data() {
			t.Data()[i] = rng.Float32()*2 - 1
		}
		return Named{Name: name, Tensor: t}
	}
	return []Named{
		mk("features.0.weight", 4, 3, 3, 3),
		mk("features.0.bias", 4),
		mk("features.1.weight", 4),
		mk("classifier.0.weight", 10, 16),
		mk("a.scalar"),
		mk("z.empty", 0, 3),
	}
}

func equalNamed(t *testing.T, got, want []Named) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d tensors %v, want %d %v", len(got), Names(got), len(want), Names(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || !tensor.SameShape(g.Tensor.Shape(), w.Tensor.Shape()) {
			t.Fatalf("tensor %d: %s %v, want %s %v", i, g.Name, g.Tensor.Shape(), w.Name, w.Tensor.Shape())
		}
		for j := range w.Tensor.Data() {
			if !sameBits(g.Tensor.Data()[j], w.Tensor.Data()[j]) {
				t.Fatalf("%s[%d] = %g, want %g", w.Name, j, g.Tensor.Data()[j], w.Tensor.Data()[j])
			}
		}
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	ts := sample(1)
	meta := map[string]string{"format": "pt", "note": "héllo"}
	if err := Save(path, ts, Safetensors, WithMetadata(meta)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(raw); (8+n)%8 != 0 {
		t.Errorf("header length %d leaves the data unaligned", n)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	equalNamed(t, f.Tensors, ts) // file order is the order given
	if f.Metadata["note"] != "héllo" || f.Metadata["format"] != "pt" {
		t.Errorf("metadata %v", f.Metadata)
	}
	// Sorted names; and an overwrite leaves no temp files behind.
	if err := Save(path, ts, Safetensors, SortedNames()); err != nil {
		t.Fatal(err)
	}
	got, format, err := Load(path)
	if err != nil || format != Safetensors {
		t.Fatal(err, format)
	}
	equalNamed(t, got, sortedByName(ts))
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d entries after two saves, want 1", len(ents))
	}
}

func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	ts := sample(2)
	if err := Save(filepath.Join(dir, "no/such/dir/m.safetensors"), ts, Safetensors); err == nil {
		t.Error("saving into a missing directory succeeded")
	}
	if err := Save(filepath.Join(dir, "m.pth"), ts, PyTorch); err == nil {
		t.Error("saving a .pth succeeded")
	}
	dup := append(ts[:1:1], ts[0])
	if err := Save(filepath.Join(dir, "d.safetensors"), dup, Safetensors); err == nil || !strings.Contains(err.Error(), ts[0].Name) {
		t.Errorf("duplicate names: err = %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("failed saves left %d files", len(ents))
	}
}

// stFile assembles a safetensors file from a header and data.
func stFile(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func TestSafetensorsErrors(t *testing.T) {
	d8 := make([]byte, 8)
	cases := []struct {
		name, want string
		file       []byte
	}{
		{"short", "shorter than", []byte{1, 2, 3}},
		{"header too long", "exceeds the", binary.LittleEndian.AppendUint64(nil, 1<<40)},
		{"not json", "not a JSON object", stFile(`[1,2]   `, nil)},
		{"bad json", "header JSON", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},`, d8)},
		{"duplicate", `"a" appears twice`, stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, d8)},
		{"unknown dtype", `"a" has unsupported dtype "F8_E4M3"`, stFile(`{"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}`, d8)},
		{"negative dim", `"a" has bad dimension -2`, stFile(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, d8)},
		{"no dtype", `"a" has no dtype`, stFile(`{"a":{"shape":[2],"data_offsets":[0,8]}}`, d8)},
		{"no shape", `"a" has no shape`, stFile(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, d8)},
		{"no offsets", `"a" needs data_offsets`, stFile(`{"a":{"dtype":"F32","shape":[2]}}`, d8)},
		{"offsets past end", `"a" has data_offsets [0 16]`, stFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, d8)},
		{"reversed offsets", `"a" has data_offsets`, stFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, d8)},
		{"size mismatch", `"a": shape [3] of F32 needs 12 bytes`, stFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, d8)},
		{"overlap", `overlaps`, stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, d8)},
		{"gap", `gap of 4 bytes before tensor "b"`, stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[0],"data_offsets":[8,8]}}`, d8)},
		{"not covered", `cover 4 of the 8`, stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, d8)},
		{"overflow", `overflows`, stFile(`{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, d8)},
		{"huge dim", `bad dimension`, stFile(`{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}}`, d8)},
		{"bad metadata", `__metadata__`, stFile(`{"__metadata__":{"a":1}}`, nil)},
		{"stray bytes", `stray bytes`, stFile(`{}xx`, nil)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := readSafetensors(bytes.NewReader(c.file), int64(len(c.file)))
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat containing %q", err, c.want)
			}
		})
	}
}

// TestTruncated cuts valid files of every format at many offsets: every cut must
// give an error (or, for .ckpt, a clean prefix of the tensors), never a panic.
func TestTruncated(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "m.safetensors")
	ck := filepath.Join(dir, "m.ckpt")
	if err := Save(st, sample(3), Safetensors, WithMetadata(map[string]string{"k": "v"})); err != nil {
		t.Fatal(err)
	}
	if err := Save(ck, sample(3), MindSpore, WithCRC()); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{st, ck, "testdata/tiny_zip.pth", "testdata/tiny_legacy.pth", "testdata/tiny.safetensors"} {
		full, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for cut := 0; cut < len(full); cut += 1 + cut/64 {
			b := full[:cut]
			f, err := Read(bytes.NewReader(b), int64(len(b)), "cut")
			if err == nil && !strings.HasSuffix(file, ".ckpt") {
				t.Fatalf("%s cut at %d of %d: no error (%d tensors)", file, cut, len(full), len(f.Tensors))
			}
		}
	}
	// A .ckpt without its trailer, cut between values, is a valid shorter file; cut
	// inside a value it must fail. Either way no panic, and never a wrong tensor.
	full, _ := os.ReadFile(ck)
	full = full[:len(full)-crcTrailerLen]
	want := sample(3)
	for cut := 1; cut < len(full); cut++ {
		f, err := Read(bytes.NewReader(full[:cut]), int64(cut), "cut")
		if err != nil {
			continue
		}
		equalNamed(t, f.Tensors, want[:len(f.Tensors)])
	}
}

// TestDetectAmbiguousLength checks that a safetensors header length whose first
// byte looks like a pickle PROTO (0x80) or a protobuf key (0x0a) is still read as
// safetensors.
func TestDetectAmbiguousLength(t *testing.T) {
	for _, n := range []int{0x280, 0x30a} {
		h := `{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`
		h += strings.Repeat(" ", n-len(h))
		b := stFile(h, nil)
		f, err := Read(bytes.NewReader(b), int64(len(b)), "x")
		if err != nil || f.Format != Safetensors || len(f.Tensors) != 1 {
			t.Errorf("header length %#x: %v, %v", n, f, err)
		}
	}
}

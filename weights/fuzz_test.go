package weights

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/govgg/govgg/tensor"
)

// The seeds run as ordinary tests. To fuzz, e.g.:
//
//	go test -run XXX -fuzz FuzzPickle -fuzztime 60s -fuzzminimizetime 2s ./weights
//
// A short -fuzzminimizetime matters: minimising a new multi-KB input takes up to
// 60 s by default, during which no new inputs are tried.

// checkBounded runs read and fails if it allocated far more than the input holds:
// a forged size must be rejected before allocation, never trusted.
func checkBounded(t *testing.T, data []byte, read func() (*File, error)) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f, err := read()
	runtime.ReadMemStats(&after)
	if alloc, limit := after.TotalAlloc-before.TotalAlloc, 256*uint64(len(data))+16<<20; alloc > limit {
		t.Fatalf("reading %d bytes allocated %d bytes", len(data), alloc)
	}
	if err != nil {
		return
	}
	for _, n := range f.Tensors {
		if tensor.Numel(n.Tensor.Shape()...) != n.Tensor.Len() {
			t.Fatalf("tensor %q: shape %v but %d elements", n.Name, n.Tensor.Shape(), n.Tensor.Len())
		}
	}
}

func addFiles(f *testing.F, paths ...string) {
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzSafetensors(f *testing.F) {
	addFiles(f, "testdata/tiny.safetensors")
	var buf bytes.Buffer
	writeSafetensors(&buf, sample(5), map[string]string{"a": "b"})
	f.Add(buf.Bytes())
	f.Add(stFile(`{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(stFile(`{"a":{"dtype":"BF16","shape":[1,1],"data_offsets":[0,2]},"b":{"dtype":"I64","shape":[],"data_offsets":[2,10]}}`, make([]byte, 10)))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkBounded(t, data, func() (*File, error) { return readSafetensors(bytes.NewReader(data), int64(len(data))) })
	})
}

// FuzzPickle feeds bytes to the pickle VM as a state dict (storages are faked,
// bounded by the input's size) and to the legacy .pth reader.
func FuzzPickle(f *testing.F) {
	addFiles(f, "testdata/tiny_legacy.pth")
	for _, p := range []string{"testdata/tiny_zip.pth", "testdata/tiny_nested.pth", "testdata/tiny_module.pth", "testdata/tiny_p4.pth"} {
		zr, err := zip.OpenReader(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range zr.File {
			if filepath.Base(e.Name) == "data.pkl" {
				rc, _ := e.Open()
				b, _ := io.ReadAll(rc)
				f.Add(b)
			}
		}
		zr.Close()
	}
	f.Add(new(pk).startDict().str("w").tensor("FloatStorage", "0", 12, 5, []int32{2, 3}, []int32{4, 1}).endDict().b)
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		checkBounded(t, data, func() (*File, error) {
			pers := func(pid any) (any, error) { return parseStoragePID(pid, false) }
			root, _, err := unpickle(bytes.NewReader(data), size, pers)
			if err != nil {
				return nil, err
			}
			return buildFile(root, func(ref *storageRef) ([]float32, error) {
				if ref.root > size {
					return nil, io.ErrUnexpectedEOF
				}
				return tensor.Aligned(int(ref.root)), nil
			}, size)
		})
		checkBounded(t, data, func() (*File, error) { return readPyTorchLegacy(bytes.NewReader(data), size) })
	})
}

func FuzzCkpt(f *testing.F) {
	var buf bytes.Buffer
	writeCkpt(&buf, sample(6), true)
	f.Add(buf.Bytes())
	e := new(ckptEnc).add(ckptParam{tag: "a", dims: []int64{2}, dtype: "Float16", content: []byte{0, 0x3c, 0, 0x7c}, packed: true}).
		add(ckptParam{tag: "a", dims: []int64{2}, dtype: "Float16", content: nil}).
		add(ckptParam{tag: "global_step", dims: []int64{1}, dtype: "Int32", content: []byte{1, 0, 0, 0}}).
		add(ckptParam{tag: "m", dims: []int64{1}, dtype: "Float32", content: f32le(1), mapVal: true}).crc()
	f.Add(e.b)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkBounded(t, data, func() (*File, error) { return readCkpt(bytes.NewReader(data), int64(len(data))) })
	})
}

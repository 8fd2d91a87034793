package weights

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/govgg/govgg/tensor"
)

// benchSet is 16 M floats (64 MiB) in VGG-like tensors: big FC weights and conv kernels.
func benchSet() []Named {
	return []Named{
		{Name: "features.0.weight", Tensor: tensor.New(512, 512, 3, 3)},
		{Name: "features.0.bias", Tensor: tensor.New(512)},
		{Name: "classifier.0.weight", Tensor: tensor.New(4096, 2944)},
		{Name: "classifier.0.bias", Tensor: tensor.New(4096)},
	}
}

func benchRead(b *testing.B, f Format) {
	path := filepath.Join(b.TempDir(), "bench")
	ts := benchSet()
	if err := Save(path, ts, f); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for range b.N {
		if _, _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadSafetensors(b *testing.B) { benchRead(b, Safetensors) }
func BenchmarkLoadCkpt(b *testing.B)        { benchRead(b, MindSpore) }

// BenchmarkLoadPyTorch reads a torch.save zip named by $GOVGG_BENCH_PTH, if set
// (torch is not needed otherwise).
func BenchmarkLoadPyTorch(b *testing.B) {
	path := os.Getenv("GOVGG_BENCH_PTH")
	if path == "" {
		b.Skip("set GOVGG_BENCH_PTH to a .pth file")
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for range b.N {
		if _, _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSaveSafetensors(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.safetensors")
	ts := benchSet()
	b.SetBytes(int64(4 * (512*512*9 + 512 + 4096*2944 + 4096)))
	for range b.N {
		if err := Save(path, ts, Safetensors); err != nil {
			b.Fatal(err)
		}
	}
}

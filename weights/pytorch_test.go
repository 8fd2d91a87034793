package weights

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// pk builds pickles opcode by opcode.
type pk struct{ b []byte }

func (p *pk) op(ops ...byte) *pk { p.b = append(p.b, ops...); return p }
func (p *pk) str(s string) *pk {
	p.b = append(p.b, 'X')
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(len(s)))
	p.b = append(p.b, s...)
	return p
}
func (p *pk) global(m, n string) *pk { p.b = append(p.b, "c"+m+"\n"+n+"\n"...); return p }
func (p *pk) int(v int32) *pk {
	p.b = append(p.b, 'J')
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(v))
	return p
}
func (p *pk) ints(vs ...int32) *pk {
	p.op('(')
	for _, v := range vs {
		p.int(v)
	}
	return p.op('t')
}

// tensor emits _rebuild_tensor_v2(('storage', torch.<st>, key, 'cpu', numel), offset, size, stride, False, OrderedDict()).
func (p *pk) tensor(st, key string, numel, offset int32, size, stride []int32) *pk {
	p.global("torch._utils", "_rebuild_tensor_v2").op('(')
	p.op('(').str("storage").global("torch", st).str(key).str("cpu").int(numel).op('t', 'Q')
	p.int(offset).ints(size...).ints(stride...).op(0x89)
	p.global("collections", "OrderedDict").op(')', 'R')
	return p.op('t', 'R')
}

func (p *pk) startDict() *pk {
	return p.op(0x80, 2).global("collections", "OrderedDict").op(')', 'R', '(')
}
func (p *pk) endDict() *pk { return p.op('u', '.') }

// torchZip stores a data.pkl and storages as torch.save lays them out.
func torchZip(t *testing.T, pkl []byte, storages map[string][]byte, extra ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/" + name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	add("data.pkl", pkl)
	for k, v := range storages {
		add("data/"+k, v)
	}
	add("version", []byte("3\n"))
	for i := 0; i+1 < len(extra); i += 2 {
		add(extra[i], []byte(extra[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readBytes(b []byte) (*File, error) { return Read(bytes.NewReader(b), int64(len(b)), "test.pth") }

func TestPyTorchViews(t *testing.T) {
	// A 3x4 storage 0..11; views: transposed (4,3) strides (1,4); narrowed rows 1..2,
	// cols 1..3 (offset 5, strides (4,1)); a size-1 dim with an odd stride; a scalar.
	vals := make([]float32, 12)
	for i := range vals {
		vals[i] = float32(i)
	}
	p := new(pk).startDict()
	p.str("full").tensor("FloatStorage", "0", 12, 0, []int32{3, 4}, []int32{4, 1})
	p.str("t").tensor("FloatStorage", "0", 12, 0, []int32{4, 3}, []int32{1, 4})
	p.str("narrow").tensor("FloatStorage", "0", 12, 5, []int32{2, 3}, []int32{4, 1})
	p.str("one").tensor("FloatStorage", "0", 12, 2, []int32{1, 2}, []int32{99, 4})
	p.str("s").tensor("FloatStorage", "0", 12, 7, nil, nil)
	p.str("e").tensor("FloatStorage", "0", 12, 0, []int32{0, 5}, []int32{5, 1})
	p.str("cuda").global("torch._utils", "_rebuild_tensor").op('(')
	p.op('(').str("storage").global("torch.cuda", "FloatStorage").str("0").str("cuda:0").int(12).op('t', 'Q')
	p.int(1).ints(2).ints(1).op('t', 'R')
	f, err := readBytes(torchZip(t, p.endDict().b, map[string][]byte{"0": f32le(vals...)}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{
		"full":   vals,
		"t":      {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11},
		"narrow": {5, 6, 7, 9, 10, 11},
		"one":    {2, 6},
		"s":      {7},
		"e":      {},
		"cuda":   {1, 2},
	}
	if len(f.Tensors) != len(want) {
		t.Fatalf("%d tensors %v, want %d", len(f.Tensors), Names(f.Tensors), len(want))
	}
	for _, n := range f.Tensors {
		w, ok := want[n.Name]
		if !ok {
			t.Fatalf("unexpected tensor %q", n.Name)
		}
		if len(n.Tensor.Data()) != len(w) {
			t.Fatalf("%s: %d elements, want %d", n.Name, len(n.Tensor.Data()), len(w))
		}
		for i := range w {
			if n.Tensor.Data()[i] != w[i] {
				t.Fatalf("%s = %v, want %v", n.Name, n.Tensor.Data(), w)
			}
		}
	}
	// The first full view may share the storage; later views must not alias it.
	f.Tensors[0].Tensor.Data()[5] = -1
	if f.Tensors[2].Tensor.Data()[0] != 5 {
		t.Error("a view aliases another tensor's memory")
	}
}

func TestPyTorchErrors(t *testing.T) {
	st4 := map[string][]byte{"0": f32le(1, 2, 3, 4)}
	big := map[string][]byte{"0": make([]byte, 4000)}
	manyViews := new(pk).startDict()
	for i := range 10 {
		manyViews.str(string(rune('a'+i))).tensor("FloatStorage", "0", 1000, 0, []int32{1000}, []int32{1})
	}
	cases := []struct {
		name, want string
		pkl        []byte
		storages   map[string][]byte
	}{
		{"unknown global", "refusing global os.system",
			new(pk).op(0x80, 2).global("os", "system").str("echo hi").op(0x85, 'R', '.').b, nil},
		{"unknown stack global", "refusing global builtins.eval",
			new(pk).op(0x80, 4).str("builtins").str("eval").op(0x93, '.').b, nil},
		{"unknown storage", "refusing global torch.EvilStorage",
			new(pk).startDict().str("w").tensor("EvilStorage", "0", 4, 0, []int32{4}, []int32{1}).endDict().b, st4},
		{"storage bigger than entry", `storage "0": 8 elements of F32 need 32 bytes but zip entry archive/data/0 holds 16`,
			new(pk).startDict().str("w").tensor("FloatStorage", "0", 8, 0, []int32{8}, []int32{1}).endDict().b, st4},
		{"view past storage", `tensor "w": view (offset 2, size [3]`,
			new(pk).startDict().str("w").tensor("FloatStorage", "0", 4, 2, []int32{3}, []int32{1}).endDict().b, st4},
		{"stride past storage", `tensor "w": view`,
			new(pk).startDict().str("w").tensor("FloatStorage", "0", 4, 0, []int32{2, 2}, []int32{1000000, 1}).endDict().b, st4},
		{"negative stride", `tensor "w": negative size or stride`,
			new(pk).startDict().str("w").tensor("FloatStorage", "0", 4, 0, []int32{2}, []int32{-1}).endDict().b, st4},
		{"forged size", `tensor "w": size [2147483647 2147483647 2147483647] exceeds`,
			new(pk).startDict().str("w").tensor("FloatStorage", "0", 4, 0, []int32{1<<31 - 1, 1<<31 - 1, 1<<31 - 1}, []int32{0, 0, 0}).endDict().b, st4},
		{"shared views beyond the file", "exceeds what the file can hold", manyViews.endDict().b, big},
		{"missing storage", `no zip entry archive/data/7`,
			new(pk).startDict().str("w").tensor("FloatStorage", "7", 4, 0, []int32{4}, []int32{1}).endDict().b, st4},
		{"not a dict", "holds a list",
			new(pk).op(0x80, 2, ']', '.').b, nil},
		{"no state dict", "no tensors at the top level",
			new(pk).op(0x80, 2, '}').str("epoch").int(3).op('s', '.').b, nil},
		{"memo miss", "memo key 9 not found",
			new(pk).op(0x80, 2, 'h', 9, '.').b, nil},
		{"underflow", "stack underflow",
			new(pk).op(0x80, 2, 'R', '.').b, nil},
		{"bad protocol", "unsupported pickle protocol 9",
			new(pk).op(0x80, 9, '.').b, nil},
		{"string past end", "runs past the end",
			new(pk).op(0x80, 2, 'X', 0xff, 0xff, 0xff, 0x7f, 'a', '.').b, nil},
		{"long too long", "integer of",
			new(pk).op(0x80, 2, 0x8b, 0xff, 0xff, 0, 0, '.').b, nil},
		{"unknown opcode", "unsupported pickle opcode 0x49",
			new(pk).op(0x80, 2, 'I', '1', '\n', '.').b, nil},
		{"no stop", "unexpected EOF",
			new(pk).op(0x80, 2, ']').b, nil},
		{"call non-callable", "not callable",
			new(pk).op(0x80, 2).global("torch", "FloatStorage").op(')', 'R', '.').b, nil},
		{"bad dict key", "unsupported dict key of type tuple",
			new(pk).op(0x80, 2, '}', ')').int(1).op('s', '.').b, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := readBytes(torchZip(t, c.pkl, c.storages))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestPyTorchZipLayout(t *testing.T) {
	pkl := new(pk).startDict().str("w").tensor("FloatStorage", "0", 1, 0, []int32{1}, []int32{1}).endDict().b
	// No data.pkl at all.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("archive/other")
	w.Write(pkl)
	zw.Close()
	if _, err := readBytes(buf.Bytes()); err == nil || !strings.Contains(err.Error(), "no <archive>/data.pkl") {
		t.Errorf("zip without data.pkl: err = %v", err)
	}
	// A deflated archive (re-zipped by a user) still reads.
	buf.Reset()
	zw = zip.NewWriter(&buf)
	w, _ = zw.Create("archive/data.pkl")
	w.Write(pkl)
	w, _ = zw.Create("archive/data/0")
	w.Write(f32le(42))
	zw.Close()
	f, err := readBytes(buf.Bytes())
	if err != nil || len(f.Tensors) != 1 || f.Tensors[0].Tensor.Data()[0] != 42 {
		t.Errorf("deflated archive: %v %v", f, err)
	}
	// torch ≥ 2.1 byteorder entry.
	if _, err := readBytes(torchZip(t, pkl, map[string][]byte{"0": f32le(42)}, "byteorder", "little")); err != nil {
		t.Errorf("byteorder little: %v", err)
	}
	if _, err := readBytes(torchZip(t, pkl, map[string][]byte{"0": f32le(42)}, "byteorder", "big")); err == nil || !strings.Contains(err.Error(), "big-endian") {
		t.Errorf("byteorder big: err = %v", err)
	}
	// A damaged stored storage fails its CRC.
	b := torchZip(t, pkl, map[string][]byte{"0": f32le(42)})
	i := bytes.Index(b, f32le(42))
	b[i] ^= 1
	if _, err := readBytes(b); err == nil || !strings.Contains(err.Error(), "CRC mismatch") {
		t.Errorf("damaged storage: err = %v", err)
	}
}

func TestUnknownFormat(t *testing.T) {
	for _, b := range [][]byte{{}, []byte("hello world, not weights"), make([]byte, 600)} {
		if _, err := readBytes(b); err == nil {
			t.Errorf("%q: no error", b[:min(len(b), 8)])
		}
	}
	tar := make([]byte, 600)
	copy(tar[257:], "ustar")
	if _, err := readBytes(tar); err == nil || !strings.Contains(err.Error(), "tar") {
		t.Errorf("tar: err = %v", err)
	}
}

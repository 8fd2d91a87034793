package weights

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/govgg/govgg/tensor"
)

// ckptEnc hand-encodes checkpoint.proto messages, independently of writeCkpt.
type ckptEnc struct{ b []byte }

type ckptParam struct {
	tag     string
	dims    []int64
	dtype   string
	content []byte
	packed  bool
	mapVal  bool // write a maptensor instead of a tensor
}

func (e *ckptEnc) add(p ckptParam) *ckptEnc {
	var tp []byte
	if p.packed {
		var packed []byte
		for _, d := range p.dims {
			packed = protowire.AppendVarint(packed, uint64(d))
		}
		tp = protowire.AppendTag(tp, 1, protowire.BytesType)
		tp = protowire.AppendBytes(tp, packed)
	} else {
		for _, d := range p.dims {
			tp = protowire.AppendTag(tp, 1, protowire.VarintType)
			tp = protowire.AppendVarint(tp, uint64(d))
		}
	}
	tp = protowire.AppendTag(tp, 2, protowire.BytesType)
	tp = protowire.AppendString(tp, p.dtype)
	tp = protowire.AppendTag(tp, 3, protowire.BytesType)
	tp = protowire.AppendBytes(tp, p.content)
	var v []byte
	v = protowire.AppendTag(v, 1, protowire.BytesType)
	v = protowire.AppendString(v, p.tag)
	if p.mapVal {
		var m []byte
		m = protowire.AppendTag(m, 1, protowire.BytesType)
		m = protowire.AppendBytes(m, tp)
		v = protowire.AppendTag(v, 3, protowire.BytesType)
		v = protowire.AppendBytes(v, m)
	} else {
		v = protowire.AppendTag(v, 2, protowire.BytesType)
		v = protowire.AppendBytes(v, tp)
	}
	e.b = protowire.AppendTag(e.b, 1, protowire.BytesType)
	e.b = protowire.AppendBytes(e.b, v)
	return e
}

// crc appends MindSpore's trailer: "crc_num" + CRC-32 as 10 big-endian bytes.
func (e *ckptEnc) crc() *ckptEnc {
	c := crc32.ChecksumIEEE(e.b)
	e.b = append(e.b, "crc_num"...)
	e.b = append(e.b, 0, 0, 0, 0, 0, 0)
	e.b = binary.BigEndian.AppendUint32(e.b, c)
	return e
}

func f32le(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func TestCkptRead(t *testing.T) {
	w := []float32{1, 2, 3, 4, 5, 6}
	half := binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, 0x3c00), 0x7c00) // 1, +Inf
	var e ckptEnc
	e.add(ckptParam{tag: "features.0.weight", dims: []int64{2, 3}, dtype: "Float32", content: f32le(w[:4]...)}).
		add(ckptParam{tag: "features.0.weight", dims: []int64{2, 3}, dtype: "Float32", content: f32le(w[4:]...)}). // second slice
		add(ckptParam{tag: "features.1.gamma", dims: []int64{2}, dtype: "Float16", content: half, packed: true}).
		add(ckptParam{tag: "features.1.moving_mean", dims: []int64{0}, dtype: "Float64", content: binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.5))}). // old-style scalar
		add(ckptParam{tag: "moments.features.0.weight", dims: []int64{2, 3}, dtype: "Float32", content: f32le(w...)}).
		add(ckptParam{tag: "global_step", dims: []int64{1}, dtype: "Int32", content: []byte{7, 0, 0, 0}}).
		add(ckptParam{tag: "learning_rate", dims: []int64{}, dtype: "Float32", content: f32le(0.1)}).
		add(ckptParam{tag: "epoch_tag", dims: []int64{0}, dtype: "str", content: []byte("x\x00\x00\x00")}).
		add(ckptParam{tag: "counter", dims: []int64{1}, dtype: "Int64", content: make([]byte, 8)}).
		add(ckptParam{tag: "table", dims: []int64{1}, dtype: "Float32", content: f32le(1), mapVal: true}).
		crc()
	f, err := Read(bytes.NewReader(e.b), int64(len(e.b)), "t.ckpt")
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != MindSpore {
		t.Errorf("format %v", f.Format)
	}
	w0, _ := tensor.FromSlice(w, 2, 3)
	g, _ := tensor.FromSlice([]float32{1, float32(math.Inf(1))}, 2)
	want := []Named{{Name: "features.0.weight", Tensor: w0}, {Name: "features.1.gamma", Tensor: g}, {Name: "features.1.moving_mean", Tensor: scalar(0.5)}}
	equalNamed(t, f.Tensors, want)
	if f.Tensors[1].DType != F16 || f.Tensors[2].DType != F64 {
		t.Errorf("dtypes %v %v", f.Tensors[1].DType, f.Tensors[2].DType)
	}
	var skipped []string
	for _, s := range f.Skipped {
		skipped = append(skipped, s.Name)
	}
	if got := strings.Join(skipped, ","); got != "moments.features.0.weight,global_step,learning_rate,epoch_tag,counter,table" {
		t.Errorf("skipped %s", got)
	}

	// A damaged byte must fail the CRC check.
	bad := bytes.Clone(e.b)
	bad[40] ^= 1
	if _, err := Read(bytes.NewReader(bad), int64(len(bad)), "t.ckpt"); err == nil || !strings.Contains(err.Error(), "CRC mismatch") {
		t.Errorf("damaged file: err = %v", err)
	}
}

func scalar(v float32) *tensor.Tensor {
	t := tensor.New()
	t.Data()[0] = v
	return t
}

func TestCkptErrors(t *testing.T) {
	one := f32le(1)
	cases := []struct {
		name, want string
		enc        *ckptEnc
		raw        []byte
	}{
		{"size mismatch", `"a": dims [2 2] of Float32 need 16 bytes but the content has 4`,
			new(ckptEnc).add(ckptParam{tag: "a", dims: []int64{2, 2}, dtype: "Float32", content: one}), nil},
		{"negative dim", `"a": dims [-1]`,
			new(ckptEnc).add(ckptParam{tag: "a", dims: []int64{-1}, dtype: "Float32", content: one}), nil},
		{"duplicate", `"a" appears twice`,
			new(ckptEnc).add(ckptParam{tag: "a", dims: []int64{1}, dtype: "Float32", content: one}).
				add(ckptParam{tag: "b", dims: []int64{1}, dtype: "Float32", content: one}).
				add(ckptParam{tag: "a", dims: []int64{1}, dtype: "Float32", content: one}), nil},
		{"slices disagree", `"a": slices disagree`,
			new(ckptEnc).add(ckptParam{tag: "a", dims: []int64{2}, dtype: "Float32", content: one}).
				add(ckptParam{tag: "a", dims: []int64{3}, dtype: "Float32", content: one}), nil},
		{"bad trailer", "does not hold a 32-bit CRC",
			nil, append(new(ckptEnc).add(ckptParam{tag: "a", dims: []int64{1}, dtype: "Float32", content: one}).b, "crc_num\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"...)},
		{"length past end", "claims",
			nil, []byte{0x0a, 0x7f, 0x0a, 0x01, 'a'}},
		{"bad varint", "at byte 0",
			nil, []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"no tag", "value without a tag",
			nil, []byte{0x0a, 0x02, 0x12, 0x00}},
		{"huge dims count", "more than 32 dims",
			new(ckptEnc).add(ckptParam{tag: "a", dims: make([]int64, 40), dtype: "Float32", content: nil}), nil},
		{"huge content claim", "claims",
			nil, []byte{0x0a, 0x09, 0x0a, 0x01, 'a', 0x12, 0x04, 0x1a, 0xff, 0xff, 0x7f}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.raw
			if c.enc != nil {
				b = c.enc.b
			}
			_, err := readCkpt(bytes.NewReader(b), int64(len(b)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestCkptWriteSplitAndCRC(t *testing.T) {
	defer func(s int) { ckptSlice = s }(ckptSlice)
	ckptSlice = 40 // split every tensor of more than 10 floats
	ts := sample(4)
	path := filepath.Join(t.TempDir(), "m.ckpt")
	if err := Save(path, ts, MindSpore, WithCRC()); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if string(raw[len(raw)-crcTrailerLen:len(raw)-10]) != "crc_num" {
		t.Fatal("no crc_num trailer")
	}
	// Count the top-level values: features.0.weight (108 floats) alone needs 11.
	n := 0
	for b := raw[:len(raw)-crcTrailerLen]; len(b) > 0; n++ {
		_, typ, k := protowire.ConsumeTag(b)
		if typ != protowire.BytesType {
			t.Fatal("unexpected wire type")
		}
		b = b[k:]
		_, k = protowire.ConsumeBytes(b)
		b = b[k:]
	}
	if n < 11+len(ts) {
		t.Errorf("%d values, want the big tensors split", n)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	equalNamed(t, f.Tensors, ts)
	if len(f.Skipped) != 0 {
		t.Errorf("skipped %v", f.Skipped)
	}
}

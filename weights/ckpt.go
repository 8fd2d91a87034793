package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/govgg/govgg/tensor"
)

// MindSpore checkpoint.proto (proto2), as read from mindspore/ccsrc/utils/checkpoint.proto:
//
//	message Checkpoint { repeated Value value = 1; }
//	message Value { required string tag = 1; oneof value { TensorProto tensor = 2; MapTensorProto maptensor = 3; } }
//	message TensorProto { repeated int64 dims = 1; required string tensor_type = 2; required bytes tensor_content = 3; }
//
// MindSpore writes each parameter as its own one-Value Checkpoint message and
// appends them, so the file parses as one Checkpoint. A parameter bigger than
// 512 MiB is split into consecutive Values that repeat the tag and the full dims.
const (
	ckptSliceBytes = 512 << 20
	maxCkptTag     = 1 << 16
	maxCkptDims    = 32
)

// ckptSlice is the content size above which the writer splits a tensor; a variable
// so tests can exercise the split with small tensors.
var ckptSlice = ckptSliceBytes

// crcTrailer is what save_checkpoint(crc_check=True) appends: the ASCII "crc_num"
// and the CRC-32 (zlib/IEEE) of every preceding byte as a 10-byte big-endian
// integer (serialization.py: f.write('crc_num'.encode() + crc_num.to_bytes(10,
// byteorder='big')); load_checkpoint checks pb_content[-17:-10] == b"crc_num").
const (
	crcMagic      = "crc_num"
	crcTrailerLen = len(crcMagic) + 10
)

var ckptDTypes = map[string]DType{
	"Float32": F32, "Float16": F16, "BFloat16": BF16, "Float64": F64,
	"Int8": I8, "Int16": I16, "Int32": I32, "Int64": I64, "UInt8": U8, "Uint8": U8, "Bool": Bool,
}

// ckptIgnoredNames are names of training state that MindSpore saves with the model
// (optimizer, loss scaling, step counters); ckptIgnoredPrefixes prefix per-parameter
// optimizer or EMA copies.
var (
	ckptIgnoredNames = map[string]bool{
		"global_step": true, "learning_rate": true, "momentum": true, "scale_sense": true,
		"loss_scale": true, "current_iterator_step": true, "last_overflow_iterator_step": true,
		"epoch_num": true, "step_num": true, "beta1_power": true, "beta2_power": true, "weight_decay": true,
	}
	ckptIgnoredPrefixes = []string{"moments.", "accum.", "ema.", "moment1.", "moment2.", "adam_m.", "adam_v.", "mean_grad.", "mean_square."}
)

func ckptIgnoreReason(name string) string {
	if ckptIgnoredNames[name] {
		return "training state, not a model parameter"
	}
	for _, p := range ckptIgnoredPrefixes {
		if strings.HasPrefix(name, p) {
			return "optimizer or EMA state (" + strings.TrimSuffix(p, ".") + "), not a model parameter"
		}
	}
	return ""
}

type span struct{ off, n int64 }

type ckptValue struct {
	tag       string
	dims      []int64
	dtype     string
	content   []span
	hasTensor bool
	isMap     bool
}

// wire reads protobuf wire data from a ReaderAt, never reading past end.
type wire struct {
	r   io.ReaderAt
	pos int64
	end int64
}

func (w *wire) varint() (uint64, error) {
	var b [binary.MaxVarintLen64]byte
	n := min(int64(len(b)), w.end-w.pos)
	if n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if _, err := w.r.ReadAt(b[:n], w.pos); err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	v, k := protowire.ConsumeVarint(b[:n])
	if k < 0 {
		return 0, protowire.ParseError(k)
	}
	w.pos += int64(k)
	return v, nil
}

// field reads a field key and, for length-delimited fields, the length, checked
// against the remaining bytes.
func (w *wire) field() (num protowire.Number, typ protowire.Type, length int64, err error) {
	key, err := w.varint()
	if err != nil {
		return 0, 0, 0, err
	}
	num, typ = protowire.DecodeTag(key)
	if num <= 0 {
		return 0, 0, 0, fmt.Errorf("bad field number %d", num)
	}
	if typ == protowire.BytesType {
		l, err := w.varint()
		if err != nil {
			return 0, 0, 0, err
		}
		if l > uint64(w.end-w.pos) {
			return 0, 0, 0, fmt.Errorf("field %d claims %d bytes but only %d remain", num, l, w.end-w.pos)
		}
		length = int64(l)
	}
	return num, typ, length, nil
}

// skip skips the value of a field of type typ (length already read for BytesType).
func (w *wire) skip(typ protowire.Type, length int64) error {
	switch typ {
	case protowire.VarintType:
		_, err := w.varint()
		return err
	case protowire.Fixed32Type:
		length = 4
	case protowire.Fixed64Type:
		length = 8
	case protowire.BytesType:
	default:
		return fmt.Errorf("unsupported wire type %d", typ)
	}
	if length > w.end-w.pos {
		return io.ErrUnexpectedEOF
	}
	w.pos += length
	return nil
}

func (w *wire) bytes(n int64) ([]byte, error) {
	b := make([]byte, n)
	if _, err := w.r.ReadAt(b, w.pos); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return nil, err
	}
	w.pos += n
	return b, nil
}

func readCkpt(r io.ReaderAt, size int64) (*File, error) {
	end, err := checkCRCTrailer(r, size)
	if err != nil {
		return nil, err
	}
	var values []ckptValue
	w := &wire{r: r, end: end}
	for w.pos < w.end {
		at := w.pos
		num, typ, length, err := w.field()
		if err != nil {
			return nil, formatError("ckpt: at byte %d: %v", at, err)
		}
		if num != 1 || typ != protowire.BytesType { // not Checkpoint.value: skip (e.g. old model_type)
			if err := w.skip(typ, length); err != nil {
				return nil, formatError("ckpt: at byte %d: %v", at, err)
			}
			continue
		}
		sub := &wire{r: r, pos: w.pos, end: w.pos + length}
		v, err := parseCkptValue(sub)
		if err != nil {
			name := v.tag
			if name == "" {
				name = fmt.Sprintf("at byte %d", at)
			}
			return nil, formatError("ckpt: value %q: %v", name, err)
		}
		w.pos = sub.end
		// Consecutive values with one tag are slices of one large parameter.
		if n := len(values); n > 0 && values[n-1].tag == v.tag && v.hasTensor && values[n-1].hasTensor {
			prev := &values[n-1]
			if prev.dtype != v.dtype || !equalDims(prev.dims, v.dims) {
				return nil, formatError("ckpt: parameter %q: slices disagree on type or dims (%s %v vs %s %v)", v.tag, prev.dtype, prev.dims, v.dtype, v.dims)
			}
			prev.content = append(prev.content, v.content...)
			continue
		}
		values = append(values, v)
	}
	f := &File{Format: MindSpore}
	seen := make(map[string]bool, len(values))
	var buf []byte
	for _, v := range values {
		if seen[v.tag] {
			return nil, formatError("ckpt: parameter %q appears twice, not in consecutive slices", v.tag)
		}
		seen[v.tag] = true
		if reason := ckptSkipReason(v); reason != "" {
			f.Skipped = append(f.Skipped, Skipped{Name: v.tag, Reason: reason})
			continue
		}
		d := ckptDTypes[v.dtype]
		var t *tensor.Tensor
		if t, buf, err = loadCkptTensor(r, v, d, buf); err != nil {
			return nil, formatError("ckpt: parameter %q: %v", v.tag, err)
		}
		f.Tensors = append(f.Tensors, Named{Name: v.tag, Tensor: t, DType: d})
	}
	return f, nil
}

// checkCRCTrailer verifies and strips a crc_num trailer; it returns where the
// protobuf data ends.
func checkCRCTrailer(r io.ReaderAt, size int64) (int64, error) {
	if size < int64(crcTrailerLen) {
		return size, nil
	}
	var tr [crcTrailerLen]byte
	if _, err := r.ReadAt(tr[:], size-int64(crcTrailerLen)); err != nil {
		return 0, formatError("ckpt: reading the end of the file: %v", err)
	}
	if string(tr[:len(crcMagic)]) != crcMagic {
		return size, nil
	}
	num := tr[len(crcMagic):]
	if binary.BigEndian.Uint16(num[:2]) != 0 || binary.BigEndian.Uint32(num[2:6]) != 0 {
		return 0, formatError("ckpt: crc_num trailer % x does not hold a 32-bit CRC", num)
	}
	want := binary.BigEndian.Uint32(num[6:])
	end := size - int64(crcTrailerLen)
	h := crc32.NewIEEE()
	if _, err := io.CopyBuffer(h, io.NewSectionReader(r, 0, end), make([]byte, min(end, 1<<20)+1)); err != nil {
		return 0, formatError("ckpt: computing CRC: %v", err)
	}
	if got := h.Sum32(); got != want {
		return 0, formatError("ckpt: CRC mismatch: crc_num trailer says %d, the data gives %d (file damaged?)", want, got)
	}
	return end, nil
}

func parseCkptValue(w *wire) (ckptValue, error) {
	var v ckptValue
	for w.pos < w.end {
		num, typ, length, err := w.field()
		if err != nil {
			return v, err
		}
		switch {
		case num == 1 && typ == protowire.BytesType:
			if length > maxCkptTag {
				return v, fmt.Errorf("tag of %d bytes", length)
			}
			b, err := w.bytes(length)
			if err != nil {
				return v, err
			}
			v.tag = string(b)
		case num == 2 && typ == protowire.BytesType:
			if v.hasTensor {
				return v, errors.New("two tensors in one value")
			}
			v.hasTensor = true
			sub := &wire{r: w.r, pos: w.pos, end: w.pos + length}
			if err := parseTensorProto(sub, &v); err != nil {
				return v, err
			}
			w.pos = sub.end
		case num == 3 && typ == protowire.BytesType:
			v.isMap = true
			w.pos += length
		default:
			if err := w.skip(typ, length); err != nil {
				return v, err
			}
		}
	}
	if v.tag == "" {
		return v, errors.New("value without a tag")
	}
	return v, nil
}

func parseTensorProto(w *wire, v *ckptValue) error {
	for w.pos < w.end {
		num, typ, length, err := w.field()
		if err != nil {
			return err
		}
		switch {
		case num == 1 && typ == protowire.VarintType:
			d, err := w.varint()
			if err != nil {
				return err
			}
			v.dims = append(v.dims, int64(d))
		case num == 1 && typ == protowire.BytesType: // packed dims
			sub := &wire{r: w.r, pos: w.pos, end: w.pos + length}
			for sub.pos < sub.end {
				d, err := sub.varint()
				if err != nil {
					return fmt.Errorf("packed dims: %v", err)
				}
				v.dims = append(v.dims, int64(d))
				if len(v.dims) > maxCkptDims {
					break
				}
			}
			w.pos += length
		case num == 2 && typ == protowire.BytesType:
			if length > 64 {
				return fmt.Errorf("tensor_type of %d bytes", length)
			}
			b, err := w.bytes(length)
			if err != nil {
				return err
			}
			v.dtype = string(b)
		case num == 3 && typ == protowire.BytesType:
			v.content = append(v.content, span{w.pos, length})
			w.pos += length
		default:
			if err := w.skip(typ, length); err != nil {
				return err
			}
		}
		if len(v.dims) > maxCkptDims {
			return fmt.Errorf("more than %d dims", maxCkptDims)
		}
	}
	return nil
}

func ckptSkipReason(v ckptValue) string {
	if r := ckptIgnoreReason(v.tag); r != "" {
		return r
	}
	switch {
	case v.isMap:
		return "map parameter (MapTensorProto) is not supported"
	case !v.hasTensor:
		return "value holds no tensor"
	case v.dtype == "str":
		return "string value"
	}
	d, ok := ckptDTypes[v.dtype]
	switch {
	case !ok:
		return fmt.Sprintf("tensor_type %q is not a supported numeric type", v.dtype)
	case !d.IsFloat():
		return fmt.Sprintf("integer parameter (%s), not a model weight", v.dtype)
	}
	return ""
}

func loadCkptTensor(r io.ReaderAt, v ckptValue, d DType, buf []byte) (*tensor.Tensor, []byte, error) {
	var total int64
	parts := make([]io.Reader, len(v.content))
	for i, s := range v.content {
		total += s.n
		parts[i] = io.NewSectionReader(r, s.off, s.n)
	}
	es := int64(d.Size())
	shape := make([]int, 0, len(v.dims))
	numel := int64(1)
	for _, x := range v.dims {
		if x < 0 || (x > 0 && numel > total/x) {
			return nil, buf, fmt.Errorf("dims %v do not fit its %d content bytes", v.dims, total)
		}
		numel *= x
		shape = append(shape, int(x))
	}
	// Old savers wrote a scalar as dims [0] with one element of content.
	if len(v.dims) == 1 && v.dims[0] == 0 && total == es {
		shape, numel = nil, 1
	}
	if numel*es != total {
		return nil, buf, fmt.Errorf("dims %v of %s need %d bytes but the content has %d", v.dims, v.dtype, numel*es, total)
	}
	t := tensor.New(shape...)
	src := io.MultiReader(parts...)
	if d == F32 && littleEndian {
		if _, err := io.ReadFull(src, f32Bytes(t.Data())); err != nil {
			return nil, buf, err
		}
		return t, buf, nil
	}
	dst := t.Data()
	per := min((1<<20)/int(es), len(dst))
	if cap(buf) < per*int(es) {
		buf = make([]byte, per*int(es))
	}
	for len(dst) > 0 {
		k := min(per, len(dst))
		b := buf[:k*int(es)]
		if _, err := io.ReadFull(src, b); err != nil {
			return nil, buf, err
		}
		decode(dst[:k], b, d)
		dst = dst[k:]
	}
	return t, buf, nil
}

func equalDims(a, b []int64) bool {
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

// writeCkpt writes ts as MindSpore does: one Checkpoint message per parameter
// (split above ckptSlice bytes), Float32, scalars with dims [0]; with crc, the
// crc_num trailer.
func writeCkpt(w io.Writer, ts []Named, crc bool) error {
	h := crc32.NewIEEE()
	out := io.Writer(w)
	if crc {
		out = io.MultiWriter(w, h)
	}
	for _, t := range ts {
		dims := make([]int64, 0, t.Tensor.Rank())
		for _, d := range t.Tensor.Shape() {
			dims = append(dims, int64(d))
		}
		if len(dims) == 0 {
			dims = append(dims, 0)
		}
		data := t.Tensor.Data()
		per := max(ckptSlice/4, 1)
		for first := true; first || len(data) > 0; first = false {
			k := min(per, len(data))
			if err := writeCkptValue(out, t.Name, dims, data[:k]); err != nil {
				return err
			}
			data = data[k:]
		}
	}
	if crc {
		var tr [crcTrailerLen]byte
		copy(tr[:], crcMagic)
		binary.BigEndian.PutUint32(tr[crcTrailerLen-4:], h.Sum32())
		_, err := w.Write(tr[:])
		return err
	}
	return nil
}

func writeCkptValue(w io.Writer, name string, dims []int64, data []float32) error {
	var tp []byte // TensorProto without its content bytes
	for _, d := range dims {
		tp = protowire.AppendTag(tp, 1, protowire.VarintType)
		tp = protowire.AppendVarint(tp, uint64(d))
	}
	tp = protowire.AppendTag(tp, 2, protowire.BytesType)
	tp = protowire.AppendString(tp, "Float32")
	tp = protowire.AppendTag(tp, 3, protowire.BytesType)
	n := uint64(4 * len(data))
	tp = protowire.AppendVarint(tp, n)
	tpLen := uint64(len(tp)) + n

	var val []byte
	val = protowire.AppendTag(val, 1, protowire.BytesType)
	val = protowire.AppendString(val, name)
	val = protowire.AppendTag(val, 2, protowire.BytesType)
	val = protowire.AppendVarint(val, tpLen)
	valLen := uint64(len(val)) + tpLen

	var b bytes.Buffer
	b.Write(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.BytesType), valLen))
	b.Write(val)
	b.Write(tp)
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	return writeTensorF32(w, data)
}

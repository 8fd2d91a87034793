package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"

	"github.com/govgg/govgg/tensor"
)

// maxHeader bounds a safetensors JSON header, as the reference implementation does.
const maxHeader = 100 << 20

var safetensorsDTypes = map[string]DType{
	"F64": F64, "F32": F32, "F16": F16, "BF16": BF16,
	"I64": I64, "I32": I32, "I16": I16, "I8": I8, "U8": U8, "BOOL": Bool,
}

type stEntry struct {
	name       string
	dtype      DType
	shape      []int
	begin, end int64
}

func readSafetensors(r io.ReaderAt, size int64) (*File, error) {
	if size < 8 {
		return nil, formatError("safetensors: file of %d bytes is shorter than the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, formatError("safetensors: reading header length: %v", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > uint64(size-8) {
		return nil, formatError("safetensors: header length %d exceeds the %d bytes after it", n, size-8)
	}
	if n > maxHeader {
		return nil, formatError("safetensors: header length %d exceeds the %d-byte limit", n, maxHeader)
	}
	hdr := make([]byte, n)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, formatError("safetensors: reading header: %v", err)
	}
	dataStart := 8 + int64(n)
	entries, meta, err := parseSafetensorsHeader(hdr, size-dataStart)
	if err != nil {
		return nil, err
	}
	f := &File{Format: Safetensors, Metadata: meta, Tensors: make([]Named, 0, len(entries))}
	var buf []byte
	for _, e := range entries {
		t := tensor.New(e.shape...)
		if e.dtype == F32 && littleEndian {
			if _, err := r.ReadAt(f32Bytes(t.Data()), dataStart+e.begin); err != nil {
				return nil, formatError("safetensors: tensor %q: reading data: %v", e.name, err)
			}
		} else if buf, err = readConverted(r, dataStart+e.begin, t.Data(), e.dtype, buf); err != nil {
			return nil, formatError("safetensors: tensor %q: reading data: %v", e.name, err)
		}
		f.Tensors = append(f.Tensors, Named{Name: e.name, Tensor: t, DType: e.dtype})
	}
	return f, nil
}

// readConverted reads len(dst) elements of type d at off and converts them, in
// chunks through buf (which it may grow and returns for reuse).
func readConverted(r io.ReaderAt, off int64, dst []float32, d DType, buf []byte) ([]byte, error) {
	const chunk = 1 << 20 // bytes
	es := d.Size()
	per := min(chunk/es, len(dst))
	if cap(buf) < per*es {
		buf = make([]byte, per*es)
	}
	for len(dst) > 0 {
		k := min(per, len(dst))
		b := buf[:k*es]
		if _, err := r.ReadAt(b, off); err != nil {
			return buf, err
		}
		decode(dst[:k], b, d)
		dst = dst[k:]
		off += int64(len(b))
	}
	return buf, nil
}

// parseSafetensorsHeader validates the JSON header against dataLen, the number of
// bytes after it, and returns the entries in data order.
func parseSafetensorsHeader(hdr []byte, dataLen int64) ([]stEntry, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, formatError("safetensors: header is not a JSON object")
	}
	var (
		entries []stEntry
		meta    map[string]string
		seen    = map[string]bool{}
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, formatError("safetensors: header JSON: %v", err)
		}
		name := tok.(string) // object keys are always strings
		if seen[name] {
			return nil, nil, formatError("safetensors: tensor %q appears twice in the header", name)
		}
		seen[name] = true
		if name == "__metadata__" {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, formatError("safetensors: __metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		var info struct {
			DType   *string        `json:"dtype"`
			Shape   *[]json.Number `json:"shape"`
			Offsets *[]json.Number `json:"data_offsets"`
		}
		if err := dec.Decode(&info); err != nil {
			return nil, nil, formatError("safetensors: tensor %q: bad header entry: %v", name, err)
		}
		e, err := checkSTEntry(name, info.DType, info.Shape, info.Offsets, dataLen)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, formatError("safetensors: header JSON: %v", err)
	}
	rest := hdr[dec.InputOffset():]
	if len(bytes.TrimRight(rest, " \t\r\n\x00")) != 0 {
		return nil, nil, formatError("safetensors: %d stray bytes after the header JSON", len(rest))
	}
	// The data must be exactly covered: no gaps, no overlaps, nothing left over.
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].begin != entries[j].begin {
			return entries[i].begin < entries[j].begin
		}
		return entries[i].end < entries[j].end
	})
	var pos int64
	for i, e := range entries {
		switch {
		case e.begin < pos:
			return nil, nil, formatError("safetensors: tensor %q (bytes %d..%d) overlaps tensor %q", e.name, e.begin, e.end, entries[i-1].name)
		case e.begin > pos:
			return nil, nil, formatError("safetensors: gap of %d bytes before tensor %q at offset %d", e.begin-pos, e.name, e.begin)
		}
		pos = e.end
	}
	if pos != dataLen {
		return nil, nil, formatError("safetensors: tensors cover %d of the %d data bytes", pos, dataLen)
	}
	return entries, meta, nil
}

func checkSTEntry(name string, dt *string, shape, offs *[]json.Number, dataLen int64) (stEntry, error) {
	e := stEntry{name: name}
	switch {
	case dt == nil:
		return e, formatError("safetensors: tensor %q has no dtype", name)
	case shape == nil:
		return e, formatError("safetensors: tensor %q has no shape", name)
	case offs == nil || len(*offs) != 2:
		return e, formatError("safetensors: tensor %q needs data_offsets [begin, end]", name)
	}
	d, ok := safetensorsDTypes[*dt]
	if !ok {
		return e, formatError("safetensors: tensor %q has unsupported dtype %q", name, *dt)
	}
	e.dtype = d
	numel := int64(1)
	for _, s := range *shape {
		v, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil || v < 0 {
			return e, formatError("safetensors: tensor %q has bad dimension %s in shape %v", name, s, *shape)
		}
		if v != 0 && numel > math.MaxInt64/int64(d.Size())/v {
			return e, formatError("safetensors: tensor %q: shape %v overflows", name, *shape)
		}
		numel *= v
		e.shape = append(e.shape, int(v))
	}
	var err error
	if e.begin, err = strconv.ParseInt(string((*offs)[0]), 10, 64); err == nil {
		e.end, err = strconv.ParseInt(string((*offs)[1]), 10, 64)
	}
	if err != nil || e.begin < 0 || e.end < e.begin || e.end > dataLen {
		return e, formatError("safetensors: tensor %q has data_offsets %v outside the %d data bytes", name, *offs, dataLen)
	}
	if want := numel * int64(d.Size()); e.end-e.begin != want {
		return e, formatError("safetensors: tensor %q: shape %v of %s needs %d bytes but data_offsets span %d", name, e.shape, d, want, e.end-e.begin)
	}
	return e, nil
}

func writeSafetensors(w io.Writer, ts []Named, meta map[string]string) error {
	var h bytes.Buffer
	h.WriteByte('{')
	if len(meta) > 0 {
		m, err := json.Marshal(meta) // map keys come out sorted
		if err != nil {
			return err
		}
		h.WriteString(`"__metadata__":`)
		h.Write(m)
	}
	var off int64
	for i, t := range ts {
		if i > 0 || len(meta) > 0 {
			h.WriteByte(',')
		}
		name, _ := json.Marshal(t.Name)
		shape, _ := json.Marshal(shapeOf(t.Tensor))
		n := int64(4 * t.Tensor.Len())
		fmt.Fprintf(&h, `%s:{"dtype":"F32","shape":%s,"data_offsets":[%d,%d]}`, name, shape, off, off+n)
		off += n
	}
	h.WriteByte('}')
	for (8+h.Len())%8 != 0 { // align the data to 8 bytes, padding with spaces as the spec allows
		h.WriteByte(' ')
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(h.Len()))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(h.Bytes()); err != nil {
		return err
	}
	return writeF32(w, ts)
}

// writeF32 writes every tensor's data as little-endian float32, one after another.
func writeF32(w io.Writer, ts []Named) error {
	for _, t := range ts {
		if err := writeTensorF32(w, t.Tensor.Data()); err != nil {
			return err
		}
	}
	return nil
}

func writeTensorF32(w io.Writer, data []float32) error {
	if littleEndian {
		_, err := w.Write(f32Bytes(data))
		return err
	}
	buf := make([]byte, 4*min(len(data), 1<<18))
	for len(data) > 0 {
		k := min(len(data), len(buf)/4)
		encodeF32(buf, data[:k])
		if _, err := w.Write(buf[:4*k]); err != nil {
			return err
		}
		data = data[k:]
	}
	return nil
}

// shapeOf returns a tensor's shape, never nil, so that a scalar is written as [].
func shapeOf(t *tensor.Tensor) []int {
	if s := t.Shape(); s != nil {
		return s
	}
	return []int{}
}

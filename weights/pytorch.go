package weights

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"strings"

	"github.com/govgg/govgg/tensor"
)

// storageLoader returns the float32 contents of a root storage.
type storageLoader func(ref *storageRef) ([]float32, error)

func parseStoragePID(pid any, legacy bool) (*storageRef, error) {
	t, ok := pid.(pyTuple)
	if !ok || len(t) < 5 || t[0] != "storage" {
		return nil, fmt.Errorf("unsupported persistent id %s; want ('storage', type, key, location, numel)", typeName(pid))
	}
	g, ok := t[1].(pyGlobal)
	dt, known := storageTypes[g.name]
	if !ok || !known {
		return nil, fmt.Errorf("persistent id names %s, not a torch storage type", typeName(t[1]))
	}
	key, ok1 := t[2].(string)
	numel, ok2 := t[4].(int64)
	if !ok1 || !ok2 || numel < 0 {
		return nil, errors.New("malformed storage persistent id")
	}
	ref := &storageRef{key: key, dtype: dt, numel: numel}
	if legacy && len(t) >= 6 && t[5] != nil {
		// view_metadata (view_key, offset, view_size) of pre-1.0 storage views.
		vm, ok := t[5].(pyTuple)
		if !ok || len(vm) != 3 {
			return nil, errors.New("malformed storage view metadata")
		}
		off, ok1 := vm[1].(int64)
		vsize, ok2 := vm[2].(int64)
		if !ok1 || !ok2 || off < 0 || vsize < 0 || off > numel || vsize > numel-off {
			return nil, fmt.Errorf("storage view [%v, +%v) outside storage %q of %d elements", vm[1], vm[2], key, numel)
		}
		return &storageRef{key: key, dtype: dt, numel: vsize, offset: off, root: numel}, nil
	}
	ref.root = numel
	return ref, nil
}

func readPyTorchZip(r io.ReaderAt, size int64) (*File, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, formatError("pytorch zip: %v", err)
	}
	entries := make(map[string]*zip.File, len(zr.File))
	var pkl *zip.File
	for _, f := range zr.File {
		entries[f.Name] = f
		if f.Name == "data.pkl" || strings.HasSuffix(f.Name, "/data.pkl") && strings.Count(f.Name, "/") == 1 {
			if pkl != nil {
				return nil, formatError("pytorch zip: two data.pkl entries (%s, %s)", pkl.Name, f.Name)
			}
			pkl = f
		}
	}
	if pkl == nil {
		return nil, formatError("pytorch zip: no <archive>/data.pkl entry; is this a torch.save file?")
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	// torch ≥ 2.1 records the writer's byte order; older files are little-endian.
	if bo, ok := entries[prefix+"byteorder"]; ok && bo.UncompressedSize64 < 16 {
		if rc, err := bo.Open(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(rc, 16))
			rc.Close()
			if strings.TrimSpace(string(b)) == "big" {
				return nil, formatError("pytorch zip: storages are big-endian (written on a big-endian machine); not supported")
			}
		}
	}
	roots := map[string]*storageRef{}
	pers := func(pid any) (any, error) {
		ref, err := parseStoragePID(pid, false)
		if err != nil {
			return nil, err
		}
		if prev, ok := roots[ref.key]; ok && (prev.dtype != ref.dtype || prev.numel != ref.numel) {
			return nil, fmt.Errorf("storage %q is described twice with different types or sizes", ref.key)
		}
		roots[ref.key] = ref
		return ref, nil
	}
	rc, err := pkl.Open()
	if err != nil {
		return nil, formatError("pytorch zip: %s: %v", pkl.Name, err)
	}
	root, _, err := unpickle(rc, entryLimit(pkl), pers)
	rc.Close()
	if err != nil {
		return nil, formatError("pytorch zip: %s: %v", pkl.Name, err)
	}
	load := func(ref *storageRef) ([]float32, error) {
		name := prefix + "data/" + ref.key
		f, ok := entries[name]
		if !ok {
			return nil, fmt.Errorf("storage %q: no zip entry %s", ref.key, name)
		}
		return readZipStorage(r, size, f, ref)
	}
	f, err := buildFile(root, load, size)
	if err != nil {
		return nil, err
	}
	f.Format = PyTorch
	return f, nil
}

// entryLimit is how many bytes a zip entry may yield: its declared size, capped at
// what deflate could expand its compressed bytes to.
func entryLimit(f *zip.File) int64 {
	n := f.UncompressedSize64
	if f.Method != zip.Store {
		n = min(n, 1032*f.CompressedSize64+64)
	} else {
		n = min(n, f.CompressedSize64)
	}
	return int64(min(n, math.MaxInt64/2))
}

// readZipStorage reads one storage entry. torch.save stores entries uncompressed,
// so the data is read straight from the file into float32 memory and its CRC checked.
func readZipStorage(r io.ReaderAt, size int64, f *zip.File, ref *storageRef) ([]float32, error) {
	es := int64(ref.dtype.Size())
	if ref.root > entryLimit(f)/es {
		return nil, fmt.Errorf("storage %q: %d elements of %s need %d bytes but zip entry %s holds %d", ref.key, ref.root, ref.dtype, ref.root*es, f.Name, f.UncompressedSize64)
	}
	nbytes := ref.root * es
	data := tensor.Aligned(int(ref.root))
	if f.Method == zip.Store {
		off, err := f.DataOffset()
		if err != nil || off < 0 || off > size-nbytes {
			return nil, fmt.Errorf("storage %q: zip entry %s lies outside the file", ref.key, f.Name)
		}
		var raw []byte
		if ref.dtype == F32 && littleEndian {
			raw = f32Bytes(data)
		} else {
			raw = make([]byte, nbytes)
		}
		if _, err := r.ReadAt(raw, off); err != nil {
			return nil, fmt.Errorf("storage %q: %v", ref.key, err)
		}
		if uint64(nbytes) == f.UncompressedSize64 && crc32.ChecksumIEEE(raw) != f.CRC32 {
			return nil, fmt.Errorf("storage %q: CRC mismatch in zip entry %s (file damaged?)", ref.key, f.Name)
		}
		if !(ref.dtype == F32 && littleEndian) {
			decode(data, raw, ref.dtype)
		}
		return data, nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("storage %q: %v", ref.key, err)
	}
	defer rc.Close()
	if _, err := readStream(rc, data, ref.dtype); err != nil {
		return nil, fmt.Errorf("storage %q: zip entry %s: %v", ref.key, f.Name, err)
	}
	return data, nil
}

// readStream fills dst with elements of type d read from src.
func readStream(src io.Reader, dst []float32, d DType) ([]byte, error) {
	if d == F32 && littleEndian {
		_, err := io.ReadFull(src, f32Bytes(dst))
		return nil, noEOF(err)
	}
	es := d.Size()
	buf := make([]byte, es*min(len(dst), (1<<20)/es))
	for len(dst) > 0 {
		k := min(len(dst), len(buf)/es)
		if _, err := io.ReadFull(src, buf[:k*es]); err != nil {
			return buf, noEOF(err)
		}
		decode(dst[:k], buf[:k*es], d)
		dst = dst[k:]
	}
	return buf, nil
}

// legacyMagic is torch.serialization's MAGIC_NUMBER 0x1950a86a20f9469cfc6c,
// little-endian as pickle's LONG1 stores it.
var legacyMagic = []byte{0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// readPyTorchLegacy reads torch.save's pre-1.6 format: pickles of the magic number,
// the protocol version (1001) and sys_info, then the object pickle, then a pickle of
// the storage keys, then each storage as an int64 element count and its raw bytes.
func readPyTorchLegacy(r io.ReaderAt, size int64) (*File, error) {
	var pos int64
	next := func(what string, pers func(any) (any, error)) (any, error) {
		v, n, err := unpickle(io.NewSectionReader(r, pos, size-pos), size-pos, pers)
		if err != nil {
			return nil, formatError("pytorch legacy: %s: %v", what, err)
		}
		pos += n
		return v, nil
	}
	magic, err := next("magic number", nil)
	if err != nil {
		return nil, err
	}
	if m, ok := magic.(bigInt); !ok || !bytes.Equal(m, legacyMagic) {
		return nil, formatError("pytorch legacy: the first pickle is not torch.save's magic number; a raw pickle is not a PyTorch file")
	}
	proto, err := next("protocol version", nil)
	if err != nil {
		return nil, err
	}
	if proto != int64(1001) {
		return nil, formatError("pytorch legacy: protocol version %v, want 1001", proto)
	}
	info, err := next("sys_info", nil)
	if err != nil {
		return nil, err
	}
	if d, ok := info.(*pyDict); ok {
		if le, ok := d.vals["little_endian"].(bool); ok && !le {
			return nil, formatError("pytorch legacy: file was written on a big-endian machine; not supported")
		}
	}
	roots := map[string]*storageRef{}
	pers := func(pid any) (any, error) {
		ref, err := parseStoragePID(pid, true)
		if err != nil {
			return nil, err
		}
		if prev, ok := roots[ref.key]; ok && (prev.dtype != ref.dtype || prev.root != ref.root) {
			return nil, fmt.Errorf("storage %q is described twice with different types or sizes", ref.key)
		}
		roots[ref.key] = ref
		return ref, nil
	}
	root, err := next("data", pers)
	if err != nil {
		return nil, err
	}
	keysV, err := next("storage keys", nil)
	if err != nil {
		return nil, err
	}
	keyList, ok := keysV.(*pyList)
	if !ok {
		return nil, formatError("pytorch legacy: storage keys are a %s, not a list", typeName(keysV))
	}
	offsets := map[string]int64{}
	for _, k := range keyList.items {
		key, ok := k.(string)
		ref := roots[key]
		if !ok || ref == nil {
			return nil, formatError("pytorch legacy: storage key %v is not used by the data", k)
		}
		var cnt [8]byte
		if pos > size-8 {
			return nil, formatError("pytorch legacy: storage %q: file ends before its size", key)
		}
		if _, err := r.ReadAt(cnt[:], pos); err != nil {
			return nil, formatError("pytorch legacy: storage %q: %v", key, err)
		}
		n := int64(binary.LittleEndian.Uint64(cnt[:]))
		es := int64(ref.dtype.Size())
		if n != ref.root || n < 0 || n > (size-pos-8)/es {
			return nil, formatError("pytorch legacy: storage %q: stored size %d, expected %d elements of %s within the %d bytes left", key, n, ref.root, ref.dtype, size-pos-8)
		}
		offsets[key] = pos + 8
		pos += 8 + n*es
	}
	load := func(ref *storageRef) ([]float32, error) {
		off, ok := offsets[ref.key]
		if !ok {
			return nil, fmt.Errorf("storage %q is not in the file", ref.key)
		}
		data := tensor.Aligned(int(ref.root))
		n := ref.root * int64(ref.dtype.Size())
		_, err := readStream(bufio.NewReaderSize(io.NewSectionReader(r, off, n), int(min(n, 1<<20))), data, ref.dtype)
		if err != nil {
			return nil, fmt.Errorf("storage %q: %v", ref.key, err)
		}
		return data, nil
	}
	f, err := buildFile(root, load, size)
	if err != nil {
		return nil, err
	}
	f.Format = PyTorchLegacy
	return f, nil
}

// stateDictKeys are the keys under which training scripts nest a state dict.
var stateDictKeys = []string{"state_dict", "model_state_dict", "model", "module", "net", "network", "params", "weights", "ema", "model_ema"}

// buildFile turns an unpickled object into named tensors: the object itself if it
// is a state dict, else the first state dict found under a well-known key.
// budget bounds the total number of elements materialised (the file's size), so
// views of shared storages cannot multiply memory beyond what the file holds.
func buildFile(root any, load storageLoader, budget int64) (*File, error) {
	top, ok := root.(*pyDict)
	if !ok {
		return nil, formatError("pytorch: the file holds a %s, not a dict of tensors", typeName(root))
	}
	f := &File{}
	sd := top
	if !hasTensor(top) {
		sd = nil
		for _, k := range stateDictKeys {
			if d, ok := top.vals[k].(*pyDict); ok && hasTensor(d) {
				sd = d
				break
			}
		}
		if sd == nil {
			return nil, formatError("pytorch: no tensors at the top level nor under any of %v (keys: %v)", stateDictKeys, dictKeys(top))
		}
		for _, k := range top.keys {
			if top.vals[k] != sd {
				f.Skipped = append(f.Skipped, Skipped{Name: fmt.Sprint(k), Reason: "checkpoint entry beside the state dict (" + typeName(top.vals[k]) + ")"})
			}
		}
	}
	cache := map[string][]float32{}
	claimed := map[string]bool{}
	for _, k := range sd.keys {
		name, ok := k.(string)
		if !ok {
			f.Skipped = append(f.Skipped, Skipped{Name: fmt.Sprint(k), Reason: "non-string key"})
			continue
		}
		tr, ok := sd.vals[k].(*tensorRef)
		if !ok {
			f.Skipped = append(f.Skipped, Skipped{Name: name, Reason: "not a tensor (" + typeName(sd.vals[k]) + ")"})
			continue
		}
		t, err := materialize(tr, load, cache, claimed, &budget)
		if err != nil {
			return nil, formatError("pytorch: tensor %q: %v", name, err)
		}
		f.Tensors = append(f.Tensors, Named{Name: name, Tensor: t, DType: tr.storage.dtype})
	}
	return f, nil
}

func hasTensor(d *pyDict) bool {
	for _, v := range d.vals {
		if _, ok := v.(*tensorRef); ok {
			return true
		}
	}
	return false
}

func dictKeys(d *pyDict) []string {
	var ks []string
	for _, k := range d.keys {
		ks = append(ks, fmt.Sprint(k))
	}
	return ks
}

// materialize gathers a (possibly strided) view of a storage into a dense tensor.
func materialize(tr *tensorRef, load storageLoader, cache map[string][]float32, claimed map[string]bool, budget *int64) (*tensor.Tensor, error) {
	s := tr.storage
	shape := make([]int, len(tr.size))
	empty := false
	for i, d := range tr.size {
		if d < 0 || tr.stride[i] < 0 {
			return nil, fmt.Errorf("negative size or stride (size %v, stride %v)", tr.size, tr.stride)
		}
		empty = empty || d == 0
	}
	if tr.offset < 0 {
		return nil, fmt.Errorf("negative storage offset %d", tr.offset)
	}
	numel, last := int64(1), tr.offset
	for i, d := range tr.size {
		if empty {
			shape[i] = int(min(d, math.MaxInt32))
			continue
		}
		if d > *budget/numel {
			return nil, fmt.Errorf("size %v exceeds what the file can hold (shared or expanded storage views?)", tr.size)
		}
		numel *= d
		shape[i] = int(d)
		if st := tr.stride[i]; d > 1 && st > 0 {
			if st > s.numel/(d-1) {
				last = s.numel
				break
			}
			last += (d - 1) * st
		}
		if last >= s.numel {
			break
		}
	}
	if empty {
		return tensor.New(shape...), nil
	}
	if last >= s.numel {
		return nil, fmt.Errorf("view (offset %d, size %v, stride %v) reaches past the %d elements of storage %q", tr.offset, tr.size, tr.stride, s.numel, s.key)
	}
	*budget -= numel
	data, ok := cache[s.key]
	if !ok {
		var err error
		if data, err = load(s); err != nil {
			return nil, err
		}
		cache[s.key] = data
	}
	base := s.offset + tr.offset
	if isContiguous(tr) && base == 0 && numel == int64(len(data)) && !claimed[s.key] {
		claimed[s.key] = true // hand the storage over once; later views copy
		return tensor.FromSlice(data, shape...)
	}
	t := tensor.New(shape...)
	gather(t.Data(), data[base:], tr.size, tr.stride)
	return t, nil
}

func isContiguous(tr *tensorRef) bool {
	want := int64(1)
	for i := len(tr.size) - 1; i >= 0; i-- {
		if tr.size[i] != 1 && tr.stride[i] != want {
			return false
		}
		want *= tr.size[i]
	}
	return true
}

// gather copies the strided view of src into dst in row-major order.
func gather(dst, src []float32, size, stride []int64) {
	if len(size) == 0 {
		dst[0] = src[0]
		return
	}
	n := len(size) - 1
	inner, innerStride := int(size[n]), int(stride[n])
	idx := make([]int64, n)
	for o := 0; o < len(dst); o += inner {
		var off int64
		for i, v := range idx {
			off += v * stride[i]
		}
		row := src[off:]
		for j := 0; j < inner; j++ {
			dst[o+j] = row[j*innerStride]
		}
		for i := n - 1; i >= 0; i-- { // odometer over the outer dims
			if idx[i]++; idx[i] < size[i] {
				break
			}
			idx[i] = 0
		}
	}
}

package weights

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unicode/utf8"
)

// A small pickle virtual machine: the binary opcodes of protocols 2 to 5, and only
// the globals a PyTorch state dict needs. It never imports or calls anything: an
// allowed global is a Go function or a marker, any other global is an error that
// names it.

// Pickled values are Go values: nil (None), bool, int64, bigInt, float64, string,
// []byte, pyTuple, *pyList, *pyDict, pyGlobal, *storageRef, *tensorRef.
type (
	pyTuple  []any
	pyList   struct{ items []any }
	pyGlobal struct{ module, name string }
	bigInt   []byte // little-endian two's complement, for integers beyond int64
)

// pyDict is an insertion-ordered dict with hashable (comparable) keys.
type pyDict struct {
	keys []any
	vals map[any]any
}

func newDict() *pyDict { return &pyDict{vals: map[any]any{}} }

func (d *pyDict) set(k, v any) error {
	switch k.(type) {
	case nil, bool, int64, float64, string:
	default:
		return fmt.Errorf("unsupported dict key of type %s", typeName(k))
	}
	if _, ok := d.vals[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.vals[k] = v
	return nil
}

// storageRef is a persistent-id reference to a typed storage.
type storageRef struct {
	key    string
	dtype  DType
	numel  int64 // elements visible through this reference
	offset int64 // element offset into the root storage (legacy view_metadata)
	root   int64 // elements of the root storage
}

// tensorRef is a tensor as _rebuild_tensor_v2 describes it: a view of a storage.
type tensorRef struct {
	storage *storageRef
	offset  int64
	size    []int64
	stride  []int64
}

var storageTypes = map[string]DType{
	"FloatStorage": F32, "DoubleStorage": F64, "HalfStorage": F16, "BFloat16Storage": BF16,
	"LongStorage": I64, "IntStorage": I32, "ShortStorage": I16, "CharStorage": I8,
	"ByteStorage": U8, "BoolStorage": Bool,
}

// callables are the globals that REDUCE may apply.
var callables = map[pyGlobal]func(args pyTuple) (any, error){
	{"collections", "OrderedDict"}:                    newOrderedDict,
	{"torch._utils", "_rebuild_tensor_v2"}:            rebuildTensor,
	{"torch._utils", "_rebuild_tensor"}:               rebuildTensor,
	{"torch._utils", "_rebuild_parameter"}:            rebuildParameter,
	{"torch", "Size"}:                                 torchSize,
	{"_codecs", "encode"}:                             codecsEncode,
	{"torch._utils", "_rebuild_parameter_with_state"}: rebuildParameter,
}

func allowedGlobal(g pyGlobal) bool {
	if _, ok := callables[g]; ok {
		return true
	}
	// Old files saved from a GPU may name torch.cuda.FloatStorage and the like.
	_, ok := storageTypes[g.name]
	return ok && (g.module == "torch" || g.module == "torch.cuda")
}

func newOrderedDict(args pyTuple) (any, error) {
	d := newDict()
	if len(args) == 0 {
		return d, nil
	}
	l, ok := args[0].(*pyList)
	if len(args) != 1 || !ok {
		return nil, errors.New("OrderedDict: unsupported arguments")
	}
	for _, it := range l.items {
		p, ok := it.(pyTuple)
		if !ok || len(p) != 2 {
			return nil, errors.New("OrderedDict: items must be pairs")
		}
		if err := d.set(p[0], p[1]); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func rebuildTensor(args pyTuple) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor: %d arguments, want at least 4", len(args))
	}
	s, ok := args[0].(*storageRef)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor: first argument is a %s, not a storage", typeName(args[0]))
	}
	off, ok := args[1].(int64)
	if !ok {
		return nil, errors.New("_rebuild_tensor: storage offset is not an int")
	}
	size, err := intTuple(args[2])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor: size: %v", err)
	}
	stride, err := intTuple(args[3])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor: stride: %v", err)
	}
	if len(size) != len(stride) {
		return nil, fmt.Errorf("_rebuild_tensor: size %v and stride %v differ in rank", size, stride)
	}
	return &tensorRef{storage: s, offset: off, size: size, stride: stride}, nil
}

func rebuildParameter(args pyTuple) (any, error) {
	if len(args) < 1 {
		return nil, errors.New("_rebuild_parameter: no arguments")
	}
	if _, ok := args[0].(*tensorRef); !ok {
		return nil, fmt.Errorf("_rebuild_parameter: data is a %s, not a tensor", typeName(args[0]))
	}
	return args[0], nil
}

func torchSize(args pyTuple) (any, error) {
	if len(args) == 0 {
		return pyTuple{}, nil
	}
	if _, err := intTuple(args[0]); err != nil || len(args) != 1 {
		return nil, errors.New("torch.Size: argument is not a tuple of ints")
	}
	return args[0], nil
}

// codecsEncode is how protocol 2 pickles bytes: _codecs.encode(str, "latin1").
func codecsEncode(args pyTuple) (any, error) {
	if len(args) != 2 {
		return nil, errors.New("_codecs.encode: want 2 arguments")
	}
	s, ok1 := args[0].(string)
	enc, ok2 := args[1].(string)
	if !ok1 || !ok2 || (enc != "latin1" && enc != "latin-1") {
		return nil, errors.New("_codecs.encode: only encode(str, 'latin1') is supported")
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, errors.New("_codecs.encode: character outside latin-1")
		}
		b = append(b, byte(r))
	}
	return b, nil
}

func intTuple(v any) ([]int64, error) {
	var items []any
	switch t := v.(type) {
	case pyTuple:
		items = t
	case *pyList:
		items = t.items
	default:
		return nil, fmt.Errorf("%s is not a tuple", typeName(v))
	}
	out := make([]int64, len(items))
	for i, it := range items {
		n, ok := it.(int64)
		if !ok {
			return nil, fmt.Errorf("element %d is a %s, not an int", i, typeName(it))
		}
		out[i] = n
	}
	return out, nil
}

func typeName(v any) string {
	switch t := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64, bigInt:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case pyGlobal:
		return "global " + t.module + "." + t.name
	case *storageRef:
		return "storage"
	case *tensorRef:
		return "tensor"
	}
	return fmt.Sprintf("%T", v)
}

// unpickler runs one pickle from src. limit is the number of bytes src may still
// yield; no read is attempted (and nothing allocated) beyond it.
type unpickler struct {
	src      *bufio.Reader
	pos      int64 // bytes consumed
	limit    int64
	stack    []any
	marks    []int
	memo     map[uint64]any
	persLoad func(pid any) (any, error)
}

// maxStringLen bounds a single pickled string or bytes value.
const maxStringLen = 64 << 20

var errStop = errors.New("stop")

func unpickle(src io.Reader, limit int64, persLoad func(any) (any, error)) (any, int64, error) {
	u := &unpickler{src: bufio.NewReaderSize(src, 64<<10), limit: limit, memo: map[uint64]any{}, persLoad: persLoad}
	v, err := u.run()
	if err != nil {
		return nil, u.pos, fmt.Errorf("pickle: at byte %d: %w", u.pos, err)
	}
	return v, u.pos, nil
}

func (u *unpickler) byte1() (byte, error) {
	if u.pos >= u.limit {
		return 0, io.ErrUnexpectedEOF
	}
	b, err := u.src.ReadByte()
	if err != nil {
		return 0, noEOF(err)
	}
	u.pos++
	return b, nil
}

func (u *unpickler) bytesN(n uint64) ([]byte, error) {
	if n > uint64(u.limit-u.pos) {
		return nil, fmt.Errorf("length %d runs past the end of the data (%d bytes left)", n, u.limit-u.pos)
	}
	if n > maxStringLen {
		return nil, fmt.Errorf("string of %d bytes exceeds the %d-byte limit", n, maxStringLen)
	}
	// ReadAll grows the buffer as data arrives, so a forged length in a compressed
	// stream cannot allocate more than the stream really holds.
	b, err := io.ReadAll(io.LimitReader(u.src, int64(n)))
	if err != nil {
		return nil, err
	}
	if uint64(len(b)) != n {
		return nil, io.ErrUnexpectedEOF
	}
	u.pos += int64(n)
	return b, nil
}

func (u *unpickler) uint(n int) (uint64, error) {
	b, err := u.bytesN(uint64(n))
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	n := len(u.stack)
	if n == 0 || (len(u.marks) > 0 && u.marks[len(u.marks)-1] == n) {
		return nil, errors.New("stack underflow")
	}
	v := u.stack[n-1]
	u.stack = u.stack[:n-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	n := len(u.stack)
	if n == 0 || (len(u.marks) > 0 && u.marks[len(u.marks)-1] == n) {
		return nil, errors.New("stack underflow")
	}
	return u.stack[n-1], nil
}

// popMark pops everything down to the last MARK.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, errors.New("no MARK on the stack")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) string(n uint64) (string, error) {
	b, err := u.bytesN(n)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", errors.New("invalid UTF-8 in a unicode string")
	}
	return string(b), nil
}

func (u *unpickler) memoize(idx uint64) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	u.memo[idx] = v
	return nil
}

func (u *unpickler) global(module, name string) error {
	g := pyGlobal{module, name}
	if !allowedGlobal(g) {
		return fmt.Errorf("refusing global %s.%s: only the globals of a tensor state dict are allowed, nothing is executed", module, name)
	}
	u.push(g)
	return nil
}

func (u *unpickler) run() (any, error) {
	for {
		op, err := u.byte1()
		if err != nil {
			return nil, err
		}
		if err := u.step(op); err != nil {
			if err == errStop {
				return u.pop()
			}
			return nil, err
		}
	}
}

func (u *unpickler) step(op byte) error {
	switch op {
	case 0x80: // PROTO
		p, err := u.byte1()
		if err != nil {
			return err
		}
		if p < 2 || p > 5 {
			return fmt.Errorf("unsupported pickle protocol %d", p)
		}
	case 0x95: // FRAME: an 8-byte length, framing is transparent here
		_, err := u.uint(8)
		return err
	case '.': // STOP
		return errStop
	case '(': // MARK
		u.marks = append(u.marks, len(u.stack))
	case '0': // POP
		if n := len(u.stack); len(u.marks) > 0 && u.marks[len(u.marks)-1] == n {
			u.marks = u.marks[:len(u.marks)-1] // popping a mark
			return nil
		}
		_, err := u.pop()
		return err
	case '1': // POP_MARK
		_, err := u.popMark()
		return err
	case '2': // DUP
		v, err := u.top()
		if err != nil {
			return err
		}
		u.push(v)
	case 'N':
		u.push(nil)
	case 0x88:
		u.push(true)
	case 0x89:
		u.push(false)
	case 'J': // BININT
		v, err := u.uint(4)
		if err != nil {
			return err
		}
		u.push(int64(int32(uint32(v))))
	case 'K': // BININT1
		v, err := u.uint(1)
		if err != nil {
			return err
		}
		u.push(int64(v))
	case 'M': // BININT2
		v, err := u.uint(2)
		if err != nil {
			return err
		}
		u.push(int64(v))
	case 0x8a, 0x8b: // LONG1, LONG4
		size := 1
		if op == 0x8b {
			size = 4
		}
		n, err := u.uint(size)
		if err != nil {
			return err
		}
		if n > 1024 {
			return fmt.Errorf("integer of %d bytes is too long", n)
		}
		b, err := u.bytesN(n)
		if err != nil {
			return err
		}
		u.push(longValue(b))
	case 'G': // BINFLOAT, big-endian
		v, err := u.bytesN(8)
		if err != nil {
			return err
		}
		u.push(math.Float64frombits(binary.BigEndian.Uint64(v)))
	case 'X', 0x8c, 0x8d: // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
		size := map[byte]int{'X': 4, 0x8c: 1, 0x8d: 8}[op]
		n, err := u.uint(size)
		if err != nil {
			return err
		}
		s, err := u.string(n)
		if err != nil {
			return err
		}
		u.push(s)
	case 'T', 'U': // BINSTRING, SHORT_BINSTRING (Python 2 str): kept as text
		size := 4
		if op == 'U' {
			size = 1
		}
		n, err := u.uint(size)
		if err != nil {
			return err
		}
		b, err := u.bytesN(n)
		if err != nil {
			return err
		}
		u.push(string(b))
	case 'B', 'C', 0x8e, 0x96: // BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
		size := map[byte]int{'B': 4, 'C': 1, 0x8e: 8, 0x96: 8}[op]
		n, err := u.uint(size)
		if err != nil {
			return err
		}
		b, err := u.bytesN(n)
		if err != nil {
			return err
		}
		u.push(b)
	case ')':
		u.push(pyTuple{})
	case 't':
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(pyTuple(items))
	case 0x85, 0x86, 0x87: // TUPLE1..3
		n := int(op-0x85) + 1
		t := make(pyTuple, n)
		for i := n - 1; i >= 0; i-- {
			v, err := u.pop()
			if err != nil {
				return err
			}
			t[i] = v
		}
		u.push(t)
	case ']':
		u.push(&pyList{})
	case 'l':
		items, err := u.popMark()
		if err != nil {
			return err
		}
		u.push(&pyList{items: items})
	case 'a', 'e': // APPEND, APPENDS
		var items []any
		if op == 'a' {
			v, err := u.pop()
			if err != nil {
				return err
			}
			items = []any{v}
		} else {
			var err error
			if items, err = u.popMark(); err != nil {
				return err
			}
		}
		t, err := u.top()
		if err != nil {
			return err
		}
		l, ok := t.(*pyList)
		if !ok {
			return fmt.Errorf("APPEND to a %s", typeName(t))
		}
		l.items = append(l.items, items...)
	case '}':
		u.push(newDict())
	case 'd', 's', 'u': // DICT, SETITEM, SETITEMS
		var items []any
		switch op {
		case 's':
			v, err := u.pop()
			if err != nil {
				return err
			}
			k, err := u.pop()
			if err != nil {
				return err
			}
			items = []any{k, v}
		default:
			var err error
			if items, err = u.popMark(); err != nil {
				return err
			}
		}
		if len(items)%2 != 0 {
			return errors.New("odd number of items for a dict")
		}
		var d *pyDict
		if op == 'd' {
			d = newDict()
			u.push(d)
		} else {
			t, err := u.top()
			if err != nil {
				return err
			}
			var ok bool
			if d, ok = t.(*pyDict); !ok {
				return fmt.Errorf("SETITEM on a %s", typeName(t))
			}
		}
		for i := 0; i < len(items); i += 2 {
			if err := d.set(items[i], items[i+1]); err != nil {
				return err
			}
		}
	case 0x8f, 0x90, 0x91: // EMPTY_SET, ADDITEMS, FROZENSET: kept as lists
		switch op {
		case 0x8f:
			u.push(&pyList{})
		case 0x90:
			items, err := u.popMark()
			if err != nil {
				return err
			}
			t, err := u.top()
			if err != nil {
				return err
			}
			l, ok := t.(*pyList)
			if !ok {
				return fmt.Errorf("ADDITEMS to a %s", typeName(t))
			}
			l.items = append(l.items, items...)
		default:
			items, err := u.popMark()
			if err != nil {
				return err
			}
			u.push(&pyList{items: items})
		}
	case 'q', 'r': // BINPUT, LONG_BINPUT
		size := 1
		if op == 'r' {
			size = 4
		}
		idx, err := u.uint(size)
		if err != nil {
			return err
		}
		return u.memoize(idx)
	case 0x94: // MEMOIZE
		return u.memoize(uint64(len(u.memo)))
	case 'h', 'j': // BINGET, LONG_BINGET
		size := 1
		if op == 'j' {
			size = 4
		}
		idx, err := u.uint(size)
		if err != nil {
			return err
		}
		v, ok := u.memo[idx]
		if !ok {
			return fmt.Errorf("memo key %d not found", idx)
		}
		u.push(v)
	case 'c': // GLOBAL "module\nname\n"
		mod, err := u.line()
		if err != nil {
			return err
		}
		name, err := u.line()
		if err != nil {
			return err
		}
		return u.global(mod, name)
	case 0x93: // STACK_GLOBAL
		name, err := u.pop()
		if err != nil {
			return err
		}
		mod, err := u.pop()
		if err != nil {
			return err
		}
		ms, ok1 := mod.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return errors.New("STACK_GLOBAL needs two strings")
		}
		return u.global(ms, ns)
	case 'R', 0x81: // REDUCE, NEWOBJ: callable(*args)
		args, err := u.pop()
		if err != nil {
			return err
		}
		fn, err := u.pop()
		if err != nil {
			return err
		}
		t, ok := args.(pyTuple)
		if !ok {
			return fmt.Errorf("call arguments are a %s, not a tuple", typeName(args))
		}
		g, ok := fn.(pyGlobal)
		if !ok {
			return fmt.Errorf("cannot call a %s", typeName(fn))
		}
		call := callables[g]
		if call == nil {
			return fmt.Errorf("global %s.%s is not callable here", g.module, g.name)
		}
		v, err := call(t)
		if err != nil {
			return err
		}
		u.push(v)
	case 'b': // BUILD: set state; ignored for dicts (module _metadata) and tensors
		if _, err := u.pop(); err != nil {
			return err
		}
		t, err := u.top()
		if err != nil {
			return err
		}
		switch t.(type) {
		case *pyDict, *tensorRef:
		default:
			return fmt.Errorf("BUILD on a %s", typeName(t))
		}
	case 'Q': // BINPERSID
		pid, err := u.pop()
		if err != nil {
			return err
		}
		if u.persLoad == nil {
			return errors.New("persistent id in a pickle that may not have one")
		}
		v, err := u.persLoad(pid)
		if err != nil {
			return err
		}
		u.push(v)
	default:
		return fmt.Errorf("unsupported pickle opcode 0x%02x", op)
	}
	return nil
}

// line reads a newline-terminated ASCII line of at most 256 bytes (GLOBAL operands).
func (u *unpickler) line() (string, error) {
	var b []byte
	for {
		c, err := u.byte1()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return string(b), nil
		}
		if len(b) >= 256 {
			return "", errors.New("GLOBAL name longer than 256 bytes")
		}
		b = append(b, c)
	}
}

// longValue decodes a little-endian two's-complement integer.
func longValue(b []byte) any {
	if len(b) > 8 {
		return bigInt(b)
	}
	if len(b) == 0 {
		return int64(0)
	}
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	if shift := 64 - 8*uint(len(b)); shift > 0 && b[len(b)-1]&0x80 != 0 {
		v |= ^uint64(0) << (64 - shift) // sign-extend
	}
	return int64(v)
}

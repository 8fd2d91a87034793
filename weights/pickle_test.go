package weights

import (
	"bytes"
	"strings"
	"testing"
)

func runPickle(t *testing.T, b []byte, legacy bool) (any, error) {
	t.Helper()
	pers := func(pid any) (any, error) { return parseStoragePID(pid, legacy) }
	v, _, err := unpickle(bytes.NewReader(b), int64(len(b)), pers)
	return v, err
}

func TestPickleValues(t *testing.T) {
	p := new(pk).op(0x80, 2, '}')
	p.str("long-1").op(0x8a, 1, 0xff, 's')
	p.str("long-256").op(0x8a, 2, 0x00, 0xff, 's')
	p.str("long-max").op(0x8a, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 's')
	p.str("long0").op(0x8a, 0, 's')
	p.str("bytes").global("_codecs", "encode").op('(').str("ab\u00ff").str("latin1").op('t', 'R', 's')
	p.str("size").global("torch", "Size").op('(').ints(2, 3).op('t', 'R', 's')
	p.str("od").global("collections", "OrderedDict").op('(', ']', '(').str("k").int(1).op('t', 'a', 't', 'R', 's')
	p.str("param").global("torch._utils", "_rebuild_parameter").op('(')
	p.tensor("FloatStorage", "0", 4, 0, []int32{4}, []int32{1}).op(0x88).global("collections", "OrderedDict").op(')', 'R', 't', 'R', 's')
	p.str("float").op('G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 's')                                    // 1.5
	p.str("set").op(0x8f, '(', 'K', 1, 'K', 2, 0x90, 's')                                        // {1, 2}
	p.str("frozen").op('(', 'K', 3, 0x91, 's')                                                   // frozenset({3})
	p.str("short").op('U', 2, 'h', 'i', 's')                                                     // py2 str
	p.str("sbytes").op('C', 1, 'z', 's')                                                         // b"z"
	p.str("dup").op('K', 7, '2', 0x86, 's')                                                      // (7, 7)
	p.str("popmark").op('(', 'K', 1, 'K', 2, '1', 'N', 's')                                      // None
	p.str("pop").op('K', 9, '0', 'N', 's')                                                       // None
	p.str("list").op('(', 'K', 1, 'l', 'q', 3, '(', 'K', 2, 'K', 3, 'e', 0x94, 'h', 3, '0', 's') // [1, 2, 3]
	v, err := runPickle(t, p.op('.').b, false)
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*pyDict)
	check := func(k string, ok bool) {
		if !ok {
			t.Errorf("%s = %#v", k, d.vals[k])
		}
	}
	check("long-1", d.vals["long-1"] == int64(-1))
	check("long-256", d.vals["long-256"] == int64(-256))
	check("long-max", d.vals["long-max"] == int64(1<<63-1))
	check("long0", d.vals["long0"] == int64(0))
	b, _ := d.vals["bytes"].([]byte)
	check("bytes", bytes.Equal(b, []byte{'a', 'b', 0xff}))
	sz, _ := intTuple(d.vals["size"])
	check("size", len(sz) == 2 && sz[0] == 2 && sz[1] == 3)
	od, _ := d.vals["od"].(*pyDict)
	check("od", od != nil && od.vals["k"] == int64(1))
	tr, _ := d.vals["param"].(*tensorRef)
	check("param", tr != nil && tr.size[0] == 4)
	check("float", d.vals["float"] == 1.5)
	s, _ := d.vals["set"].(*pyList)
	check("set", s != nil && len(s.items) == 2)
	fz, _ := d.vals["frozen"].(*pyList)
	check("frozen", fz != nil && len(fz.items) == 1)
	check("short", d.vals["short"] == "hi")
	sb, _ := d.vals["sbytes"].([]byte)
	check("sbytes", string(sb) == "z")
	dup, _ := d.vals["dup"].(pyTuple)
	check("dup", len(dup) == 2 && dup[0] == int64(7) && dup[1] == int64(7))
	check("popmark", d.vals["popmark"] == nil)
	check("pop", d.vals["pop"] == nil)
	l, _ := d.vals["list"].(*pyList)
	check("list", l != nil && len(l.items) == 3)
}

func TestPickleCallErrors(t *testing.T) {
	for _, c := range []struct {
		want string
		b    []byte
	}{
		{"only encode(str, 'latin1')", new(pk).op(0x80, 2).global("_codecs", "encode").op('(').str("a").str("utf-8").op('t', 'R', '.').b},
		{"outside latin-1", new(pk).op(0x80, 2).global("_codecs", "encode").op('(').str("\u0100").str("latin1").op('t', 'R', '.').b},
		{"torch.Size: argument", new(pk).op(0x80, 2).global("torch", "Size").op('(').str("x").op('t', 'R', '.').b},
		{"_rebuild_parameter: data is a str", new(pk).op(0x80, 2).global("torch._utils", "_rebuild_parameter").op('(').str("x").op('t', 'R', '.').b},
		{"first argument is a str", new(pk).op(0x80, 2).global("torch._utils", "_rebuild_tensor_v2").op('(').str("x").int(0).op(')', ')', 't', 'R', '.').b},
		{"differ in rank", new(pk).op(0x80, 2).tensor("FloatStorage", "0", 4, 0, []int32{4}, []int32{1, 1}).op('.').b},
		{"items must be pairs", new(pk).op(0x80, 2).global("collections", "OrderedDict").op('(', ']', 'K', 1, 'a', 't', 'R', '.').b},
		{"call arguments are a int", new(pk).op(0x80, 2).global("collections", "OrderedDict").op('K', 1, 'R', '.').b},
		{"BUILD on a int", new(pk).op(0x80, 2, 'K', 1, 'N', 'b', '.').b},
		{"APPEND to a int", new(pk).op(0x80, 2, 'K', 1, 'N', 'a', '.').b},
		{"SETITEM on a list", new(pk).op(0x80, 2, ']', 'N', 'N', 's', '.').b},
		{"odd number", new(pk).op(0x80, 2, '(', 'N', 'd', '.').b},
		{"no MARK", new(pk).op(0x80, 2, 't', '.').b},
		{"invalid UTF-8", new(pk).op(0x80, 2, 0x8c, 1, 0xff, '.').b},
		{"not a torch storage type", new(pk).op(0x80, 2, '(').str("storage").str("x").str("0").str("cpu").int(1).op('t', 'Q', '.').b},
		{"unsupported persistent id", new(pk).op(0x80, 2).str("x").op('Q', '.').b},
	} {
		if _, err := runPickle(t, c.b, false); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
}

func TestLegacyViewMetadata(t *testing.T) {
	// ('storage', torch.FloatStorage, '0', 'cpu', 10, ('v', 4, 3)): elements 4..6 of the root.
	pid := func(off, n int32) *pk {
		p := new(pk).op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").int(10)
		return p.op('(').str("v").int(off).int(n).op('t', 't')
	}
	p := pid(4, 3)
	v, err := runPickle(t, append(append([]byte{0x80, 2}, p.b...), 'Q', '.'), true)
	if err != nil {
		t.Fatal(err)
	}
	ref := v.(*storageRef)
	if ref.offset != 4 || ref.numel != 3 || ref.root != 10 {
		t.Errorf("view %+v", ref)
	}
	p = pid(8, 3)
	if _, err := runPickle(t, append(append([]byte{0x80, 2}, p.b...), 'Q', '.'), true); err == nil || !strings.Contains(err.Error(), "outside storage") {
		t.Errorf("view past its storage: %v", err)
	}
}

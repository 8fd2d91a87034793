package asm

import (
	"testing"
	"unsafe"
)

// TestPanelFloats checks the packed-weight allocator: zeroed, 64-byte aligned,
// never overlapping, and the large requests on huge-page boundaries.
func TestPanelFloats(t *testing.T) {
	type span struct{ lo, hi uintptr }
	var got []span
	for _, n := range []int{1, 1000, hugeMinBytes/4 - 1, hugeMinBytes / 4, hugeMinBytes/4 + 3, 1 << 20, 3<<20 + 5, hugeArenaBytes/8 + 1, hugeArenaBytes/2/4 + 1} {
		p := panelFloats(n)
		if len(p) != n || cap(p) != n {
			t.Fatalf("panelFloats(%d): len %d cap %d", n, len(p), cap(p))
		}
		lo := uintptr(unsafe.Pointer(&p[0]))
		if lo%64 != 0 {
			t.Fatalf("panelFloats(%d) starts at %#x, not 64-byte aligned", n, lo)
		}
		if hugePagesAvailable && 4*n > hugeArenaBytes/2 && lo%hugePageBytes != 0 {
			t.Fatalf("panelFloats(%d) (own huge-page block) starts at %#x", n, lo)
		}
		for i, v := range p {
			if v != 0 {
				t.Fatalf("panelFloats(%d)[%d] = %v, want 0", n, i, v)
			}
		}
		for i := range p {
			p[i] = 1
		}
		s := span{lo, lo + 4*uintptr(n)}
		for _, o := range got {
			if s.lo < o.hi && o.lo < s.hi {
				t.Fatalf("panelFloats(%d) = [%#x,%#x) overlaps [%#x,%#x)", n, s.lo, s.hi, o.lo, o.hi)
			}
		}
		got = append(got, s)
	}
}

// TestHugeFloats checks the huge-page block: aligned to 2 MiB and zeroed.
func TestHugeFloats(t *testing.T) {
	for _, n := range []int{1, hugePageBytes / 4, hugePageBytes/4 + 1} {
		p := hugeFloats(n)
		if len(p) != n {
			t.Fatalf("hugeFloats(%d): len %d", n, len(p))
		}
		if a := uintptr(unsafe.Pointer(&p[0])); a%hugePageBytes != 0 {
			t.Fatalf("hugeFloats(%d) starts at %#x, not on a 2 MiB boundary", n, a)
		}
		for i, v := range p {
			if v != 0 {
				t.Fatalf("hugeFloats(%d)[%d] = %v", n, i, v)
			}
		}
	}
}

// TestAdviseMemo checks that an operand is advised once and that the ring keeps
// the most recent operands.
func TestAdviseMemo(t *testing.T) {
	var m adviseMemo
	x := make([]float32, 1000)
	count := func(x []float32) int {
		c := 0
		for _, s := range m.seen {
			if s == [2]uintptr{uintptr(unsafe.Pointer(&x[0])), uintptr(len(x))} {
				c++
			}
		}
		return c
	}
	m.advise(x)
	m.advise(x)
	if c := count(x); c != 1 {
		t.Fatalf("advised twice: %d entries", c)
	}
	if c := count(x[:999]); c != 0 {
		t.Fatalf("a shorter slice matched the remembered range")
	}
	others := make([]float32, len(m.seen)*10)
	for i := range m.seen {
		m.advise(others[i*10 : i*10+10])
	}
	if c := count(x); c != 0 {
		t.Fatalf("the oldest range survived %d newer ones", len(m.seen))
	}
}

// TestAlignedFloatsLarge checks that a large buffer gets its own huge-page block.
func TestAlignedFloatsLarge(t *testing.T) {
	p := alignedFloats(hugeBufferBytes/4 + 5)
	a := uintptr(unsafe.Pointer(&p[0]))
	if hugePagesAvailable && a%hugePageBytes != 0 {
		t.Fatalf("alignedFloats(%d) starts at %#x, not on a 2 MiB boundary", len(p), a)
	}
	if a%64 != 0 {
		t.Fatalf("alignedFloats(%d) starts at %#x", len(p), a)
	}
	for i, v := range p {
		if v != 0 {
			t.Fatalf("alignedFloats[%d] = %v", i, v)
		}
	}
}

package asm

import (
	"sync"
	"unsafe"
)

// Huge pages for the operands that stream from DRAM. At batch 1 a VGG forward reads
// about 700 MB of weights (prepared convolution weights and the classifier), and
// with 4 KiB pages every 4 KiB of it is a TLB miss; on a virtual machine the page
// walk is two-dimensional. Measured on the development VM, one core read 14.8 GB/s
// from 4 KiB pages and 18–19.7 GB/s from 2 MiB pages. Transparent huge pages are
// usually enabled only for memory that asks (madvise mode), so the packed weights
// are carved from 2 MiB-aligned arenas that ask, buffers of 4 MiB or more (a
// layer's whole Winograd U) get huge pages of their own, and large read-only
// operands of the dot-product path are asked to be collapsed once (adviseHuge).
const (
	hugePageBytes   = 2 << 20
	hugeMinBytes    = 256 << 10 // smaller panels stay on the ordinary heap
	hugeArenaBytes  = 32 << 20
	hugeBufferBytes = 4 << 20 // a buffer this large gets huge pages of its own
)

// panelArena is the rest of the current huge-page arena. Panels are never freed
// one by one: an arena is collected with the last panel that points into it.
var panelArena struct {
	mu   sync.Mutex
	rest []float32
}

// panelFloats returns n zeroed floats on a 64-byte boundary for packed weights:
// large requests come from huge-page arenas.
func panelFloats(n int) []float32 {
	if 4*n < hugeMinBytes || !hugePagesAvailable {
		return alignedFloats(n)
	}
	if 4*n > hugeArenaBytes/2 {
		return hugeFloats(n)
	}
	a := &panelArena
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.rest) < n {
		a.rest = hugeFloats(hugeArenaBytes / 4)
	}
	p := a.rest[:n:n]
	a.rest = a.rest[min((n+15)&^15, len(a.rest)):] // keep the next panel 64-byte aligned
	return p
}

// hugeFloats returns n zeroed floats starting on a huge-page boundary, in memory
// advised to use huge pages.
func hugeFloats(n int) []float32 {
	const pageFloats = hugePageBytes / 4
	size := (n + pageFloats - 1) / pageFloats * pageFloats
	b := make([]float32, size+pageFloats)
	off := int(uintptr(unsafe.Pointer(&b[0])) & (hugePageBytes - 1))
	if off != 0 {
		off = (hugePageBytes - off) / 4
	}
	b = b[off : off+size : off+size]
	adviseHuge(b)
	return b[:n:n]
}

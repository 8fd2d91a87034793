package asm_test

import (
	"math"
	"testing"

	"github.com/govgg/govgg/asm"
)

// eachISA runs fn as a subtest with every path this CPU supports switched on.
func eachISA(t *testing.T, fn func(t *testing.T)) {
	for _, isa := range asm.Supported() {
		t.Run(isa.String(), func(t *testing.T) {
			restore, err := asm.SetImpl(isa)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			fn(t)
		})
	}
}

const guardLen = 19 // sentinel floats on each side of a guarded slice

var sentinel = math.Float32frombits(0x7f8dead1) // a NaN payload no kernel produces

// guarded returns a slice of n floats at offset off inside a buffer padded with
// sentinels, and the whole buffer.
func guarded(n, off int) (s, all []float32) {
	all = make([]float32, n+off+2*guardLen)
	for i := range all {
		all[i] = sentinel
	}
	return all[guardLen+off : guardLen+off+n], all
}

// checkGuards fails if a kernel wrote outside the slice guarded(n, off) returned.
func checkGuards(t *testing.T, what string, all []float32, n, off int) {
	t.Helper()
	for i, v := range all {
		if (i < guardLen+off || i >= guardLen+off+n) && math.Float32bits(v) != math.Float32bits(sentinel) {
			t.Fatalf("%s: wrote outside the slice at buffer index %d (slice is [%d,%d))", what, i, guardLen+off, guardLen+off+n)
		}
	}
}

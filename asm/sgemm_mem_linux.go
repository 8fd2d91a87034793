//go:build linux

package asm

import (
	"os"
	"strings"
	"syscall"
	"unsafe"
)

// hugePagesAvailable reports whether the kernel has transparent huge pages that a
// madvise can ask for ("always" or "madvise", not "never"): without them the
// huge-page arenas would only waste their alignment padding.
var hugePagesAvailable = func() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && !strings.Contains(string(b), "[never]")
}()

// madvCollapse is MADV_COLLAPSE (Linux 6.1): collapse the range into huge pages
// now, whatever its pages' history. The syscall package predates it.
const madvCollapse = 25

// adviseHuge asks for huge pages on the whole 2 MiB pages inside x: future faults
// get them (MADV_HUGEPAGE) and pages already present are collapsed now
// (MADV_COLLAPSE, which copies). Errors are ignored: this is a performance hint,
// and kernels without transparent huge pages or without MADV_COLLAPSE refuse it.
func adviseHuge(x []float32) {
	if len(x) == 0 {
		return
	}
	start := uintptr(unsafe.Pointer(&x[0]))
	end := start + 4*uintptr(len(x))
	lo := (start + hugePageBytes - 1) &^ (hugePageBytes - 1)
	hi := end &^ (hugePageBytes - 1)
	if hi <= lo {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&x[(lo-start)/4])), hi-lo)
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
	_ = syscall.Madvise(b, madvCollapse)
}

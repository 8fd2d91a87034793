package asm

import (
	"fmt"
	"os"
	"strings"
)

// ISA names a kernel path.
type ISA int

const (
	Generic ISA = iota // pure Go
	AVX2               // AVX2 + FMA, ymm registers
	AVX512             // AVX-512 F+BW+VL+DQ, zmm registers
)

func (i ISA) String() string {
	switch i {
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return "generic"
}

// ParseISA maps "generic", "avx2" or "avx512" to an ISA.
func ParseISA(s string) (ISA, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "generic", "go", "purego", "noasm":
		return Generic, nil
	case "avx2":
		return AVX2, nil
	case "avx512", "avx-512":
		return AVX512, nil
	}
	return Generic, fmt.Errorf("asm: unknown ISA %q (want generic, avx2 or avx512)", s)
}

// detected is the best path this CPU and build support; active is the one in use.
var detected, active ISA

func init() {
	detected = detectISA()
	active = detected
	if s := os.Getenv("GOVGG_ISA"); s != "" {
		if isa, err := ParseISA(s); err == nil && isa <= detected {
			active = isa
		} else if err == nil {
			fmt.Fprintf(os.Stderr, "govgg: GOVGG_ISA=%s is not supported here; using %s\n", s, detected)
		} else {
			fmt.Fprintf(os.Stderr, "govgg: %v; using %s\n", err, detected)
		}
	}
	setKernels(active)
}

// Impl names the active kernel path: "avx512", "avx2" or "generic".
func Impl() string { return active.String() }

// Active returns the active kernel path.
func Active() ISA { return active }

// Supported lists the paths this CPU and build can run, best last.
func Supported() []ISA {
	var s []ISA
	for i := Generic; i <= detected; i++ {
		s = append(s, i)
	}
	return s
}

// SetImpl switches the active kernel path and returns a function that restores the
// previous one. It is meant for tests and benchmarks; it must not race with kernels
// running on other goroutines.
func SetImpl(isa ISA) (restore func(), err error) {
	if isa > detected || isa < Generic {
		return func() {}, fmt.Errorf("asm: %s is not supported on this CPU or build (best: %s)", isa, detected)
	}
	prev := active
	active = isa
	setKernels(isa)
	return func() { active = prev; setKernels(prev) }, nil
}

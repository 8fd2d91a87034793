//go:build amd64 && gc && !noasm && !purego

package asm

import "github.com/klauspost/cpuid/v2"

func detectISA() ISA {
	c := cpuid.CPU
	switch {
	case c.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX512DQ):
		return AVX512
	case c.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3):
		return AVX2
	}
	return Generic
}

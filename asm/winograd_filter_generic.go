//go:build !amd64 || !gc || noasm || purego

package asm

var _ = registerKernels(func(ISA) { winogradFilterImpl = winogradFilterTwin })

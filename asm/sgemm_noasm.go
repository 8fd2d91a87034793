//go:build !amd64 || !gc || noasm || purego

package asm

func geomFor(ISA) *gemmGeom { return genericGeom }

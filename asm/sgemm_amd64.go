//go:build amd64 && gc && !noasm && !purego

package asm

func geomFor(isa ISA) *gemmGeom {
	return genericGeom
}

//go:build !amd64 || !gc || noasm || purego

package asm

func detectISA() ISA { return Generic }

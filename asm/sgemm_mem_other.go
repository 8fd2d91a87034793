//go:build !linux

package asm

const hugePagesAvailable = false

func adviseHuge([]float32) {}

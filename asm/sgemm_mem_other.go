//go:build !linux

package asm

var hugePagesAvailable = false

func adviseHuge([]float32) {}

package asm

import (
	"fmt"
	"unsafe"
)

// WinogradGroup is the number of tiles the Winograd transforms handle side by side:
// one AVX-512 vector (two AVX2 vectors) of tiles, each lane a tile.
const WinogradGroup = 16

// The transforms dispatched by ISA, indexed by m/2−1 (F(2,3), F(4,3), F(6,3)).
var (
	winogradInputImpl  [3]func(v *float32, vstride, gstride int, d *float32, ld int, idx *int32, groups int)
	winogradOutputImpl [3]func(y *float32, ld int, idx *int32, mm *float32, mstride, groups int, bias float32, relu bool)
)

// WinogradInput computes the input transform V = Bᵀ·d·B of F(m×m, 3×3) for
// groups·WinogradGroup tiles of one channel. Tile t's α×α patch (α = m+2) starts at
// d[idx[t]] with row stride ld; element ξ = k·α+l of its V goes to
// v[ξ·vstride + (t/16)·gstride + t%16]. Point the idx of unused tiles at zeros to
// get zero columns. Reference loop:
//
//	for t := 0; t < groups*16; t++ {
//		for k := 0; k < α; k++ {
//			for l := 0; l < α; l++ {
//				var s float32
//				for i := 0; i < α; i++ {
//					for j := 0; j < α; j++ {
//						s += bt[k][i] * d[idx[t]+i*ld+j] * bt[l][j]
//					}
//				}
//				v[(k*α+l)*vstride+(t/16)*gstride+t%16] = s
//			}
//		}
//	}
//
// It panics if an index falls outside the slices (a caller bug, not bad input).
func WinogradInput(m int, v []float32, vstride, gstride int, d []float32, ld int, idx []int32, groups int) {
	if groups <= 0 {
		return
	}
	alpha := m + 2
	f := winogradIndex(m)
	n := groups * WinogradGroup
	if len(idx) < n {
		panic(fmt.Sprintf("asm: WinogradInput: %d tile offsets for %d groups", len(idx), groups))
	}
	span := (alpha-1)*ld + alpha
	for _, o := range idx[:n] {
		if o < 0 || int(o)+span > len(d) {
			panic(fmt.Sprintf("asm: WinogradInput: tile offset %d (span %d) outside input of %d", o, span, len(d)))
		}
	}
	if need := (alpha*alpha-1)*vstride + (groups-1)*gstride + WinogradGroup; vstride < 0 || gstride < 0 || need > len(v) {
		panic(fmt.Sprintf("asm: WinogradInput: output of %d elements, needs %d", len(v), need))
	}
	if raceEnabled { // the race detector does not see what assembly touches
		for _, o := range idx[:n] {
			for i := 0; i < alpha; i++ {
				winogradRaceRead(unsafe.Pointer(&d[int(o)+i*ld]), 4*alpha)
			}
		}
		for xi := 0; xi < alpha*alpha; xi++ {
			for g := 0; g < groups; g++ {
				winogradRaceWrite(unsafe.Pointer(&v[xi*vstride+g*gstride]), 4*WinogradGroup)
			}
		}
	}
	winogradInputImpl[f](&v[0], vstride, gstride, &d[0], ld, &idx[0], groups)
}

// WinogradOutput computes the output transform Y = Aᵀ·M·A of F(m×m, 3×3) for
// groups·WinogradGroup tiles of one output channel, adds bias and, if relu, clamps
// at 0 (NaN stays NaN). Tile t's element ξ of M is mm[ξ·mstride + t]; its m×m
// result goes to y[idx[t] + i·ld + j]. Reference loop:
//
//	for t := 0; t < groups*16; t++ {
//		for i := 0; i < m; i++ {
//			for j := 0; j < m; j++ {
//				var s float32
//				for a := 0; a < α; a++ {
//					for b := 0; b < α; b++ {
//						s += at[i][a] * mm[(a*α+b)*mstride+t] * at[j][b]
//					}
//				}
//				s += bias
//				if relu && s < 0 {
//					s = 0
//				}
//				y[idx[t]+i*ld+j] = s
//			}
//		}
//	}
//
// Tiles may share an output location (for padding lanes); the last write wins. The
// assembly uses mm's elements of these tiles as scratch: they are overwritten.
func WinogradOutput(m int, y []float32, ld int, idx []int32, mm []float32, mstride, groups int, bias float32, relu bool) {
	if groups <= 0 {
		return
	}
	alpha := m + 2
	f := winogradIndex(m)
	n := groups * WinogradGroup
	if len(idx) < n {
		panic(fmt.Sprintf("asm: WinogradOutput: %d tile offsets for %d groups", len(idx), groups))
	}
	span := (m-1)*ld + m
	for _, o := range idx[:n] {
		if o < 0 || int(o)+span > len(y) {
			panic(fmt.Sprintf("asm: WinogradOutput: tile offset %d (span %d) outside output of %d", o, span, len(y)))
		}
	}
	if need := (alpha*alpha-1)*mstride + n; mstride < 0 || need > len(mm) {
		panic(fmt.Sprintf("asm: WinogradOutput: M has %d elements, needs %d", len(mm), need))
	}
	if raceEnabled {
		for xi := 0; xi < alpha*alpha; xi++ {
			winogradRaceWrite(unsafe.Pointer(&mm[xi*mstride]), 4*n) // read, and used as scratch
		}
		for _, o := range idx[:n] {
			for i := 0; i < m; i++ {
				winogradRaceWrite(unsafe.Pointer(&y[int(o)+i*ld]), 4*m)
			}
		}
	}
	winogradOutputImpl[f](&y[0], ld, &idx[0], &mm[0], mstride, groups, bias, relu)
}

func winogradIndex(m int) int {
	if m != 2 && m != 4 && m != 6 {
		panic(fmt.Sprintf("asm: Winograd F(%d,3) is not supported (want m = 2, 4 or 6)", m))
	}
	return m/2 - 1
}

// setWinogradGo points the transforms at their pure-Go twins.
func setWinogradGo() {
	for f, m := range []int{2, 4, 6} {
		c := winogradCoefs[m]
		winogradInputImpl[f] = c.input
		winogradOutputImpl[f] = c.output
	}
}

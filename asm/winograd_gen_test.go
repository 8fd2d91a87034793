package asm

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"sort"
	"testing"
)

// TestWinogradGenerated writes winograd_amd64.s from the coefficient tables when
// GOVGG_GENERATE=1 and otherwise fails if the file is stale, so the assembly can
// never drift from the matrices the twins and the kernel transform use.
//
//	GOVGG_GENERATE=1 go test -run TestWinogradGenerated ./asm
func TestWinogradGenerated(t *testing.T) {
	src := genWinograd()
	const file = "winograd_amd64.s"
	if os.Getenv("GOVGG_GENERATE") == "1" {
		if err := os.WriteFile(file, src, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(old, src) {
		t.Fatalf("%s is stale: run GOVGG_GENERATE=1 go test -run TestWinogradGenerated ./asm", file)
	}
}

// wgen emits one ISA's code for one F(m,3).
type wgen struct {
	b      *bytes.Buffer
	c      *winogradCoef
	avx512 bool
	consts map[uint32]int // float32 bits → offset in the constant table
	sym    string
}

func (g *wgen) p(format string, a ...any) { fmt.Fprintf(g.b, "\t"+format+"\n", a...) }

// reg names vector register i in the ISA's width.
func (g *wgen) reg(i int) string {
	if g.avx512 {
		return fmt.Sprintf("Z%d", i)
	}
	return fmt.Sprintf("Y%d", i)
}

// konst returns the memory operand of a vector of copies of v.
func (g *wgen) konst(v float32) string {
	bits := math.Float32bits(v)
	off, ok := g.consts[bits]
	if !ok {
		off = 64 * len(g.consts)
		g.consts[bits] = off
	}
	return fmt.Sprintf("%s+%d(SB)", g.sym, off)
}

// combo emits dst = (init +) Σ coef[q]·src[q] (init < 0: none), skipping zero
// coefficients and turning ±1 into adds.
func (g *wgen) combo(dst int, coef []float32, src []int, init int) {
	d := g.reg(dst)
	first := init < 0
	if !first {
		g.p("VMOVAPS %s, %s", g.reg(init), d)
	}
	for q, c := range coef {
		if c == 0 {
			continue
		}
		s := g.reg(src[q])
		switch {
		case first && c == 1:
			g.p("VMOVAPS %s, %s", s, d)
		case first:
			g.p("VMULPS %s, %s, %s", g.konst(c), s, d)
		case c == 1:
			g.p("VADDPS %s, %s, %s", s, d, d)
		case c == -1:
			g.p("VSUBPS %s, %s, %s", s, d, d)
		case c > 0:
			g.p("VFMADD231PS %s, %s, %s", g.konst(c), s, d)
		default:
			g.p("VFNMADD231PS %s, %s, %s", g.konst(-c), s, d)
		}
		first = false
	}
	if first {
		g.p("VXORPS %s, %s, %s", d, d, d)
	}
}

// transform emits out[r] = (init +) Σ_q rows[r][q]·x[q] for every r, calling store
// with the register holding out[r] as soon as it is ready, in increasing r. It
// shares work where the matrices are symmetric (as Toom–Cook matrices on ± pairs of
// points are): a pair of input columns whose coefficients agree up to sign in every
// row is replaced in place by x1+x2 and x1−x2; a pair of adjacent rows that agree up
// to sign is computed as E±O from its even and odd parts. The x registers are
// clobbered; a, b and c are scratch.
func (g *wgen) transform(rows [][]float32, x []int, init, a, b, c int, store func(r, reg int)) {
	rows = append([][]float32(nil), rows...)
	for i := range rows {
		rows[i] = append([]float32(nil), rows[i]...)
	}
	nq := len(x)
	for q1 := 0; q1 < nq; q1++ {
		for q2 := q1 + 1; q2 < nq; q2++ {
			uses, ok := 0, true
			for _, r := range rows {
				if r[q1] != 0 {
					uses++
				}
				if r[q2] != r[q1] && r[q2] != -r[q1] {
					ok = false
				}
			}
			if !ok || uses <= 2 { // two ops to make x1±x2 must save more than that
				continue
			}
			g.p("VADDPS %s, %s, %s", g.reg(x[q2]), g.reg(x[q1]), g.reg(c))
			g.p("VSUBPS %s, %s, %s", g.reg(x[q2]), g.reg(x[q1]), g.reg(x[q2]))
			g.p("VMOVAPS %s, %s", g.reg(c), g.reg(x[q1]))
			for _, r := range rows {
				if r[q2] == r[q1] {
					r[q2] = 0
				} else {
					r[q2], r[q1] = r[q1], 0
				}
			}
		}
	}
	for i := 0; i < len(rows); i++ {
		if i+1 < len(rows) {
			even, odd, ok := splitPair(rows[i], rows[i+1])
			if ok {
				g.combo(a, even, x, init)
				g.combo(b, odd, x, -1)
				g.p("VADDPS %s, %s, %s", g.reg(b), g.reg(a), g.reg(c))
				g.p("VSUBPS %s, %s, %s", g.reg(b), g.reg(a), g.reg(b))
				store(i, c)
				store(i+1, b)
				i++
				continue
			}
		}
		acc := a + i%2*(b-a)
		g.combo(acc, rows[i], x, init)
		store(i, acc)
	}
}

// splitPair splits rows r1 and r2 = E+O and E−O when they agree up to sign at every
// column and both parts have terms, with more than two terms in all (else sharing
// saves nothing).
func splitPair(r1, r2 []float32) (even, odd []float32, ok bool) {
	even = make([]float32, len(r1))
	odd = make([]float32, len(r1))
	ne, no := 0, 0
	for q := range r1 {
		switch {
		case r1[q] == 0 && r2[q] == 0:
		case r2[q] == r1[q]:
			even[q] = r1[q]
			ne++
		case r2[q] == -r1[q]:
			odd[q] = r1[q]
			no++
		default:
			return nil, nil, false
		}
	}
	return even, odd, ne > 0 && no > 0 && ne+no > 2
}

func (g *wgen) name(kind string) string {
	isa := "AVX2"
	if g.avx512 {
		isa = "AVX512"
	}
	return fmt.Sprintf("winograd%s%d%s", kind, g.c.m, isa)
}

// input emits winogradInput<m><ISA>. Registers: SI d, DI v (group), R8 vstride·4,
// R9 gstride·4, R10 ld·4, R11 idx, CX groups, R12 α·vstride·4.
func (g *wgen) input() {
	a := g.c.alpha
	name := g.name("Input")
	fmt.Fprintf(g.b, "\n// func %s(v *float32, vstride int, gstride int, d *float32, ld int, idx *int32, groups int)\n", name)
	fmt.Fprintf(g.b, "TEXT ·%s(SB), NOSPLIT, $0-56\n", name)
	g.p("MOVQ v+0(FP), DI")
	g.p("MOVQ vstride+8(FP), R8")
	g.p("SHLQ $2, R8")
	g.p("MOVQ gstride+16(FP), R9")
	g.p("SHLQ $2, R9")
	g.p("MOVQ d+24(FP), SI")
	g.p("MOVQ ld+32(FP), R10")
	g.p("SHLQ $2, R10")
	g.p("MOVQ idx+40(FP), R11")
	g.p("MOVQ groups+48(FP), CX")
	g.p("MOVQ R8, R12")
	g.p("IMULQ $%d, R12", a)
	tmp := 28
	if !g.avx512 {
		g.p("VPCMPEQD Y12, Y12, Y12")
		tmp = 13
	}
	data := make([]int, a)
	for j := range data {
		data[j] = j
	}
	fmt.Fprintf(g.b, "%s_group:\n", name)
	halves := []int{0}
	if !g.avx512 {
		halves = []int{0, 32}
	}
	for _, h := range halves {
		// Pass 1, rows: r[i][l] = Σ_j Bᵀ[l][j]·d[i][j] into slot (i, l).
		if g.avx512 {
			g.p("VMOVDQU32 (R11), Z30")
		} else {
			g.p("VMOVDQU %d(R11), Y10", h)
		}
		g.p("MOVQ SI, BX")
		g.p("MOVQ DI, AX")
		for i := 0; i < a; i++ {
			for j := 0; j < a; j++ {
				if g.avx512 {
					g.p("KXNORW K0, K0, K1")
					g.p("VGATHERDPS %d(BX)(Z30*4), K1, Z%d", 4*j, j)
				} else {
					g.p("VMOVDQU Y12, Y11")
					g.p("VGATHERDPS Y11, %d(BX)(Y10*4), Y%d", 4*j, j)
				}
			}
			g.p("ADDQ R10, BX")
			g.transform(g.c.bt, data, -1, a, a+1, tmp, func(_, reg int) {
				g.p("VMOVUPS %s, %d(AX)", g.reg(reg), h)
				g.p("ADDQ R8, AX")
			})
		}
		// Pass 2, columns: V[k][l] = Σ_i Bᵀ[k][i]·r[i][l] into slot (k, l).
		g.p("MOVQ DI, AX")
		for l := 0; l < a; l++ {
			g.p("MOVQ AX, DX")
			for i := 0; i < a; i++ {
				g.p("VMOVUPS %d(DX), %s", h, g.reg(i))
				g.p("ADDQ R12, DX")
			}
			g.p("MOVQ AX, DX")
			g.transform(g.c.bt, data, -1, a, a+1, tmp, func(_, reg int) {
				g.p("VMOVUPS %s, %d(DX)", g.reg(reg), h)
				g.p("ADDQ R12, DX")
			})
			g.p("ADDQ R8, AX")
		}
	}
	g.p("ADDQ $64, R11")
	g.p("ADDQ R9, DI")
	g.p("DECQ CX")
	g.p("JNZ %s_group", name)
	g.p("VZEROUPPER")
	g.p("RET")
}

// output emits winogradOutput<m><ISA>. Registers: DI y, R10 ld·4, R11 idx, SI mm
// (group), R8 mstride·4, R12 α·mstride·4, CX groups; vectors: bias, lower bound
// (0 with ReLU, −Inf without) and, on AVX-512, the tile offsets.
func (g *wgen) output() {
	a, m := g.c.alpha, g.c.m
	name := g.name("Output")
	fmt.Fprintf(g.b, "\n// func %s(y *float32, ld int, idx *int32, mm *float32, mstride int, groups int, bias float32, relu bool)\n", name)
	fmt.Fprintf(g.b, "TEXT ·%s(SB), NOSPLIT, $0-53\n", name)
	g.p("MOVQ y+0(FP), DI")
	g.p("MOVQ ld+8(FP), R10")
	g.p("SHLQ $2, R10")
	g.p("MOVQ idx+16(FP), R11")
	g.p("MOVQ mm+24(FP), SI")
	g.p("MOVQ mstride+32(FP), R8")
	g.p("SHLQ $2, R8")
	g.p("MOVQ groups+40(FP), CX")
	g.p("MOVQ R8, R12")
	g.p("IMULQ $%d, R12", a)
	bias, lo, tmp := 13, 14, 15
	if g.avx512 {
		bias, lo, tmp = 29, 31, 28
	}
	g.p("VBROADCASTSS bias+48(FP), %s", g.reg(bias))
	g.p("VXORPS %s, %s, %s", g.reg(lo), g.reg(lo), g.reg(lo))
	g.p("MOVBLZX relu+52(FP), AX")
	g.p("TESTQ AX, AX")
	g.p("JNZ %s_relu", name)
	g.p("VBROADCASTSS %s, %s", g.konst(float32(math.Inf(-1))), g.reg(lo))
	fmt.Fprintf(g.b, "%s_relu:\n", name)
	data := make([]int, a)
	for j := range data {
		data[j] = j
	}
	fmt.Fprintf(g.b, "%s_group:\n", name)
	halves := []int{0}
	if !g.avx512 {
		halves = []int{0, 32}
	}
	for _, h := range halves {
		// Pass 1, rows: r[p][j] = Σ_q Aᵀ[j][q]·M[p][q] into slot (p, j).
		g.p("MOVQ SI, AX")
		for p := 0; p < a; p++ {
			g.p("MOVQ AX, DX")
			for q := 0; q < a; q++ {
				g.p("VMOVUPS %d(DX), %s", h, g.reg(q))
				g.p("ADDQ R8, DX")
			}
			g.p("MOVQ AX, DX")
			g.transform(g.c.at, data, -1, a, a+1, tmp, func(_, reg int) {
				g.p("VMOVUPS %s, %d(DX)", g.reg(reg), h)
				g.p("ADDQ R8, DX")
			})
			g.p("ADDQ R12, AX")
		}
		// Pass 2, columns: y[i][j] = bias + Σ_p Aᵀ[i][p]·r[p][j], clamped below.
		if g.avx512 {
			g.p("VMOVDQU32 (R11), Z30")
		}
		g.p("MOVQ SI, AX")
		for j := 0; j < m; j++ {
			g.p("MOVQ AX, DX")
			for p := 0; p < a; p++ {
				g.p("VMOVUPS %d(DX), %s", h, g.reg(p))
				g.p("ADDQ R12, DX")
			}
			g.p("LEAQ %d(DI), BX", 4*j)
			g.transform(g.c.at, data, bias, a, a+1, tmp, func(_, acc int) {
				g.p("VMAXPS %s, %s, %s", g.reg(acc), g.reg(lo), g.reg(acc))
				if g.avx512 {
					g.p("KXNORW K0, K0, K1")
					g.p("VSCATTERDPS Z%d, K1, (BX)(Z30*4)", acc)
				} else {
					// No scatter on AVX2: spill the 8 lanes to slot (0, j), whose
					// value is already in registers, and store them one by one.
					g.p("VMOVUPS Y%d, %d(AX)", acc, h)
					for t := 0; t < 8; t++ {
						g.p("MOVL %d(AX), R13", h+4*t)
						g.p("MOVLQSX %d(R11), R9", h+4*t)
						g.p("MOVL R13, (BX)(R9*4)")
					}
				}
				g.p("ADDQ R10, BX")
			})
			g.p("ADDQ R8, AX")
		}
	}
	g.p("ADDQ $64, R11")
	g.p("ADDQ $64, SI")
	g.p("DECQ CX")
	g.p("JNZ %s_group", name)
	g.p("VZEROUPPER")
	g.p("RET")
}

// genWinograd returns the text of winograd_amd64.s.
func genWinograd() []byte {
	var b bytes.Buffer
	b.WriteString(`// Code generated by TestWinogradGenerated (winograd_gen_test.go); DO NOT EDIT.

//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// Winograd input and output transforms, straight-line per F(m,3), lane-parallel over
// 16 tiles (AVX-512) or two halves of 8 (AVX2). Tiles are gathered (and scattered on
// AVX-512) through per-tile offsets; each pass's intermediate rows live in the
// destination (input) or source (output) slots. Zero coefficients are skipped and
// ±1 become adds. Constants are full 64-byte vectors of one value.
`)
	for _, m := range []int{2, 4, 6} {
		consts := map[uint32]int{}
		sym := fmt.Sprintf("·winogradConst%d", m)
		for _, avx512 := range []bool{true, false} {
			g := &wgen{b: &b, c: winogradCoefs[m], avx512: avx512, consts: consts, sym: sym}
			g.input()
			g.output()
		}
		type kv struct {
			bits uint32
			off  int
		}
		var list []kv
		for bits, off := range consts {
			list = append(list, kv{bits, off})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].off < list[j].off })
		b.WriteString("\n")
		for _, e := range list {
			for q := 0; q < 16; q++ {
				fmt.Fprintf(&b, "DATA %s+%d(SB)/4, $0x%08x\n", sym, e.off+4*q, e.bits)
			}
		}
		fmt.Fprintf(&b, "GLOBL %s(SB), RODATA|NOPTR, $%d\n", sym, 64*len(list))
	}
	return b.Bytes()
}

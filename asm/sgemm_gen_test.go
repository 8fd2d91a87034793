package asm

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

// TestSgemmGenerated writes sgemm_amd64.s (the unrolled micro-kernels) when
// GOVGG_GENERATE=1 and otherwise fails if the file is stale.
//
//	GOVGG_GENERATE=1 go test -run TestSgemmGenerated ./asm
func TestSgemmGenerated(t *testing.T) {
	src := genSgemm()
	const file = "sgemm_amd64.s"
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
		t.Fatalf("%s is stale: run GOVGG_GENERATE=1 go test -run TestSgemmGenerated ./asm", file)
	}
}

// kgen describes one micro-kernel: MR rows of C, NR = vecs·lanes columns, the
// accumulator of row r and vector v in register acc(r, v).
type kgen struct {
	b       *bytes.Buffer
	name    string // Go symbol
	label   string // label prefix
	reg     string // "Z" or "Y"
	lanes   int
	mr      int
	vecs    int
	bReg    int   // first of vecs B registers
	bcast   []int // broadcast temporaries, used round-robin
	rowOpts []int // row counts with their own loop (the last is mr)
	pfB     int   // B prefetch distance in bytes
	pfA     int   // A prefetch distance in bytes, 0 for none
}

func (g *kgen) p(format string, a ...any) { fmt.Fprintf(g.b, "\t"+format+"\n", a...) }
func (g *kgen) l(label string)            { fmt.Fprintf(g.b, "%s_%s:\n", g.label, label) }
func (g *kgen) acc(r, v int) string       { return fmt.Sprintf("%s%d", g.reg, r*g.vecs+v) }
func (g *kgen) vr(i int) string           { return fmt.Sprintf("%s%d", g.reg, i) }

// step emits one k step for rows×vecs accumulators: load the B vectors, then
// broadcast each A element and multiply-add it into its row.
func (g *kgen) step(rows, vecs int) {
	for v := 0; v < vecs; v++ {
		g.p("VMOVUPS %d(DI), %s", 4*g.lanes*v, g.vr(g.bReg+v))
	}
	for off := 0; off < 4*g.lanes*vecs; off += 64 {
		g.p("PREFETCHT0 %d(DI)", g.pfB+off)
	}
	for r := 0; r < rows; r++ {
		t := g.vr(g.bcast[r%len(g.bcast)])
		g.p("VBROADCASTSS %d(SI), %s", 4*r, t)
		for v := 0; v < vecs; v++ {
			g.p("VFMADD231PS %s, %s, %s", g.vr(g.bReg+v), t, g.acc(r, v))
		}
	}
	g.p("ADDQ $%d, SI", 4*g.mr)
	g.p("ADDQ R8, DI")
}

// loop emits the k loop (unrolled by 4, then single steps) of one tile shape.
func (g *kgen) loop(rows, vecs int) {
	id := fmt.Sprintf("m%dn%d", rows, vecs*g.lanes)
	g.l(id)
	g.p("TESTQ BX, BX")
	g.p("JZ    %s_%s_tail", g.label, id)
	g.l(id + "_loop4")
	for range 4 {
		g.step(rows, vecs)
	}
	// At batch 1 the packed A (a layer's weights) streams from DRAM once per
	// forward pass, sliver after sliver: fetch it well ahead of the hardware
	// prefetcher, one line per 64 bytes of the 4 steps' A.
	for off := 0; g.pfA > 0 && off < 4*4*g.mr; off += 64 {
		g.p("PREFETCHT0 %d(SI)", g.pfA+off)
	}
	g.p("DECQ BX")
	g.p("JNZ  %s_%s_loop4", g.label, id)
	g.l(id + "_tail")
	g.p("TESTQ CX, CX")
	g.p("JZ    %s_store", g.label)
	g.l(id + "_loop1")
	g.step(rows, vecs)
	g.p("DECQ CX")
	g.p("JNZ  %s_%s_loop1", g.label, id)
	g.p("JMP  %s_store", g.label)
}

// prologue loads the arguments, prefetches the C tile, clears the accumulators
// and dispatches on (mr, nr) to the smallest tile loop that covers them.
func (g *kgen) prologue() {
	fmt.Fprintf(g.b, "// func %s(kc int, a *float32, b *float32, ldb int, c *float32, ldc int, alpha float32, beta float32, mr int, nr int)\n", g.name)
	fmt.Fprintf(g.b, "TEXT ·%s(SB), NOSPLIT, $0-72\n", g.name)
	g.p("MOVQ kc+0(FP), CX")
	g.p("MOVQ a+8(FP), SI")
	g.p("MOVQ b+16(FP), DI")
	g.p("MOVQ ldb+24(FP), R8")
	g.p("SHLQ $2, R8                    // B row stride in bytes")
	g.p("MOVQ c+32(FP), DX")
	g.p("MOVQ ldc+40(FP), R9")
	g.p("SHLQ $2, R9                    // C row stride in bytes")
	g.p("MOVQ mr+56(FP), R10")
	g.p("MOVQ nr+64(FP), R11")
	g.p("MOVQ DX, AX                    // prefetch the C tile while the k loop runs")
	rowBytes := 4 * g.lanes * g.vecs
	for r := 0; r < g.mr; r++ {
		for off := 0; off < rowBytes; off += 64 {
			g.p("PREFETCHT0 %d(AX)", off)
		}
		g.p("PREFETCHT0 %d(AX)", rowBytes-1)
		if r < g.mr-1 {
			g.p("ADDQ R9, AX")
		}
	}
	for i := 0; i < g.mr*g.vecs; i++ {
		if g.reg == "Z" {
			g.p("VPXORD %s, %s, %s", g.vr(i), g.vr(i), g.vr(i))
		} else {
			g.p("VXORPS %s, %s, %s", g.vr(i), g.vr(i), g.vr(i))
		}
	}
	g.p("MOVQ CX, BX")
	g.p("SHRQ $2, BX                    // BX = kc/4 unrolled iterations")
	g.p("ANDQ $3, CX                    // CX = kc%%4 single steps")
	// Narrow tiles (nr ≤ one vector) skip the second vector's FMAs; short tiles
	// (mr ≤ a smaller row count) skip the unused rows'.
	g.p("CMPQ R11, $%d", g.lanes)
	g.p("JLE  %s_narrow", g.label)
	g.dispatchRows(g.vecs)
	g.l("narrow")
	g.dispatchRows(1)
}

func (g *kgen) dispatchRows(vecs int) {
	for _, rows := range g.rowOpts[:len(g.rowOpts)-1] {
		g.p("CMPQ R10, $%d", rows)
		g.p("JLE  %s_m%dn%d", g.label, rows, vecs*g.lanes)
	}
	g.p("JMP  %s_m%dn%d", g.label, g.mr, vecs*g.lanes)
}

// storeAVX512 writes alpha·acc (+ beta·C) to the mr×nr tile with K-masked
// loads and stores: K1/K2 cover the first nr of the 32 columns.
func (g *kgen) storeAVX512() {
	g.l("store")
	g.p("MOVQ R11, CX")
	g.p("MOVQ $1, AX")
	g.p("SHLQ CX, AX")
	g.p("DECQ AX")
	g.p("KMOVW AX, K1")
	g.p("SHRQ $16, AX")
	g.p("KMOVW AX, K2")
	g.p("VBROADCASTSS alpha+48(FP), Z26")
	g.p("VBROADCASTSS beta+52(FP), Z27")
	g.p("MOVL beta+52(FP), AX")
	g.p("SHLL $1, AX                    // beta == ±0: C is not read")
	g.p("JZ   %s_nobeta", g.label)
	for _, beta := range []bool{true, false} {
		if !beta {
			g.l("nobeta")
		}
		for r := 0; r < g.mr; r++ {
			a0, a1 := g.acc(r, 0), g.acc(r, 1)
			g.p("VMULPS Z26, %s, %s", a0, a0)
			g.p("VMULPS Z26, %s, %s", a1, a1)
			if beta {
				g.p("VMOVUPS.Z (DX), K1, Z28")
				g.p("VMOVUPS.Z 64(DX), K2, Z29")
				g.p("VFMADD231PS Z27, Z28, %s", a0)
				g.p("VFMADD231PS Z27, Z29, %s", a1)
			}
			g.p("VMOVUPS %s, K1, (DX)", a0)
			g.p("VMOVUPS %s, K2, 64(DX)", a1)
			if r < g.mr-1 {
				g.p("ADDQ R9, DX")
				g.p("DECQ R10")
				g.p("JZ   %s_done", g.label)
			}
		}
		if beta {
			g.p("JMP  %s_done", g.label)
		}
	}
	g.l("done")
	g.p("VZEROUPPER")
	g.p("RET")
}

// storeAVX2 is storeAVX512 with VMASKMOVPS: Y12/Y13 mask the first nr of the
// 16 columns, read from kernMask<> (8 ones then 8 zeros) at offsets 8-min(nr,8)
// and 8-clamp(nr-8, 0, 8).
func (g *kgen) storeAVX2() {
	g.l("store")
	g.p("MOVQ $8, BX")
	g.p("CMPQ R11, BX")
	g.p("CMOVQLT R11, BX                // BX = min(nr, 8)")
	g.p("MOVQ R11, CX")
	g.p("SUBQ $8, CX")
	g.p("XORQ AX, AX")
	g.p("CMPQ CX, AX")
	g.p("CMOVQLT AX, CX                 // CX = max(nr-8, 0)")
	g.p("LEAQ kernMask<>(SB), R12")
	g.p("MOVQ $8, AX")
	g.p("SUBQ BX, AX")
	g.p("VMOVUPS (R12)(AX*4), Y12")
	g.p("MOVQ $8, AX")
	g.p("SUBQ CX, AX")
	g.p("VMOVUPS (R12)(AX*4), Y13")
	g.p("VBROADCASTSS alpha+48(FP), Y14")
	for i := 0; i < g.mr*g.vecs; i++ {
		g.p("VMULPS Y14, %s, %s", g.vr(i), g.vr(i))
	}
	g.p("VBROADCASTSS beta+52(FP), Y15")
	g.p("MOVL beta+52(FP), AX")
	g.p("SHLL $1, AX                    // beta == ±0: C is not read")
	g.p("JZ   %s_nobeta", g.label)
	for _, beta := range []bool{true, false} {
		if !beta {
			g.l("nobeta")
		}
		for r := 0; r < g.mr; r++ {
			a0, a1 := g.acc(r, 0), g.acc(r, 1)
			if beta {
				g.p("VMASKMOVPS (DX), Y12, Y14")
				g.p("VFMADD231PS Y15, Y14, %s", a0)
				g.p("VMASKMOVPS 32(DX), Y13, Y14")
				g.p("VFMADD231PS Y15, Y14, %s", a1)
			}
			g.p("VMASKMOVPS %s, Y12, (DX)", a0)
			g.p("VMASKMOVPS %s, Y13, 32(DX)", a1)
			if r < g.mr-1 {
				g.p("ADDQ R9, DX")
				g.p("DECQ R10")
				g.p("JZ   %s_done", g.label)
			}
		}
		if beta {
			g.p("JMP  %s_done", g.label)
		}
	}
	g.l("done")
	g.p("VZEROUPPER")
	g.p("RET")
}

func (g *kgen) kernel() {
	g.prologue()
	for _, vecs := range []int{g.vecs, 1} {
		for _, rows := range g.rowOpts {
			g.loop(rows, vecs)
		}
	}
	if g.reg == "Z" {
		g.storeAVX512()
	} else {
		g.storeAVX2()
	}
	g.b.WriteString("\n")
}

// transposeKernel emits a packTrans for full slivers (w = W): blocks of 16 rows of
// dst (16 columns of src) are loaded as up to 16×16 tiles, one per 16 columns of
// the sliver, and transposed in registers (unpack 32-bit, unpack 64-bit, then two
// rounds of 128-bit lane shuffles), instead of one gather per dst row.
func transposeKernel(b *bytes.Buffer, name string, width int) {
	// Each source row is read 64 bytes per block; fetch 8 blocks ahead.
	const pfDist = 512
	g := &kgen{b: b, label: name}
	fmt.Fprintf(b, "// func %s(dst *float32, src *float32, ld int, blocks int)\n", name)
	fmt.Fprintf(b, "TEXT ·%s(SB), NOSPLIT, $0-32\n", name)
	g.p("MOVQ dst+0(FP), DI")
	g.p("MOVQ src+8(FP), SI")
	g.p("MOVQ ld+16(FP), R8")
	g.p("SHLQ $2, R8                    // src row stride in bytes")
	g.p("MOVQ blocks+24(FP), BX")
	g.p("MOVQ $%#x, AX", 1<<min(width, 16)-1)
	g.p("KMOVW AX, K3                   // lanes of dst written per tile")
	g.p("TESTQ BX, BX")
	g.p("JZ   %s_done", name)
	g.l("loop")
	for h := 0; h*16 < width; h++ {
		rows := min(16, width-16*h)
		g.p("MOVQ SI, AX")
		if h > 0 {
			g.p("MOVQ R8, CX")
			g.p("SHLQ $4, CX")
			g.p("ADDQ CX, AX                    // the next 16 src rows")
		}
		for j := 0; j < 16; j++ {
			if j < rows {
				g.p("PREFETCHT0 %d(AX)", pfDist)
				g.p("VMOVUPS (AX), Z%d", j)
				if j < rows-1 {
					g.p("ADDQ R8, AX")
				}
			} else {
				g.p("VPXORD Z%d, Z%d, Z%d", j, j, j)
			}
		}
		for k := 0; k < 8; k++ {
			g.p("VUNPCKLPS Z%d, Z%d, Z%d", 2*k+1, 2*k, 16+2*k)
			g.p("VUNPCKHPS Z%d, Z%d, Z%d", 2*k+1, 2*k, 17+2*k)
		}
		for q := 0; q < 4; q++ {
			a0, b0, a1, b1 := 16+4*q, 17+4*q, 18+4*q, 19+4*q
			g.p("VUNPCKLPD Z%d, Z%d, Z%d", a1, a0, 4*q)
			g.p("VUNPCKHPD Z%d, Z%d, Z%d", a1, a0, 4*q+1)
			g.p("VUNPCKLPD Z%d, Z%d, Z%d", b1, b0, 4*q+2)
			g.p("VUNPCKHPD Z%d, Z%d, Z%d", b1, b0, 4*q+3)
		}
		for sub := 0; sub < 4; sub++ {
			c := func(q int) int { return 4*q + sub }
			g.p("VSHUFF32X4 $0x44, Z%d, Z%d, Z16", c(1), c(0))
			g.p("VSHUFF32X4 $0xEE, Z%d, Z%d, Z17", c(1), c(0))
			g.p("VSHUFF32X4 $0x44, Z%d, Z%d, Z18", c(3), c(2))
			g.p("VSHUFF32X4 $0xEE, Z%d, Z%d, Z19", c(3), c(2))
			g.p("VSHUFF32X4 $0x88, Z18, Z16, Z20")
			g.p("VSHUFF32X4 $0xDD, Z18, Z16, Z21")
			g.p("VSHUFF32X4 $0x88, Z19, Z17, Z22")
			g.p("VSHUFF32X4 $0xDD, Z19, Z17, Z23")
			for i, q := range []int{sub, 4 + sub, 8 + sub, 12 + sub} {
				g.p("VMOVUPS Z%d, K3, %d(DI)", 20+i, 4*(q*width+16*h))
			}
		}
	}
	g.p("ADDQ $64, SI                   // 16 columns of src")
	g.p("ADDQ $%d, DI                 // 16 rows of dst", 4*16*width)
	g.p("DECQ BX")
	g.p("JNZ  %s_loop", name)
	g.l("done")
	g.p("VZEROUPPER")
	g.p("RET")
	b.WriteString("\n")
}

func genSgemm() []byte {
	var b bytes.Buffer
	b.WriteString(`// Code generated by TestSgemmGenerated (sgemm_gen_test.go); DO NOT EDIT.

//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// SGEMM micro-kernels and the transposing packers of full A (12) and B (32)
// slivers. The Go declarations, with the reference loops, are in sgemm_amd64.go
// and pack_amd64.go; the pure-Go twins are in sgemm_generic.go and pack_generic.go.
//
// AVX-512 12×32: Z0..Z23 hold C (row r in Z(2r), Z(2r+1)), Z24/Z25 the two B
// vectors of a k step, Z26..Z31 broadcasts of A. AVX2 6×16: Y0..Y11 hold C,
// Y12/Y13 B, Y14/Y15 broadcasts. Tiles with mr or nr below the full size run a
// loop without the unused rows or vector (the packed A stride stays MR).

`)
	avx512 := &kgen{b: &b, name: "sgemmKernelAVX512", label: "k512", reg: "Z", lanes: 16, mr: 12, vecs: 2,
		bReg: 24, bcast: []int{26, 27, 28, 29, 30, 31}, rowOpts: []int{4, 8, 12}, pfB: 1024, pfA: 2048}
	avx512.kernel()
	avx2 := &kgen{b: &b, name: "sgemmKernelAVX2", label: "k2", reg: "Y", lanes: 8, mr: 6, vecs: 2,
		bReg: 12, bcast: []int{14, 15}, rowOpts: []int{3, 6}, pfB: 512, pfA: 2048}
	avx2.kernel()
	transposeKernel(&b, "packTrans12AVX512", 12)
	transposeKernel(&b, "packTrans32AVX512", 32)
	b.WriteString("// kernMask<>: 8 lanes of ones then 8 of zeros; 8 floats read at offset 8-r\n// give a mask of the first r lanes.\n")
	for i := 0; i < 8; i++ {
		v := "$-1"
		if i >= 4 {
			v = "$0"
		}
		fmt.Fprintf(&b, "DATA kernMask<>+%d(SB)/8, %s\n", 8*i, v)
	}
	b.WriteString("GLOBL kernMask<>(SB), RODATA|NOPTR, $64\n")
	return b.Bytes()
}

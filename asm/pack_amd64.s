//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// Packing kernels of the SGEMM driver. The Go declarations, with the reference
// loops, are in pack_amd64.go; the pure-Go twins are in pack_generic.go.

// packMask<>: 8 lanes of ones then 8 of zeros; 8 floats read at offset 8-r give
// a mask of the first r lanes.
DATA packMask<>+0(SB)/8, $-1
DATA packMask<>+8(SB)/8, $-1
DATA packMask<>+16(SB)/8, $-1
DATA packMask<>+24(SB)/8, $-1
DATA packMask<>+32(SB)/8, $0
DATA packMask<>+40(SB)/8, $0
DATA packMask<>+48(SB)/8, $0
DATA packMask<>+56(SB)/8, $0
GLOBL packMask<>(SB), RODATA|NOPTR, $64

// packIota<>: the int32 lane numbers 0..31, for gather indices.

DATA packIota<>+0(SB)/4, $0
DATA packIota<>+4(SB)/4, $1
DATA packIota<>+8(SB)/4, $2
DATA packIota<>+12(SB)/4, $3
DATA packIota<>+16(SB)/4, $4
DATA packIota<>+20(SB)/4, $5
DATA packIota<>+24(SB)/4, $6
DATA packIota<>+28(SB)/4, $7
DATA packIota<>+32(SB)/4, $8
DATA packIota<>+36(SB)/4, $9
DATA packIota<>+40(SB)/4, $10
DATA packIota<>+44(SB)/4, $11
DATA packIota<>+48(SB)/4, $12
DATA packIota<>+52(SB)/4, $13
DATA packIota<>+56(SB)/4, $14
DATA packIota<>+60(SB)/4, $15
DATA packIota<>+64(SB)/4, $16
DATA packIota<>+68(SB)/4, $17
DATA packIota<>+72(SB)/4, $18
DATA packIota<>+76(SB)/4, $19
DATA packIota<>+80(SB)/4, $20
DATA packIota<>+84(SB)/4, $21
DATA packIota<>+88(SB)/4, $22
DATA packIota<>+92(SB)/4, $23
DATA packIota<>+96(SB)/4, $24
DATA packIota<>+100(SB)/4, $25
DATA packIota<>+104(SB)/4, $26
DATA packIota<>+108(SB)/4, $27
DATA packIota<>+112(SB)/4, $28
DATA packIota<>+116(SB)/4, $29
DATA packIota<>+120(SB)/4, $30
DATA packIota<>+124(SB)/4, $31
GLOBL packIota<>(SB), RODATA|NOPTR, $128

// ---------------------------------------------------------------------------
// Packing. K1/K2 mask the w columns read, K3/K4 the W columns written.

// func packCopyAVX512(dst *float32, src *float32, ld int, rows int, w int, W int)
TEXT ·packCopyAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $2, R8
	MOVQ rows+24(FP), BX
	MOVQ w+32(FP), CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	SHRQ $16, AX
	KMOVW AX, K2
	MOVQ W+40(FP), CX
	MOVQ CX, R9
	SHLQ $2, R9                    // dst row stride in bytes
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K3
	SHRQ $16, AX
	KMOVW AX, K4
	TESTQ BX, BX
	JZ    pc512_done
pc512_loop:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS Z0, K3, (DI)
	VMOVUPS Z1, K4, 64(DI)
	ADDQ R8, SI
	ADDQ R9, DI
	DECQ BX
	JNZ  pc512_loop
pc512_done:
	VZEROUPPER
	RET

// func packTransAVX512(dst *float32, src *float32, ld int, rows int, w int, W int)
TEXT ·packTransAVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), AX
	VPBROADCASTD AX, Z2
	VPMULLD packIota<>+0(SB), Z2, Z30  // Z30 = j*ld, j = 0..15
	VPMULLD packIota<>+64(SB), Z2, Z31 // Z31 = j*ld, j = 16..31
	MOVQ rows+24(FP), BX
	MOVQ w+32(FP), CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	SHRQ $16, AX
	KMOVW AX, K2
	MOVQ W+40(FP), CX
	MOVQ CX, R9
	SHLQ $2, R9
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K3
	SHRQ $16, AX
	KMOVW AX, K4
	TESTQ BX, BX
	JZ    pt512_done
pt512_loop:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	KMOVW K1, K5
	VGATHERDPS (SI)(Z30*4), K5, Z0
	KMOVW K2, K6
	VGATHERDPS (SI)(Z31*4), K6, Z1
	VMOVUPS Z0, K3, (DI)
	VMOVUPS Z1, K4, 64(DI)
	ADDQ $4, SI
	ADDQ R9, DI
	DECQ BX
	JNZ  pt512_loop
pt512_done:
	VZEROUPPER
	RET

// func packCopyAVX2(dst *float32, src *float32, ld int, rows int, w int, W int)
TEXT ·packCopyAVX2(SB), NOSPLIT, $0-48
	LEAQ packMask<>(SB), R12
	MOVQ w+32(FP), AX
	MOVQ $8, BX
	CMPQ AX, BX
	CMOVQLT AX, BX
	MOVQ AX, CX
	SUBQ $8, CX
	XORQ R11, R11
	CMPQ CX, R11
	CMOVQLT R11, CX
	MOVQ $8, R11
	SUBQ BX, R11
	VMOVUPS (R12)(R11*4), Y2       // Y2, Y3: read masks
	MOVQ $8, R11
	SUBQ CX, R11
	VMOVUPS (R12)(R11*4), Y3
	MOVQ W+40(FP), AX
	MOVQ AX, R9
	SHLQ $2, R9
	MOVQ $8, BX
	CMPQ AX, BX
	CMOVQLT AX, BX
	MOVQ AX, CX
	SUBQ $8, CX
	XORQ R11, R11
	CMPQ CX, R11
	CMOVQLT R11, CX
	MOVQ $8, R11
	SUBQ BX, R11
	VMOVUPS (R12)(R11*4), Y4       // Y4, Y5: write masks
	MOVQ $8, R11
	SUBQ CX, R11
	VMOVUPS (R12)(R11*4), Y5
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $2, R8
	MOVQ rows+24(FP), BX
	TESTQ BX, BX
	JZ    pc2_done
pc2_loop:
	VMASKMOVPS (SI), Y2, Y0
	VMASKMOVPS 32(SI), Y3, Y1
	VMASKMOVPS Y0, Y4, (DI)
	VMASKMOVPS Y1, Y5, 32(DI)
	ADDQ R8, SI
	ADDQ R9, DI
	DECQ BX
	JNZ  pc2_loop
pc2_done:
	VZEROUPPER
	RET


// ---------------------------------------------------------------------------
// Panel packing of a row-major B block: rows are read contiguously (friendly to
// the hardware prefetchers even when B is far larger than the caches) and
// scattered into the NR-wide slivers.

// func packPanelAVX512(dst *float32, src *float32, ld int, kc int, nc int)
TEXT ·packPanelAVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $2, R8                    // src row stride in bytes
	MOVQ kc+24(FP), BX
	MOVQ BX, R10
	SHLQ $7, R10                   // sliver stride: kc·32 floats, in bytes
	MOVQ nc+32(FP), R11
	MOVQ R11, CX
	ANDQ $31, CX                   // CX = columns in the ragged last sliver
	SHRQ $5, R11                   // R11 = full slivers
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	SHRQ $16, AX
	KMOVW AX, K2
	MOVQ R8, R12
	SHLQ $1, R12                   // prefetch distance: two rows
	TESTQ BX, BX
	JZ    pp512_done
pp512_row:
	MOVQ SI, AX
	MOVQ DI, DX
	MOVQ R11, R13
	TESTQ R13, R13
	JZ    pp512_rem
pp512_sliver:
	PREFETCHT0 (AX)(R12*1)
	VMOVUPS (AX), Z0
	VMOVUPS 64(AX), Z1
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	ADDQ $128, AX
	ADDQ R10, DX
	DECQ R13
	JNZ  pp512_sliver
pp512_rem:
	TESTQ CX, CX
	JZ    pp512_next
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z 64(AX), K2, Z1
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
pp512_next:
	ADDQ R8, SI
	ADDQ $128, DI
	DECQ BX
	JNZ  pp512_row
pp512_done:
	VZEROUPPER
	RET

// func packPanelAVX2(dst *float32, src *float32, ld int, kc int, nc int)
TEXT ·packPanelAVX2(SB), NOSPLIT, $0-40
	MOVQ nc+32(FP), R11
	MOVQ R11, AX
	ANDQ $15, AX                   // AX = columns in the ragged last sliver
	SHRQ $4, R11                   // R11 = full slivers
	MOVQ AX, R14                   // R14 = ragged columns (for the test below)
	MOVQ $8, BX
	CMPQ AX, BX
	CMOVQLT AX, BX
	MOVQ AX, CX
	SUBQ $8, CX
	XORQ R9, R9
	CMPQ CX, R9
	CMOVQLT R9, CX
	LEAQ packMask<>(SB), R9
	MOVQ $8, R13
	SUBQ BX, R13
	VMOVUPS (R9)(R13*4), Y2        // Y2, Y3: masks of the ragged sliver
	MOVQ $8, R13
	SUBQ CX, R13
	VMOVUPS (R9)(R13*4), Y3
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $2, R8
	MOVQ kc+24(FP), BX
	MOVQ BX, R10
	SHLQ $6, R10                   // sliver stride: kc·16 floats, in bytes
	MOVQ R8, R12
	SHLQ $1, R12
	TESTQ BX, BX
	JZ    pp2_done
pp2_row:
	MOVQ SI, AX
	MOVQ DI, DX
	MOVQ R11, R13
	TESTQ R13, R13
	JZ    pp2_rem
pp2_sliver:
	PREFETCHT0 (AX)(R12*1)
	VMOVUPS (AX), Y0
	VMOVUPS 32(AX), Y1
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ $64, AX
	ADDQ R10, DX
	DECQ R13
	JNZ  pp2_sliver
pp2_rem:
	TESTQ R14, R14
	JZ    pp2_next
	VMASKMOVPS (AX), Y2, Y0
	VMASKMOVPS 32(AX), Y3, Y1
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
pp2_next:
	ADDQ R8, SI
	ADDQ $64, DI
	DECQ BX
	JNZ  pp2_row
pp2_done:
	VZEROUPPER
	RET

// func packTransAVX2(dst *float32, src *float32, ld int, rows int, w int, W int)
TEXT ·packTransAVX2(SB), NOSPLIT, $0-48
	LEAQ packMask<>(SB), R12
	MOVQ w+32(FP), AX
	MOVQ $8, BX
	CMPQ AX, BX
	CMOVQLT AX, BX
	MOVQ AX, CX
	SUBQ $8, CX
	XORQ R11, R11
	CMPQ CX, R11
	CMOVQLT R11, CX
	MOVQ $8, R11
	SUBQ BX, R11
	VMOVUPS (R12)(R11*4), Y2       // Y2, Y3: gather masks
	MOVQ $8, R11
	SUBQ CX, R11
	VMOVUPS (R12)(R11*4), Y3
	MOVQ W+40(FP), AX
	MOVQ AX, R9
	SHLQ $2, R9
	MOVQ $8, BX
	CMPQ AX, BX
	CMOVQLT AX, BX
	MOVQ AX, CX
	SUBQ $8, CX
	XORQ R11, R11
	CMPQ CX, R11
	CMOVQLT R11, CX
	MOVQ $8, R11
	SUBQ BX, R11
	VMOVUPS (R12)(R11*4), Y4       // Y4, Y5: write masks
	MOVQ $8, R11
	SUBQ CX, R11
	VMOVUPS (R12)(R11*4), Y5
	MOVQ ld+16(FP), AX
	MOVQ AX, X10
	VPBROADCASTD X10, Y10
	VPMULLD packIota<>+0(SB), Y10, Y8  // Y8 = j*ld, j = 0..7
	VPMULLD packIota<>+32(SB), Y10, Y9 // Y9 = j*ld, j = 8..15
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+24(FP), BX
	TESTQ BX, BX
	JZ    pt2_done
pt2_loop:
	VXORPS Y0, Y0, Y0
	VMOVAPS Y2, Y6
	VGATHERDPS Y6, (SI)(Y8*4), Y0
	VXORPS Y1, Y1, Y1
	VMOVAPS Y3, Y7
	VGATHERDPS Y7, (SI)(Y9*4), Y1
	VMASKMOVPS Y0, Y4, (DI)
	VMASKMOVPS Y1, Y5, 32(DI)
	ADDQ $4, SI
	ADDQ R9, DI
	DECQ BX
	JNZ  pt2_loop
pt2_done:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// Dot products for a GEMM with few rows of A and a transposed B (a fully
// connected layer at batch 1..8): B rows stream once, at memory speed, without
// packing. Z0..Z15 accumulate out[i*4+r]; Z16..Z19 hold B, Z20..Z23 A.

// func dot4x4AVX512(a *float32, lda int, b *float32, ldb int, k int, out *float32)
TEXT ·dot4x4AVX512(SB), NOSPLIT, $0-48
	MOVQ a+0(FP), AX
	MOVQ lda+8(FP), CX
	SHLQ $2, CX                    // A row stride in bytes
	LEAQ (CX)(CX*2), R9            // 3 A rows
	MOVQ b+16(FP), BX
	MOVQ ldb+24(FP), DX
	SHLQ $2, DX                    // B row stride in bytes
	LEAQ (DX)(DX*2), R8            // 3 B rows
	MOVQ k+32(FP), SI
	MOVQ out+40(FP), DI
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	MOVQ SI, R10
	SHRQ $4, R10                   // full vectors
	ANDQ $15, SI                   // tail lanes
	MOVQ $1, R11
	MOVQ SI, CX
	SHLQ CX, R11
	DECQ R11
	KMOVW R11, K1
	MOVQ lda+8(FP), CX
	SHLQ $2, CX
	TESTQ R10, R10
	JZ    dot_tail
dot_loop:
	VMOVUPS (BX), Z16
	VMOVUPS (BX)(DX*1), Z17
	VMOVUPS (BX)(DX*2), Z18
	VMOVUPS (BX)(R8*1), Z19
	VMOVUPS (AX), Z20
	VMOVUPS (AX)(CX*1), Z21
	VMOVUPS (AX)(CX*2), Z22
	VMOVUPS (AX)(R9*1), Z23
	VFMADD231PS Z16, Z20, Z0
	VFMADD231PS Z17, Z20, Z1
	VFMADD231PS Z18, Z20, Z2
	VFMADD231PS Z19, Z20, Z3
	VFMADD231PS Z16, Z21, Z4
	VFMADD231PS Z17, Z21, Z5
	VFMADD231PS Z18, Z21, Z6
	VFMADD231PS Z19, Z21, Z7
	VFMADD231PS Z16, Z22, Z8
	VFMADD231PS Z17, Z22, Z9
	VFMADD231PS Z18, Z22, Z10
	VFMADD231PS Z19, Z22, Z11
	VFMADD231PS Z16, Z23, Z12
	VFMADD231PS Z17, Z23, Z13
	VFMADD231PS Z18, Z23, Z14
	VFMADD231PS Z19, Z23, Z15
	ADDQ $64, AX
	ADDQ $64, BX
	DECQ R10
	JNZ  dot_loop
dot_tail:
	TESTQ SI, SI
	JZ    dot_reduce
	VMOVUPS.Z (BX), K1, Z16
	VMOVUPS.Z (BX)(DX*1), K1, Z17
	VMOVUPS.Z (BX)(DX*2), K1, Z18
	VMOVUPS.Z (BX)(R8*1), K1, Z19
	VMOVUPS.Z (AX), K1, Z20
	VMOVUPS.Z (AX)(CX*1), K1, Z21
	VMOVUPS.Z (AX)(CX*2), K1, Z22
	VMOVUPS.Z (AX)(R9*1), K1, Z23
	VFMADD231PS Z16, Z20, Z0
	VFMADD231PS Z17, Z20, Z1
	VFMADD231PS Z18, Z20, Z2
	VFMADD231PS Z19, Z20, Z3
	VFMADD231PS Z16, Z21, Z4
	VFMADD231PS Z17, Z21, Z5
	VFMADD231PS Z18, Z21, Z6
	VFMADD231PS Z19, Z21, Z7
	VFMADD231PS Z16, Z22, Z8
	VFMADD231PS Z17, Z22, Z9
	VFMADD231PS Z18, Z22, Z10
	VFMADD231PS Z19, Z22, Z11
	VFMADD231PS Z16, Z23, Z12
	VFMADD231PS Z17, Z23, Z13
	VFMADD231PS Z18, Z23, Z14
	VFMADD231PS Z19, Z23, Z15
dot_reduce:
	VEXTRACTF64X4 $1, Z0, Y24
	VADDPS Y24, Y0, Y0
	VEXTRACTF32X4 $1, Y0, X24
	VADDPS X24, X0, X0
	VPERMILPS $0x4E, X0, X24
	VADDPS X24, X0, X0
	VPERMILPS $0xB1, X0, X24
	VADDPS X24, X0, X0
	VMOVSS X0, 0(DI)
	VEXTRACTF64X4 $1, Z1, Y24
	VADDPS Y24, Y1, Y1
	VEXTRACTF32X4 $1, Y1, X24
	VADDPS X24, X1, X1
	VPERMILPS $0x4E, X1, X24
	VADDPS X24, X1, X1
	VPERMILPS $0xB1, X1, X24
	VADDPS X24, X1, X1
	VMOVSS X1, 4(DI)
	VEXTRACTF64X4 $1, Z2, Y24
	VADDPS Y24, Y2, Y2
	VEXTRACTF32X4 $1, Y2, X24
	VADDPS X24, X2, X2
	VPERMILPS $0x4E, X2, X24
	VADDPS X24, X2, X2
	VPERMILPS $0xB1, X2, X24
	VADDPS X24, X2, X2
	VMOVSS X2, 8(DI)
	VEXTRACTF64X4 $1, Z3, Y24
	VADDPS Y24, Y3, Y3
	VEXTRACTF32X4 $1, Y3, X24
	VADDPS X24, X3, X3
	VPERMILPS $0x4E, X3, X24
	VADDPS X24, X3, X3
	VPERMILPS $0xB1, X3, X24
	VADDPS X24, X3, X3
	VMOVSS X3, 12(DI)
	VEXTRACTF64X4 $1, Z4, Y24
	VADDPS Y24, Y4, Y4
	VEXTRACTF32X4 $1, Y4, X24
	VADDPS X24, X4, X4
	VPERMILPS $0x4E, X4, X24
	VADDPS X24, X4, X4
	VPERMILPS $0xB1, X4, X24
	VADDPS X24, X4, X4
	VMOVSS X4, 16(DI)
	VEXTRACTF64X4 $1, Z5, Y24
	VADDPS Y24, Y5, Y5
	VEXTRACTF32X4 $1, Y5, X24
	VADDPS X24, X5, X5
	VPERMILPS $0x4E, X5, X24
	VADDPS X24, X5, X5
	VPERMILPS $0xB1, X5, X24
	VADDPS X24, X5, X5
	VMOVSS X5, 20(DI)
	VEXTRACTF64X4 $1, Z6, Y24
	VADDPS Y24, Y6, Y6
	VEXTRACTF32X4 $1, Y6, X24
	VADDPS X24, X6, X6
	VPERMILPS $0x4E, X6, X24
	VADDPS X24, X6, X6
	VPERMILPS $0xB1, X6, X24
	VADDPS X24, X6, X6
	VMOVSS X6, 24(DI)
	VEXTRACTF64X4 $1, Z7, Y24
	VADDPS Y24, Y7, Y7
	VEXTRACTF32X4 $1, Y7, X24
	VADDPS X24, X7, X7
	VPERMILPS $0x4E, X7, X24
	VADDPS X24, X7, X7
	VPERMILPS $0xB1, X7, X24
	VADDPS X24, X7, X7
	VMOVSS X7, 28(DI)
	VEXTRACTF64X4 $1, Z8, Y24
	VADDPS Y24, Y8, Y8
	VEXTRACTF32X4 $1, Y8, X24
	VADDPS X24, X8, X8
	VPERMILPS $0x4E, X8, X24
	VADDPS X24, X8, X8
	VPERMILPS $0xB1, X8, X24
	VADDPS X24, X8, X8
	VMOVSS X8, 32(DI)
	VEXTRACTF64X4 $1, Z9, Y24
	VADDPS Y24, Y9, Y9
	VEXTRACTF32X4 $1, Y9, X24
	VADDPS X24, X9, X9
	VPERMILPS $0x4E, X9, X24
	VADDPS X24, X9, X9
	VPERMILPS $0xB1, X9, X24
	VADDPS X24, X9, X9
	VMOVSS X9, 36(DI)
	VEXTRACTF64X4 $1, Z10, Y24
	VADDPS Y24, Y10, Y10
	VEXTRACTF32X4 $1, Y10, X24
	VADDPS X24, X10, X10
	VPERMILPS $0x4E, X10, X24
	VADDPS X24, X10, X10
	VPERMILPS $0xB1, X10, X24
	VADDPS X24, X10, X10
	VMOVSS X10, 40(DI)
	VEXTRACTF64X4 $1, Z11, Y24
	VADDPS Y24, Y11, Y11
	VEXTRACTF32X4 $1, Y11, X24
	VADDPS X24, X11, X11
	VPERMILPS $0x4E, X11, X24
	VADDPS X24, X11, X11
	VPERMILPS $0xB1, X11, X24
	VADDPS X24, X11, X11
	VMOVSS X11, 44(DI)
	VEXTRACTF64X4 $1, Z12, Y24
	VADDPS Y24, Y12, Y12
	VEXTRACTF32X4 $1, Y12, X24
	VADDPS X24, X12, X12
	VPERMILPS $0x4E, X12, X24
	VADDPS X24, X12, X12
	VPERMILPS $0xB1, X12, X24
	VADDPS X24, X12, X12
	VMOVSS X12, 48(DI)
	VEXTRACTF64X4 $1, Z13, Y24
	VADDPS Y24, Y13, Y13
	VEXTRACTF32X4 $1, Y13, X24
	VADDPS X24, X13, X13
	VPERMILPS $0x4E, X13, X24
	VADDPS X24, X13, X13
	VPERMILPS $0xB1, X13, X24
	VADDPS X24, X13, X13
	VMOVSS X13, 52(DI)
	VEXTRACTF64X4 $1, Z14, Y24
	VADDPS Y24, Y14, Y14
	VEXTRACTF32X4 $1, Y14, X24
	VADDPS X24, X14, X14
	VPERMILPS $0x4E, X14, X24
	VADDPS X24, X14, X14
	VPERMILPS $0xB1, X14, X24
	VADDPS X24, X14, X14
	VMOVSS X14, 56(DI)
	VEXTRACTF64X4 $1, Z15, Y24
	VADDPS Y24, Y15, Y15
	VEXTRACTF32X4 $1, Y15, X24
	VADDPS X24, X15, X15
	VPERMILPS $0x4E, X15, X24
	VADDPS X24, X15, X15
	VPERMILPS $0xB1, X15, X24
	VADDPS X24, X15, X15
	VMOVSS X15, 60(DI)
	VZEROUPPER
	RET

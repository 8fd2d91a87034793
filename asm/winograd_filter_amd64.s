//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// The Winograd filter transform of WinogradFilter. The Go declarations, with the
// reference loop, are in winograd_filter_amd64.go; the pure-Go twin is in
// winograd_filter_twin.go.

// wfIota<>: the int32 lane numbers 0..15, for gather indices.
DATA wfIota<>+0(SB)/4, $0
DATA wfIota<>+4(SB)/4, $1
DATA wfIota<>+8(SB)/4, $2
DATA wfIota<>+12(SB)/4, $3
DATA wfIota<>+16(SB)/4, $4
DATA wfIota<>+20(SB)/4, $5
DATA wfIota<>+24(SB)/4, $6
DATA wfIota<>+28(SB)/4, $7
DATA wfIota<>+32(SB)/4, $8
DATA wfIota<>+36(SB)/4, $9
DATA wfIota<>+40(SB)/4, $10
DATA wfIota<>+44(SB)/4, $11
DATA wfIota<>+48(SB)/4, $12
DATA wfIota<>+52(SB)/4, $13
DATA wfIota<>+56(SB)/4, $14
DATA wfIota<>+60(SB)/4, $15
GLOBL wfIota<>(SB), RODATA|NOPTR, $64

// wfMask<>: 8 lanes of ones then 8 of zeros; 8 floats read at offset 8-r give
// a mask of the first r lanes.
DATA wfMask<>+0(SB)/8, $-1
DATA wfMask<>+8(SB)/8, $-1
DATA wfMask<>+16(SB)/8, $-1
DATA wfMask<>+24(SB)/8, $-1
DATA wfMask<>+32(SB)/8, $0
DATA wfMask<>+40(SB)/8, $0
DATA wfMask<>+48(SB)/8, $0
DATA wfMask<>+56(SB)/8, $0
GLOBL wfMask<>(SB), RODATA|NOPTR, $64

// func winogradFilterAVX512(dst *float32, dstride, dstep int, t *float32, n2 int, w *float32, wlane, wstep, count, lanes int)
//
// Per position: gather the 9 taps of 16 filters (Z0–Z8), then for each ξ one
// 9-term dot product with T's row (broadcast from memory) and a masked store.
TEXT ·winogradFilterAVX512(SB), NOSPLIT, $0-80
	MOVQ dst+0(FP), DI
	MOVQ dstride+8(FP), R8
	SHLQ $2, R8
	MOVQ dstep+16(FP), R9
	SHLQ $2, R9
	MOVQ t+24(FP), R10
	MOVQ n2+32(FP), R11
	MOVQ w+40(FP), SI
	MOVQ wlane+48(FP), AX
	VPBROADCASTD AX, Z20
	VPMULLD wfIota<>+0(SB), Z20, Z20 // Z20 = i*wlane
	MOVQ wstep+56(FP), R12
	SHLQ $2, R12
	MOVQ count+64(FP), BX
	MOVQ lanes+72(FP), CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1                     // K1 = the first lanes lanes
	TESTQ BX, BX
	JZ    wf512_done
	TESTQ R11, R11
	JZ    wf512_done

wf512_pos:
	VPXORD Z0, Z0, Z0
	KMOVW K1, K2
	VGATHERDPS (SI)(Z20*4), K2, Z0
	VPXORD Z1, Z1, Z1
	KMOVW K1, K2
	VGATHERDPS 4(SI)(Z20*4), K2, Z1
	VPXORD Z2, Z2, Z2
	KMOVW K1, K2
	VGATHERDPS 8(SI)(Z20*4), K2, Z2
	VPXORD Z3, Z3, Z3
	KMOVW K1, K2
	VGATHERDPS 12(SI)(Z20*4), K2, Z3
	VPXORD Z4, Z4, Z4
	KMOVW K1, K2
	VGATHERDPS 16(SI)(Z20*4), K2, Z4
	VPXORD Z5, Z5, Z5
	KMOVW K1, K2
	VGATHERDPS 20(SI)(Z20*4), K2, Z5
	VPXORD Z6, Z6, Z6
	KMOVW K1, K2
	VGATHERDPS 24(SI)(Z20*4), K2, Z6
	VPXORD Z7, Z7, Z7
	KMOVW K1, K2
	VGATHERDPS 28(SI)(Z20*4), K2, Z7
	VPXORD Z8, Z8, Z8
	KMOVW K1, K2
	VGATHERDPS 32(SI)(Z20*4), K2, Z8
	MOVQ R10, DX                     // T row
	MOVQ DI, R13                     // U[ξ] at this position
	MOVQ R11, R14

wf512_xi:
	VMULPS.BCST (DX), Z0, Z9
	VFMADD231PS.BCST 4(DX), Z1, Z9
	VFMADD231PS.BCST 8(DX), Z2, Z9
	VFMADD231PS.BCST 12(DX), Z3, Z9
	VFMADD231PS.BCST 16(DX), Z4, Z9
	VFMADD231PS.BCST 20(DX), Z5, Z9
	VFMADD231PS.BCST 24(DX), Z6, Z9
	VFMADD231PS.BCST 28(DX), Z7, Z9
	VFMADD231PS.BCST 32(DX), Z8, Z9
	VMOVUPS Z9, K1, (R13)
	ADDQ $36, DX
	ADDQ R8, R13
	DECQ R14
	JNZ  wf512_xi
	ADDQ R12, SI
	ADDQ R9, DI
	DECQ BX
	JNZ  wf512_pos

wf512_done:
	VZEROUPPER
	RET

// func winogradFilterAVX2(dst *float32, dstride, dstep int, t *float32, n2 int, w *float32, wlane, wstep, count, lanes int)
TEXT ·winogradFilterAVX2(SB), NOSPLIT, $0-80
	MOVQ dst+0(FP), DI
	MOVQ dstride+8(FP), R8
	SHLQ $2, R8
	MOVQ dstep+16(FP), R9
	SHLQ $2, R9
	MOVQ t+24(FP), R10
	MOVQ n2+32(FP), R11
	MOVQ w+40(FP), SI
	MOVQ wlane+48(FP), AX
	MOVQ AX, X13
	VPBROADCASTD X13, Y13
	VPMULLD wfIota<>+0(SB), Y13, Y13 // Y13 = i*wlane
	MOVQ wstep+56(FP), R12
	SHLQ $2, R12
	MOVQ count+64(FP), BX
	MOVQ lanes+72(FP), CX
	MOVQ $8, AX
	SUBQ CX, AX
	LEAQ wfMask<>(SB), DX
	VMOVUPS (DX)(AX*4), Y15          // Y15 = the first lanes lanes
	TESTQ BX, BX
	JZ    wf2_done
	TESTQ R11, R11
	JZ    wf2_done

wf2_pos:
	VXORPS Y0, Y0, Y0
	VMOVAPS Y15, Y14
	VGATHERDPS Y14, (SI)(Y13*4), Y0
	VXORPS Y1, Y1, Y1
	VMOVAPS Y15, Y14
	VGATHERDPS Y14, 4(SI)(Y13*4), Y1
	VXORPS Y2, Y2, Y2
	VMOVAPS Y15, Y14
	VGATHERDPS Y14, 8(SI)(Y13*4), Y2
	VXORPS Y3, Y3, Y3
	VMOVAPS Y15, Y14
	VGATHERDPS Y14, 12(SI)(Y13*4), Y3
	VXORPS Y4, Y4, Y4
	VMOVAPS Y15, Y14
	VGATHERDPS Y14, 16(SI)(Y13*4), Y4
	VXORPS Y5, Y5, Y5
	VMOVAPS Y15, Y14
	VGATHERDPS Y14, 20(SI)(Y13*4), Y5
	VXORPS Y6, Y6, Y6
	VMOVAPS Y15, Y14
	VGATHERDPS Y14, 24(SI)(Y13*4), Y6
	VXORPS Y7, Y7, Y7
	VMOVAPS Y15, Y14
	VGATHERDPS Y14, 28(SI)(Y13*4), Y7
	VXORPS Y8, Y8, Y8
	VMOVAPS Y15, Y14
	VGATHERDPS Y14, 32(SI)(Y13*4), Y8
	MOVQ R10, DX
	MOVQ DI, R13
	MOVQ R11, R14

wf2_xi:
	VBROADCASTSS (DX), Y10
	VMULPS       Y10, Y0, Y9
	VBROADCASTSS 4(DX), Y11
	VFMADD231PS  Y11, Y1, Y9
	VBROADCASTSS 8(DX), Y12
	VFMADD231PS  Y12, Y2, Y9
	VBROADCASTSS 12(DX), Y10
	VFMADD231PS  Y10, Y3, Y9
	VBROADCASTSS 16(DX), Y11
	VFMADD231PS  Y11, Y4, Y9
	VBROADCASTSS 20(DX), Y12
	VFMADD231PS  Y12, Y5, Y9
	VBROADCASTSS 24(DX), Y10
	VFMADD231PS  Y10, Y6, Y9
	VBROADCASTSS 28(DX), Y11
	VFMADD231PS  Y11, Y7, Y9
	VBROADCASTSS 32(DX), Y12
	VFMADD231PS  Y12, Y8, Y9
	VMASKMOVPS Y9, Y15, (R13)
	ADDQ $36, DX
	ADDQ R8, R13
	DECQ R14
	JNZ  wf2_xi
	ADDQ R12, SI
	ADDQ R9, DI
	DECQ BX
	JNZ  wf2_pos

wf2_done:
	VZEROUPPER
	RET

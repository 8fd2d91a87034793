//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// The Winograd filter transform of WinogradFilter. The Go declarations, with the
// reference loop, are in winograd_filter_amd64.go; the pure-Go twin is in
// winograd_filter_twin.go.

// wfIota<>: the int32 lane numbers 0..7, for gather indices.
DATA wfIota<>+0(SB)/4, $0
DATA wfIota<>+4(SB)/4, $1
DATA wfIota<>+8(SB)/4, $2
DATA wfIota<>+12(SB)/4, $3
DATA wfIota<>+16(SB)/4, $4
DATA wfIota<>+20(SB)/4, $5
DATA wfIota<>+24(SB)/4, $6
DATA wfIota<>+28(SB)/4, $7
GLOBL wfIota<>(SB), RODATA|NOPTR, $32

// wfEven<>: the int32 numbers 0, 2, …, 30 then 1, 3, …, 31: the even and odd
// floats of two vectors.
DATA wfEven<>+0(SB)/4, $0
DATA wfEven<>+4(SB)/4, $2
DATA wfEven<>+8(SB)/4, $4
DATA wfEven<>+12(SB)/4, $6
DATA wfEven<>+16(SB)/4, $8
DATA wfEven<>+20(SB)/4, $10
DATA wfEven<>+24(SB)/4, $12
DATA wfEven<>+28(SB)/4, $14
DATA wfEven<>+32(SB)/4, $16
DATA wfEven<>+36(SB)/4, $18
DATA wfEven<>+40(SB)/4, $20
DATA wfEven<>+44(SB)/4, $22
DATA wfEven<>+48(SB)/4, $24
DATA wfEven<>+52(SB)/4, $26
DATA wfEven<>+56(SB)/4, $28
DATA wfEven<>+60(SB)/4, $30
DATA wfEven<>+64(SB)/4, $1
DATA wfEven<>+68(SB)/4, $3
DATA wfEven<>+72(SB)/4, $5
DATA wfEven<>+76(SB)/4, $7
DATA wfEven<>+80(SB)/4, $9
DATA wfEven<>+84(SB)/4, $11
DATA wfEven<>+88(SB)/4, $13
DATA wfEven<>+92(SB)/4, $15
DATA wfEven<>+96(SB)/4, $17
DATA wfEven<>+100(SB)/4, $19
DATA wfEven<>+104(SB)/4, $21
DATA wfEven<>+108(SB)/4, $23
DATA wfEven<>+112(SB)/4, $25
DATA wfEven<>+116(SB)/4, $27
DATA wfEven<>+120(SB)/4, $29
DATA wfEven<>+124(SB)/4, $31
GLOBL wfEven<>(SB), RODATA|NOPTR, $128

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

// func winogradFilterAVX512(dst *float32, dstride int, gm *float32, alpha int, w *float32, idx *int32, wgroup, count int, lanes, last uint64, nt bool)
//
// A group is 4 positions of a 12-row sliver: 48 floats of each U[ξ], three full
// vectors. Per vector: gather its 16 filters' 9 taps (Z0–Z8, r·3+j) at w + idx,
// taps 0–7 in pairs (8 qwords for lanes 0–7 in Z14, 8–15 in Z15, split into even
// and odd floats by VPERMT2PS: a gather costs about one load per element, so
// half as many) and tap 8 alone, never reading past a filter;
// per row a of G, H = G[a]·g (Z10–Z12, one per column j); per row b, U[a][b] =
// H·G[b]ᵀ (Z13), stored under the vector's 16 bits of the lane mask (K1), or
// with a non-temporal store when nt (whole groups and lanes only). G's entries
// are broadcast from memory.
TEXT ·winogradFilterAVX512(SB), NOSPLIT, $0-81
	MOVQ  dst+0(FP), DI
	MOVQ  dstride+8(FP), R8
	SHLQ  $2, R8                     // bytes between the U[ξ]
	MOVQ  gm+16(FP), R10
	MOVQ  alpha+24(FP), R11
	LEAQ  (R11)(R11*2), R11
	LEAQ  (R10)(R11*4), R11          // R11 = the end of G (α rows of 3)
	MOVQ  w+32(FP), SI
	MOVQ  idx+40(FP), R9
	MOVQ  wgroup+48(FP), R12
	SHLQ  $2, R12
	MOVQ  count+56(FP), BX
	TESTQ BX, BX
	JLE   wf512_done
	VMOVDQU32 wfEven<>+0(SB), Z24
	VMOVDQU32 wfEven<>+64(SB), Z25
	CMPQ  R11, R10
	JEQ   wf512_done

wf512_group:
	MOVQ lanes+64(FP), CX
	CMPQ BX, $4
	JG   wf512_mask
	MOVQ last+72(FP), CX             // the last group: its positions only

wf512_mask:
	MOVQ $3, R14

wf512_vec:
	KMOVW         CX, K1
	KSHIFTRW      $8, K1, K3         // lanes 8–15
	VMOVDQU32     (R9), Z20          // this vector's tap offsets
	VEXTRACTI64X4 $1, Z20, Y21
	VPXORQ        Z14, Z14, Z14
	KMOVW         K1, K2
	VPGATHERDQ    0(SI)(Y20*4), K2, Z14
	VPXORQ        Z15, Z15, Z15
	KMOVW         K3, K2
	VPGATHERDQ    0(SI)(Y21*4), K2, Z15
	VMOVAPS       Z14, Z1
	VPERMT2PS     Z15, Z24, Z14
	VPERMT2PS     Z15, Z25, Z1
	VMOVAPS       Z14, Z0
	VPXORQ        Z14, Z14, Z14
	KMOVW         K1, K2
	VPGATHERDQ    8(SI)(Y20*4), K2, Z14
	VPXORQ        Z15, Z15, Z15
	KMOVW         K3, K2
	VPGATHERDQ    8(SI)(Y21*4), K2, Z15
	VMOVAPS       Z14, Z3
	VPERMT2PS     Z15, Z24, Z14
	VPERMT2PS     Z15, Z25, Z3
	VMOVAPS       Z14, Z2
	VPXORQ        Z14, Z14, Z14
	KMOVW         K1, K2
	VPGATHERDQ    16(SI)(Y20*4), K2, Z14
	VPXORQ        Z15, Z15, Z15
	KMOVW         K3, K2
	VPGATHERDQ    16(SI)(Y21*4), K2, Z15
	VMOVAPS       Z14, Z5
	VPERMT2PS     Z15, Z24, Z14
	VPERMT2PS     Z15, Z25, Z5
	VMOVAPS       Z14, Z4
	VPXORQ        Z14, Z14, Z14
	KMOVW         K1, K2
	VPGATHERDQ    24(SI)(Y20*4), K2, Z14
	VPXORQ        Z15, Z15, Z15
	KMOVW         K3, K2
	VPGATHERDQ    24(SI)(Y21*4), K2, Z15
	VMOVAPS       Z14, Z7
	VPERMT2PS     Z15, Z24, Z14
	VPERMT2PS     Z15, Z25, Z7
	VMOVAPS       Z14, Z6
	VPXORD        Z8, Z8, Z8
	KMOVW         K1, K2
	VGATHERDPS    32(SI)(Z20*4), K2, Z8
	MOVQ      R10, DX                // G[a]
	MOVQ      DI, R13                // U[a·α+b] at this vector
	CMPB      nt+80(FP), $0
	JNE       wf512_nt_a

wf512_a:
	VMULPS.BCST      (DX), Z0, Z10   // H[j] = Σ_r G[a][r]·g[r][j]
	VMULPS.BCST      (DX), Z1, Z11
	VMULPS.BCST      (DX), Z2, Z12
	VFMADD231PS.BCST 4(DX), Z3, Z10
	VFMADD231PS.BCST 4(DX), Z4, Z11
	VFMADD231PS.BCST 4(DX), Z5, Z12
	VFMADD231PS.BCST 8(DX), Z6, Z10
	VFMADD231PS.BCST 8(DX), Z7, Z11
	VFMADD231PS.BCST 8(DX), Z8, Z12
	MOVQ             R10, AX         // G[b]

wf512_b:
	VMULPS.BCST      (AX), Z10, Z13  // U[a][b] = Σ_j H[j]·G[b][j]
	VFMADD231PS.BCST 4(AX), Z11, Z13
	VFMADD231PS.BCST 8(AX), Z12, Z13
	VMOVUPS          Z13, K1, (R13)
	ADDQ             $12, AX
	ADDQ             R8, R13
	CMPQ             AX, R11
	JNE              wf512_b
	ADDQ             $12, DX
	CMPQ             DX, R11
	JNE              wf512_a
	JMP              wf512_next

wf512_nt_a:
	VMULPS.BCST      (DX), Z0, Z10
	VMULPS.BCST      (DX), Z1, Z11
	VMULPS.BCST      (DX), Z2, Z12
	VFMADD231PS.BCST 4(DX), Z3, Z10
	VFMADD231PS.BCST 4(DX), Z4, Z11
	VFMADD231PS.BCST 4(DX), Z5, Z12
	VFMADD231PS.BCST 8(DX), Z6, Z10
	VFMADD231PS.BCST 8(DX), Z7, Z11
	VFMADD231PS.BCST 8(DX), Z8, Z12
	MOVQ             R10, AX

wf512_nt_b:
	VMULPS.BCST      (AX), Z10, Z13
	VFMADD231PS.BCST 4(AX), Z11, Z13
	VFMADD231PS.BCST 8(AX), Z12, Z13
	VMOVNTPS         Z13, (R13)
	ADDQ             $12, AX
	ADDQ             R8, R13
	CMPQ             AX, R11
	JNE              wf512_nt_b
	ADDQ             $12, DX
	CMPQ             DX, R11
	JNE              wf512_nt_a

wf512_next:
	SHRQ $16, CX
	ADDQ $64, R9
	ADDQ $64, DI
	DECQ R14
	JNZ  wf512_vec
	SUBQ $192, R9
	ADDQ R12, SI
	SUBQ $4, BX
	JG   wf512_group

wf512_done:
	SFENCE                           // non-temporal stores are visible before return
	VZEROUPPER
	RET

// func winogradFilterAVX2(dst *float32, dstride, dstep int, gm *float32, alpha int, w *float32, wlane, wstep, count, lanes int)
//
// As winogradFilterAVX512 with up to 8 lanes: g in Y0–Y8, H in Y9–Y11, U in Y12,
// broadcasts in Y13–Y14, the lane mask in Y15. The gather index is rebuilt in Y12
// per position (16 registers are all in use).
TEXT ·winogradFilterAVX2(SB), NOSPLIT, $0-80
	MOVQ dst+0(FP), DI
	MOVQ dstride+8(FP), R8
	SHLQ $2, R8
	MOVQ dstep+16(FP), R9
	SHLQ $2, R9
	MOVQ gm+24(FP), R10
	MOVQ alpha+32(FP), R11
	MOVQ w+40(FP), SI
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
	VPBROADCASTD wlane+48(FP), Y12
	VPMULLD      wfIota<>+0(SB), Y12, Y12 // Y12 = i*wlane
	VXORPS Y0, Y0, Y0
	VMOVAPS Y15, Y13
	VGATHERDPS Y13, (SI)(Y12*4), Y0
	VXORPS Y1, Y1, Y1
	VMOVAPS Y15, Y13
	VGATHERDPS Y13, 4(SI)(Y12*4), Y1
	VXORPS Y2, Y2, Y2
	VMOVAPS Y15, Y13
	VGATHERDPS Y13, 8(SI)(Y12*4), Y2
	VXORPS Y3, Y3, Y3
	VMOVAPS Y15, Y13
	VGATHERDPS Y13, 12(SI)(Y12*4), Y3
	VXORPS Y4, Y4, Y4
	VMOVAPS Y15, Y13
	VGATHERDPS Y13, 16(SI)(Y12*4), Y4
	VXORPS Y5, Y5, Y5
	VMOVAPS Y15, Y13
	VGATHERDPS Y13, 20(SI)(Y12*4), Y5
	VXORPS Y6, Y6, Y6
	VMOVAPS Y15, Y13
	VGATHERDPS Y13, 24(SI)(Y12*4), Y6
	VXORPS Y7, Y7, Y7
	VMOVAPS Y15, Y13
	VGATHERDPS Y13, 28(SI)(Y12*4), Y7
	VXORPS Y8, Y8, Y8
	VMOVAPS Y15, Y13
	VGATHERDPS Y13, 32(SI)(Y12*4), Y8
	MOVQ R10, DX
	MOVQ DI, R13
	MOVQ R11, R14

wf2_a:
	VBROADCASTSS (DX), Y13
	VBROADCASTSS 4(DX), Y14
	VMULPS       Y13, Y0, Y9
	VMULPS       Y13, Y1, Y10
	VMULPS       Y13, Y2, Y11
	VBROADCASTSS 8(DX), Y13
	VFMADD231PS  Y14, Y3, Y9
	VFMADD231PS  Y14, Y4, Y10
	VFMADD231PS  Y14, Y5, Y11
	VFMADD231PS  Y13, Y6, Y9
	VFMADD231PS  Y13, Y7, Y10
	VFMADD231PS  Y13, Y8, Y11
	MOVQ R10, AX
	MOVQ R11, CX

wf2_b:
	VBROADCASTSS (AX), Y13
	VBROADCASTSS 4(AX), Y14
	VMULPS       Y13, Y9, Y12
	VBROADCASTSS 8(AX), Y13
	VFMADD231PS  Y14, Y10, Y12
	VFMADD231PS  Y13, Y11, Y12
	VMASKMOVPS   Y12, Y15, (R13)
	ADDQ $12, AX
	ADDQ R8, R13
	DECQ CX
	JNZ  wf2_b
	ADDQ $12, DX
	DECQ R14
	JNZ  wf2_a
	ADDQ R12, SI
	ADDQ R9, DI
	DECQ BX
	JNZ  wf2_pos

wf2_done:
	VZEROUPPER
	RET

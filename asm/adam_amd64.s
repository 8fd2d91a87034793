//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// AdamW update kernel, in torch.optim.AdamW's operation order (see the reference
// loop in adam_amd64.go). AVX-512: 16 lanes a step, then one masked step; AVX2:
// 8 lanes a step, then scalar VEX instructions.
//
// Registers: SI = w, DX = g, DI = m, BX = v, CX = elements left.
// Broadcast constants in 8..15: decay, b1, c1, b2, c2, negStep, bc2Sqrt, eps.

#define TAILMASK \
	MOVQ  $1, AX \
	SHLQ  CX, AX \
	DECQ  AX     \
	KMOVW AX, K1

#define LOADARGS \
	MOVQ w_base+0(FP), SI  \
	MOVQ w_len+8(FP), CX   \
	MOVQ g_base+24(FP), DX \
	MOVQ m_base+48(FP), DI \
	MOVQ v_base+72(FP), BX

// ADAM updates w (R0), m (R2) and v (R3) from g (R1), clobbering R4 and R5, with the
// constants in R8..R15; MUL, FMA, SQRT, DIV, ADD are the packed instructions:
//
//	w *= decay; m *= b1; m += c1·g; v *= b2; t = c2·g; v += t·g
//	denom = sqrt(v) / bc2Sqrt + eps; t = negStep·m; t /= denom; w += t
#define ADAM(R0, R1, R2, R3, R4, R5, R8, R9, R10, R11, R12, R13, R14, R15, MUL, FMA, SQRT, DIV, ADD) \
	MUL  R8, R0, R0  \
	MUL  R9, R2, R2  \
	FMA  R10, R1, R2 \
	MUL  R11, R3, R3 \
	MUL  R12, R1, R4 \
	FMA  R4, R1, R3  \
	SQRT R3, R5      \
	DIV  R14, R5, R5 \
	ADD  R15, R5, R5 \
	MUL  R13, R2, R4 \
	DIV  R5, R4, R4  \
	ADD  R4, R0, R0

// func adamWAVX512(w, g, m, v []float32, decay, b1, c1, b2, c2, negStep, bc2Sqrt, eps float32)
TEXT ·adamWAVX512(SB), NOSPLIT, $0-128
	LOADARGS
	VBROADCASTSS decay+96(FP), Z8
	VBROADCASTSS b1+100(FP), Z9
	VBROADCASTSS c1+104(FP), Z10
	VBROADCASTSS b2+108(FP), Z11
	VBROADCASTSS c2+112(FP), Z12
	VBROADCASTSS negStep+116(FP), Z13
	VBROADCASTSS bc2Sqrt+120(FP), Z14
	VBROADCASTSS eps+124(FP), Z15

adam512_loop:
	CMPQ    CX, $16
	JB      adam512_tail
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z1
	VMOVUPS (DI), Z2
	VMOVUPS (BX), Z3
	ADAM(Z0, Z1, Z2, Z3, Z4, Z5, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15, VMULPS, VFMADD231PS, VSQRTPS, VDIVPS, VADDPS)
	VMOVUPS Z2, (DI)
	VMOVUPS Z3, (BX)
	VMOVUPS Z0, (SI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	ADDQ    $64, BX
	SUBQ    $16, CX
	JMP     adam512_loop

adam512_tail:
	TESTQ     CX, CX
	JZ        adam512_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DX), K1, Z1
	VMOVUPS.Z (DI), K1, Z2
	VMOVUPS.Z (BX), K1, Z3
	ADAM(Z0, Z1, Z2, Z3, Z4, Z5, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15, VMULPS, VFMADD231PS, VSQRTPS, VDIVPS, VADDPS)
	VMOVUPS   Z2, K1, (DI)
	VMOVUPS   Z3, K1, (BX)
	VMOVUPS   Z0, K1, (SI)

adam512_done:
	VZEROUPPER
	RET

// func adamWAVX2(w, g, m, v []float32, decay, b1, c1, b2, c2, negStep, bc2Sqrt, eps float32)
TEXT ·adamWAVX2(SB), NOSPLIT, $0-128
	LOADARGS
	VBROADCASTSS decay+96(FP), Y8
	VBROADCASTSS b1+100(FP), Y9
	VBROADCASTSS c1+104(FP), Y10
	VBROADCASTSS b2+108(FP), Y11
	VBROADCASTSS c2+112(FP), Y12
	VBROADCASTSS negStep+116(FP), Y13
	VBROADCASTSS bc2Sqrt+120(FP), Y14
	VBROADCASTSS eps+124(FP), Y15

adam2_loop:
	CMPQ    CX, $8
	JB      adam2_tail
	VMOVUPS (SI), Y0
	VMOVUPS (DX), Y1
	VMOVUPS (DI), Y2
	VMOVUPS (BX), Y3
	ADAM(Y0, Y1, Y2, Y3, Y4, Y5, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15, VMULPS, VFMADD231PS, VSQRTPS, VDIVPS, VADDPS)
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, (BX)
	VMOVUPS Y0, (SI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	ADDQ    $32, BX
	SUBQ    $8, CX
	JMP     adam2_loop

adam2_tail:
	TESTQ  CX, CX
	JZ     adam2_done
	VMOVSS (SI), X0
	VMOVSS (DX), X1
	VMOVSS (DI), X2
	VMOVSS (BX), X3
	VMULSS      X8, X0, X0      // the ADAM steps, scalar
	VMULSS      X9, X2, X2
	VFMADD231SS X10, X1, X2
	VMULSS      X11, X3, X3
	VMULSS      X12, X1, X4
	VFMADD231SS X4, X1, X3
	VSQRTSS     X3, X3, X5
	VDIVSS      X14, X5, X5
	VADDSS      X15, X5, X5
	VMULSS      X13, X2, X4
	VDIVSS      X5, X4, X4
	VADDSS      X4, X0, X0
	VMOVSS X2, (DI)
	VMOVSS X3, (BX)
	VMOVSS X0, (SI)
	ADDQ   $4, SI
	ADDQ   $4, DX
	ADDQ   $4, DI
	ADDQ   $4, BX
	DECQ   CX
	JMP    adam2_tail

adam2_done:
	VZEROUPPER
	RET

//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// Weight-gradient tile kernels (see GradW in gradw.go). The 6×64 tile of acc is
// loaded once, then for every pixel the kernel loads 64 floats of b (one pixel of
// a channels-last image) and broadcasts one float from each of the 6 planes of a,
// for 24 zmm fused multiply-adds. Per row r: SI points at a[aOff[r]] (planes 0–2 at
// SI, SI+lda, SI+2·lda), DI at plane 3 (planes 3–5), AX at b[bOff[r]].
//
// Registers: R9 a, R10 lda in bytes, R11 b, R12 bStep in bytes, R13/R14 the row
// offset tables, DX rows left, BX cols (AVX-512) or the column pass (AVX2), CX
// pixels left in the row.

// ROWPTRS points SI, DI and AX at the current row's operands.
#define ROWPTRS \
	MOVQ (R13), SI          \
	LEAQ (R9)(SI*4), SI     \
	LEAQ (SI)(R10*2), DI    \
	ADDQ R10, DI            \
	MOVQ (R14), AX          \
	LEAQ (R11)(AX*4), AX

// FMA4 adds the broadcast Z28 or Z29 (bc) times Z24–Z27 into four accumulators.
#define FMA4(bc, c0, c1, c2, c3) \
	VFMADD231PS Z24, bc, c0 \
	VFMADD231PS Z25, bc, c1 \
	VFMADD231PS Z26, bc, c2 \
	VFMADD231PS Z27, bc, c3

#define LOAD512(c0, c1, c2, c3) \
	VMOVUPS (AX), c0    \
	VMOVUPS 64(AX), c1  \
	VMOVUPS 128(AX), c2 \
	VMOVUPS 192(AX), c3 \
	ADDQ    R8, AX

#define STORE512(c0, c1, c2, c3) \
	VMOVUPS c0, (AX)    \
	VMOVUPS c1, 64(AX)  \
	VMOVUPS c2, 128(AX) \
	VMOVUPS c3, 192(AX) \
	ADDQ    R8, AX

// func gradwAVX512(acc *float32, ldacc int, a *float32, lda int, aOff *int, b *float32, bStep int, bOff *int, rows, cols int)
TEXT ·gradwAVX512(SB), NOSPLIT, $0-80
	MOVQ acc+0(FP), AX
	MOVQ ldacc+8(FP), R8
	SHLQ $2, R8
	LOAD512(Z0, Z1, Z2, Z3)
	LOAD512(Z4, Z5, Z6, Z7)
	LOAD512(Z8, Z9, Z10, Z11)
	LOAD512(Z12, Z13, Z14, Z15)
	LOAD512(Z16, Z17, Z18, Z19)
	LOAD512(Z20, Z21, Z22, Z23)
	MOVQ a+16(FP), R9
	MOVQ lda+24(FP), R10
	SHLQ $2, R10
	MOVQ aOff+32(FP), R13
	MOVQ b+40(FP), R11
	MOVQ bStep+48(FP), R12
	SHLQ $2, R12
	MOVQ bOff+56(FP), R14
	MOVQ rows+64(FP), DX
	MOVQ cols+72(FP), BX

gradw512_row:
	ROWPTRS
	MOVQ BX, CX

gradw512_px:
	VMOVUPS      (AX), Z24
	VMOVUPS      64(AX), Z25
	VMOVUPS      128(AX), Z26
	VMOVUPS      192(AX), Z27
	VBROADCASTSS (SI), Z28
	FMA4(Z28, Z0, Z1, Z2, Z3)
	VBROADCASTSS (SI)(R10*1), Z29
	FMA4(Z29, Z4, Z5, Z6, Z7)
	VBROADCASTSS (SI)(R10*2), Z28
	FMA4(Z28, Z8, Z9, Z10, Z11)
	VBROADCASTSS (DI), Z29
	FMA4(Z29, Z12, Z13, Z14, Z15)
	VBROADCASTSS (DI)(R10*1), Z28
	FMA4(Z28, Z16, Z17, Z18, Z19)
	VBROADCASTSS (DI)(R10*2), Z29
	FMA4(Z29, Z20, Z21, Z22, Z23)
	ADDQ         $4, SI
	ADDQ         $4, DI
	ADDQ         R12, AX
	DECQ         CX
	JNZ          gradw512_px

	ADDQ $8, R13
	ADDQ $8, R14
	DECQ DX
	JNZ  gradw512_row

	MOVQ acc+0(FP), AX
	STORE512(Z0, Z1, Z2, Z3)
	STORE512(Z4, Z5, Z6, Z7)
	STORE512(Z8, Z9, Z10, Z11)
	STORE512(Z12, Z13, Z14, Z15)
	STORE512(Z16, Z17, Z18, Z19)
	STORE512(Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

// FMA2 adds the broadcast Y14 or Y15 (bc) times Y12, Y13 into two accumulators.
#define FMA2(bc, c0, c1) \
	VFMADD231PS Y12, bc, c0 \
	VFMADD231PS Y13, bc, c1

#define LOAD256(c0, c1) \
	VMOVUPS (AX), c0   \
	VMOVUPS 32(AX), c1 \
	ADDQ    R8, AX

#define STORE256(c0, c1) \
	VMOVUPS c0, (AX)   \
	VMOVUPS c1, 32(AX) \
	ADDQ    R8, AX

// func gradwAVX2(acc *float32, ldacc int, a *float32, lda int, aOff *int, b *float32, bStep int, bOff *int, rows, cols int)
TEXT ·gradwAVX2(SB), NOSPLIT, $0-80
	MOVQ a+16(FP), R9
	MOVQ lda+24(FP), R10
	SHLQ $2, R10
	MOVQ b+40(FP), R11
	MOVQ bStep+48(FP), R12
	SHLQ $2, R12
	MOVQ ldacc+8(FP), R8
	SHLQ $2, R8
	XORQ BX, BX            // byte offset of the 16-column pass

gradw2_pass:
	MOVQ acc+0(FP), AX
	ADDQ BX, AX
	LOAD256(Y0, Y1)
	LOAD256(Y2, Y3)
	LOAD256(Y4, Y5)
	LOAD256(Y6, Y7)
	LOAD256(Y8, Y9)
	LOAD256(Y10, Y11)
	MOVQ aOff+32(FP), R13
	MOVQ bOff+56(FP), R14
	MOVQ rows+64(FP), DX

gradw2_row:
	ROWPTRS
	ADDQ BX, AX
	MOVQ cols+72(FP), CX

gradw2_px:
	VMOVUPS      (AX), Y12
	VMOVUPS      32(AX), Y13
	VBROADCASTSS (SI), Y14
	FMA2(Y14, Y0, Y1)
	VBROADCASTSS (SI)(R10*1), Y15
	FMA2(Y15, Y2, Y3)
	VBROADCASTSS (SI)(R10*2), Y14
	FMA2(Y14, Y4, Y5)
	VBROADCASTSS (DI), Y15
	FMA2(Y15, Y6, Y7)
	VBROADCASTSS (DI)(R10*1), Y14
	FMA2(Y14, Y8, Y9)
	VBROADCASTSS (DI)(R10*2), Y15
	FMA2(Y15, Y10, Y11)
	ADDQ         $4, SI
	ADDQ         $4, DI
	ADDQ         R12, AX
	DECQ         CX
	JNZ          gradw2_px

	ADDQ $8, R13
	ADDQ $8, R14
	DECQ DX
	JNZ  gradw2_row

	MOVQ acc+0(FP), AX
	ADDQ BX, AX
	STORE256(Y0, Y1)
	STORE256(Y2, Y3)
	STORE256(Y4, Y5)
	STORE256(Y6, Y7)
	STORE256(Y8, Y9)
	STORE256(Y10, Y11)
	ADDQ $64, BX
	CMPQ BX, $256
	JB   gradw2_pass
	VZEROUPPER
	RET

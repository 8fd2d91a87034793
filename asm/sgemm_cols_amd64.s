//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// The AVX-512 column kernel (see sgemm_cols_amd64.go): the mr ≤ 12 rows of an A
// sliver are one K-masked vector, each of up to 4 columns of B a broadcast, so a
// column costs one FMA per k step. Z0..Z3 accumulate even k steps, Z4..Z7 odd
// ones (8 independent chains); Z16/Z17 hold A; Z20 the row offsets i·ldc of C.

// func sgemmColsAVX512(kc int, a *float32, b *float32, ldb int, c *float32, ldc int, alpha float32, beta float32, mr int, nr int)
TEXT ·sgemmColsAVX512(SB), NOSPLIT, $0-72
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), R8
	SHLQ $2, R8                    // B row stride in bytes
	MOVQ c+32(FP), DX
	MOVQ mr+56(FP), CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1                   // the mr rows
	MOVQ kc+0(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ CX, BX
	SHRQ $1, BX                    // pairs of k steps
	ANDQ $1, CX                    // a last odd step
	TESTQ BX, BX
	JZ   cols_tail
cols_loop2:
	VMOVUPS.Z (SI), K1, Z16
	VMOVUPS.Z 48(SI), K1, Z17
	VFMADD231PS.BCST (DI), Z16, Z0
	VFMADD231PS.BCST 4(DI), Z16, Z1
	VFMADD231PS.BCST 8(DI), Z16, Z2
	VFMADD231PS.BCST 12(DI), Z16, Z3
	VFMADD231PS.BCST (DI)(R8*1), Z17, Z4
	VFMADD231PS.BCST 4(DI)(R8*1), Z17, Z5
	VFMADD231PS.BCST 8(DI)(R8*1), Z17, Z6
	VFMADD231PS.BCST 12(DI)(R8*1), Z17, Z7
	ADDQ $96, SI
	LEAQ (DI)(R8*2), DI
	DECQ BX
	JNZ  cols_loop2
cols_tail:
	TESTQ CX, CX
	JZ   cols_sum
	VMOVUPS.Z (SI), K1, Z16
	VFMADD231PS.BCST (DI), Z16, Z0
	VFMADD231PS.BCST 4(DI), Z16, Z1
	VFMADD231PS.BCST 8(DI), Z16, Z2
	VFMADD231PS.BCST 12(DI), Z16, Z3
cols_sum:
	VADDPS Z4, Z0, Z0
	VADDPS Z5, Z1, Z1
	VADDPS Z6, Z2, Z2
	VADDPS Z7, Z3, Z3
	VBROADCASTSS alpha+48(FP), Z26
	VBROADCASTSS beta+52(FP), Z27
	VMULPS Z26, Z0, Z0
	VMULPS Z26, Z1, Z1
	VMULPS Z26, Z2, Z2
	VMULPS Z26, Z3, Z3
	MOVQ ldc+40(FP), AX
	VPBROADCASTD AX, Z20
	VPMULLD colsIota<>(SB), Z20, Z20 // i·ldc
	MOVQ nr+64(FP), R11
	MOVL beta+52(FP), AX
	SHLL $1, AX                    // beta == ±0: C is not read
	JZ   cols_store
	KMOVW K1, K2
	VGATHERDPS (DX)(Z20*4), K2, Z24
	VFMADD231PS Z27, Z24, Z0
	KMOVW K1, K2
	VGATHERDPS 4(DX)(Z20*4), K2, Z24
	VFMADD231PS Z27, Z24, Z1
	KMOVW K1, K2
	VGATHERDPS 8(DX)(Z20*4), K2, Z24
	VFMADD231PS Z27, Z24, Z2
	KMOVW K1, K2
	VGATHERDPS 12(DX)(Z20*4), K2, Z24
	VFMADD231PS Z27, Z24, Z3
cols_store:
	KMOVW K1, K2
	VSCATTERDPS Z0, K2, (DX)(Z20*4)
	DECQ R11
	JZ   cols_done
	KMOVW K1, K2
	VSCATTERDPS Z1, K2, 4(DX)(Z20*4)
	DECQ R11
	JZ   cols_done
	KMOVW K1, K2
	VSCATTERDPS Z2, K2, 8(DX)(Z20*4)
	DECQ R11
	JZ   cols_done
	KMOVW K1, K2
	VSCATTERDPS Z3, K2, 12(DX)(Z20*4)
cols_done:
	VZEROUPPER
	RET

DATA colsIota<>+0(SB)/4, $0
DATA colsIota<>+4(SB)/4, $1
DATA colsIota<>+8(SB)/4, $2
DATA colsIota<>+12(SB)/4, $3
DATA colsIota<>+16(SB)/4, $4
DATA colsIota<>+20(SB)/4, $5
DATA colsIota<>+24(SB)/4, $6
DATA colsIota<>+28(SB)/4, $7
DATA colsIota<>+32(SB)/4, $8
DATA colsIota<>+36(SB)/4, $9
DATA colsIota<>+40(SB)/4, $10
DATA colsIota<>+44(SB)/4, $11
DATA colsIota<>+48(SB)/4, $12
DATA colsIota<>+52(SB)/4, $13
DATA colsIota<>+56(SB)/4, $14
DATA colsIota<>+60(SB)/4, $15
GLOBL colsIota<>(SB), RODATA|NOPTR, $64

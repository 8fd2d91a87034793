//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// Batch-norm kernels over one channel plane. AVX-512 paths run 16 lanes a step and
// finish with masked steps (K1 holds the low CX bits); AVX2 paths run 8 lanes a step
// and finish with scalar VEX instructions. The reductions widen to float64 before
// adding, two accumulators per sum.

// TAILMASK sets K1 to the low CX bits (CX < 16). Clobbers AX.
#define TAILMASK \
	MOVQ  $1, AX \
	SHLQ  CX, AX \
	DECQ  AX     \
	KMOVW AX, K1

// HSUM512 reduces the eight float64 lanes of Z to the low lane of X, using T.
#define HSUM512(Z, Y, X, TY, TX) \
	VEXTRACTF64X4 $1, Z, TY \
	VADDPD        TY, Y, Y  \
	VEXTRACTF128  $1, Y, TX \
	VADDPD        TX, X, X  \
	VPERMILPD     $1, X, TX \
	VADDSD        TX, X, X

// HSUM256 reduces the four float64 lanes of Y to the low lane of X, using TX.
#define HSUM256(Y, X, TX) \
	VEXTRACTF128 $1, Y, TX \
	VADDPD       TX, X, X  \
	VPERMILPD    $1, X, TX \
	VADDSD       TX, X, X

// func scaleShiftAVX512(dst, src []float32, m, a, b float32)
TEXT ·scaleShiftAVX512(SB), NOSPLIT, $0-60
	MOVQ         dst_base+0(FP), DI
	MOVQ         src_base+24(FP), SI
	MOVQ         src_len+32(FP), CX
	VBROADCASTSS m+48(FP), Z13
	VBROADCASTSS a+52(FP), Z14
	VBROADCASTSS b+56(FP), Z15

ss512_loop32:
	CMPQ        CX, $32
	JB          ss512_loop16
	VMOVUPS     (SI), Z1
	VMOVUPS     64(SI), Z2
	VSUBPS      Z13, Z1, Z1   // x − m
	VSUBPS      Z13, Z2, Z2
	VFMADD213PS Z15, Z14, Z1  // ·a + b
	VFMADD213PS Z15, Z14, Z2
	VMOVUPS     Z1, (DI)
	VMOVUPS     Z2, 64(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         ss512_loop32

ss512_loop16:
	CMPQ        CX, $16
	JB          ss512_tail
	VMOVUPS     (SI), Z1
	VSUBPS      Z13, Z1, Z1
	VFMADD213PS Z15, Z14, Z1
	VMOVUPS     Z1, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX

ss512_tail:
	TESTQ       CX, CX
	JZ          ss512_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z1
	VSUBPS      Z13, Z1, Z1
	VFMADD213PS Z15, Z14, Z1
	VMOVUPS     Z1, K1, (DI)

ss512_done:
	VZEROUPPER
	RET

// func scaleShiftAVX2(dst, src []float32, m, a, b float32)
TEXT ·scaleShiftAVX2(SB), NOSPLIT, $0-60
	MOVQ         dst_base+0(FP), DI
	MOVQ         src_base+24(FP), SI
	MOVQ         src_len+32(FP), CX
	VBROADCASTSS m+48(FP), Y13
	VBROADCASTSS a+52(FP), Y14
	VBROADCASTSS b+56(FP), Y15

ss2_loop16:
	CMPQ        CX, $16
	JB          ss2_loop8
	VMOVUPS     (SI), Y1
	VMOVUPS     32(SI), Y2
	VSUBPS      Y13, Y1, Y1   // x − m
	VSUBPS      Y13, Y2, Y2
	VFMADD213PS Y15, Y14, Y1  // ·a + b
	VFMADD213PS Y15, Y14, Y2
	VMOVUPS     Y1, (DI)
	VMOVUPS     Y2, 32(DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         ss2_loop16

ss2_loop8:
	CMPQ        CX, $8
	JB          ss2_tail
	VMOVUPS     (SI), Y1
	VSUBPS      Y13, Y1, Y1
	VFMADD213PS Y15, Y14, Y1
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX

ss2_tail:
	TESTQ       CX, CX
	JZ          ss2_done
	VMOVSS      (SI), X1
	VSUBSS      X13, X1, X1
	VFMADD213SS X15, X14, X1
	VMOVSS      X1, (DI)
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         ss2_tail

ss2_done:
	VZEROUPPER
	RET

// func sumSqAVX512(x []float32) (sum, sumSq float64)
TEXT ·sumSqAVX512(SB), NOSPLIT, $0-40
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VPXORQ Z3, Z3, Z3     // Σx, even halves
	VPXORQ Z4, Z4, Z4     // Σx, odd halves
	VPXORQ Z5, Z5, Z5     // Σx²
	VPXORQ Z6, Z6, Z6

sq512_loop:
	CMPQ        CX, $16
	JB          sq512_tail8
	VCVTPS2PD   (SI), Z1
	VCVTPS2PD   32(SI), Z2
	VADDPD      Z1, Z3, Z3
	VADDPD      Z2, Z4, Z4
	VFMADD231PD Z1, Z1, Z5
	VFMADD231PD Z2, Z2, Z6
	ADDQ        $64, SI
	SUBQ        $16, CX
	JMP         sq512_loop

sq512_tail8:
	CMPQ        CX, $8
	JB          sq512_tail
	VCVTPS2PD   (SI), Z1
	VADDPD      Z1, Z3, Z3
	VFMADD231PD Z1, Z1, Z5
	ADDQ        $32, SI
	SUBQ        $8, CX

sq512_tail:
	TESTQ       CX, CX
	JZ          sq512_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Y1
	VCVTPS2PD   Y1, Z1
	VADDPD      Z1, Z4, Z4
	VFMADD231PD Z1, Z1, Z6

sq512_done:
	VADDPD Z4, Z3, Z3
	VADDPD Z6, Z5, Z5
	HSUM512(Z3, Y3, X3, Y7, X7)
	HSUM512(Z5, Y5, X5, Y7, X7)
	VMOVSD X3, sum+24(FP)
	VMOVSD X5, sumSq+32(FP)
	VZEROUPPER
	RET

// func sumSqAVX2(x []float32) (sum, sumSq float64)
TEXT ·sumSqAVX2(SB), NOSPLIT, $0-40
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6

sq2_loop:
	CMPQ        CX, $8
	JB          sq2_reduce
	VCVTPS2PD   (SI), Y1
	VCVTPS2PD   16(SI), Y2
	VADDPD      Y1, Y3, Y3
	VADDPD      Y2, Y4, Y4
	VFMADD231PD Y1, Y1, Y5
	VFMADD231PD Y2, Y2, Y6
	ADDQ        $32, SI
	SUBQ        $8, CX
	JMP         sq2_loop

sq2_reduce:
	VADDPD Y4, Y3, Y3
	VADDPD Y6, Y5, Y5
	HSUM256(Y3, X3, X7)
	HSUM256(Y5, X5, X7)

sq2_tail:
	TESTQ       CX, CX
	JZ          sq2_done
	VCVTSS2SD   (SI), X1, X1
	VADDSD      X1, X3, X3
	VFMADD231SD X1, X1, X5
	ADDQ        $4, SI
	DECQ        CX
	JMP         sq2_tail

sq2_done:
	VMOVSD X3, sum+24(FP)
	VMOVSD X5, sumSq+32(FP)
	VZEROUPPER
	RET

// func sumDotAVX512(dy, x []float32) (sumDy, sumDyX float64)
TEXT ·sumDotAVX512(SB), NOSPLIT, $0-64
	MOVQ   dy_base+0(FP), DI
	MOVQ   x_base+24(FP), SI
	MOVQ   x_len+32(FP), CX
	VPXORQ Z3, Z3, Z3     // Σdy
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5     // Σdy·x
	VPXORQ Z6, Z6, Z6

sd512_loop:
	CMPQ        CX, $16
	JB          sd512_tail8
	VCVTPS2PD   (DI), Z1
	VCVTPS2PD   32(DI), Z2
	VCVTPS2PD   (SI), Z8
	VCVTPS2PD   32(SI), Z9
	VADDPD      Z1, Z3, Z3
	VADDPD      Z2, Z4, Z4
	VFMADD231PD Z8, Z1, Z5
	VFMADD231PD Z9, Z2, Z6
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         sd512_loop

sd512_tail8:
	CMPQ        CX, $8
	JB          sd512_tail
	VCVTPS2PD   (DI), Z1
	VCVTPS2PD   (SI), Z8
	VADDPD      Z1, Z3, Z3
	VFMADD231PD Z8, Z1, Z5
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX

sd512_tail:
	TESTQ       CX, CX
	JZ          sd512_done
	TAILMASK
	VMOVUPS.Z   (DI), K1, Y1
	VMOVUPS.Z   (SI), K1, Y8
	VCVTPS2PD   Y1, Z1
	VCVTPS2PD   Y8, Z8
	VADDPD      Z1, Z4, Z4
	VFMADD231PD Z8, Z1, Z6

sd512_done:
	VADDPD Z4, Z3, Z3
	VADDPD Z6, Z5, Z5
	HSUM512(Z3, Y3, X3, Y7, X7)
	HSUM512(Z5, Y5, X5, Y7, X7)
	VMOVSD X3, sumDy+48(FP)
	VMOVSD X5, sumDyX+56(FP)
	VZEROUPPER
	RET

// func sumDotAVX2(dy, x []float32) (sumDy, sumDyX float64)
TEXT ·sumDotAVX2(SB), NOSPLIT, $0-64
	MOVQ   dy_base+0(FP), DI
	MOVQ   x_base+24(FP), SI
	MOVQ   x_len+32(FP), CX
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6

sd2_loop:
	CMPQ        CX, $8
	JB          sd2_reduce
	VCVTPS2PD   (DI), Y1
	VCVTPS2PD   16(DI), Y2
	VCVTPS2PD   (SI), Y8
	VCVTPS2PD   16(SI), Y9
	VADDPD      Y1, Y3, Y3
	VADDPD      Y2, Y4, Y4
	VFMADD231PD Y8, Y1, Y5
	VFMADD231PD Y9, Y2, Y6
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         sd2_loop

sd2_reduce:
	VADDPD Y4, Y3, Y3
	VADDPD Y6, Y5, Y5
	HSUM256(Y3, X3, X7)
	HSUM256(Y5, X5, X7)

sd2_tail:
	TESTQ       CX, CX
	JZ          sd2_done
	VCVTSS2SD   (DI), X1, X1
	VCVTSS2SD   (SI), X8, X8
	VADDSD      X1, X3, X3
	VFMADD231SD X8, X1, X5
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         sd2_tail

sd2_done:
	VMOVSD X3, sumDy+48(FP)
	VMOVSD X5, sumDyX+56(FP)
	VZEROUPPER
	RET

// func axpbycAVX512(dst, dy, x []float32, m, a, b, c float32)
TEXT ·axpbycAVX512(SB), NOSPLIT, $0-88
	MOVQ         dst_base+0(FP), DI
	MOVQ         dy_base+24(FP), DX
	MOVQ         x_base+48(FP), SI
	MOVQ         x_len+56(FP), CX
	VBROADCASTSS m+72(FP), Z12
	VBROADCASTSS a+76(FP), Z13
	VBROADCASTSS b+80(FP), Z14
	VBROADCASTSS c+84(FP), Z15

abc512_loop:
	CMPQ        CX, $16
	JB          abc512_tail
	VMOVUPS     (SI), Z1
	VSUBPS      Z12, Z1, Z1   // x − m
	VFMADD213PS Z15, Z14, Z1  // b·(x − m) + c
	VFMADD231PS (DX), Z13, Z1 // + a·dy
	VMOVUPS     Z1, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DX
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         abc512_loop

abc512_tail:
	TESTQ       CX, CX
	JZ          abc512_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z1
	VMOVUPS.Z   (DX), K1, Z2
	VSUBPS      Z12, Z1, Z1
	VFMADD213PS Z15, Z14, Z1
	VFMADD231PS Z2, Z13, Z1
	VMOVUPS     Z1, K1, (DI)

abc512_done:
	VZEROUPPER
	RET

// func axpbycAVX2(dst, dy, x []float32, m, a, b, c float32)
TEXT ·axpbycAVX2(SB), NOSPLIT, $0-88
	MOVQ         dst_base+0(FP), DI
	MOVQ         dy_base+24(FP), DX
	MOVQ         x_base+48(FP), SI
	MOVQ         x_len+56(FP), CX
	VBROADCASTSS m+72(FP), Y12
	VBROADCASTSS a+76(FP), Y13
	VBROADCASTSS b+80(FP), Y14
	VBROADCASTSS c+84(FP), Y15

abc2_loop:
	CMPQ        CX, $8
	JB          abc2_tail
	VMOVUPS     (SI), Y1
	VSUBPS      Y12, Y1, Y1   // x − m
	VFMADD213PS Y15, Y14, Y1  // b·(x − m) + c
	VFMADD231PS (DX), Y13, Y1 // + a·dy
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         abc2_loop

abc2_tail:
	TESTQ       CX, CX
	JZ          abc2_done
	VMOVSS      (SI), X1
	VMOVSS      (DX), X2
	VSUBSS      X12, X1, X1
	VFMADD213SS X15, X14, X1
	VFMADD231SS X2, X13, X1
	VMOVSS      X1, (DI)
	ADDQ        $4, SI
	ADDQ        $4, DX
	ADDQ        $4, DI
	DECQ        CX
	JMP         abc2_tail

abc2_done:
	VZEROUPPER
	RET

//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// Vector kernels of the axpy family. AVX-512 paths run 16 lanes a step and finish
// with one masked step (K1 holds the low CX bits); AVX2 paths run 8 lanes a step and
// finish with scalar VEX instructions. Callers pass at most a few ten thousand
// elements per call.

// TAILMASK sets K1 to the low CX bits (CX < 16). Clobbers AX.
#define TAILMASK \
	MOVQ  $1, AX \
	SHLQ  CX, AX \
	DECQ  AX     \
	KMOVW AX, K1

// func axpyAVX512(alpha float32, x, y []float32)
TEXT ·axpyAVX512(SB), NOSPLIT, $0-56
	VBROADCASTSS alpha+0(FP), Z15
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI

axpy512_loop:
	CMPQ        CX, $16
	JB          axpy512_tail
	VMOVUPS     (SI), Z0
	VMOVUPS     (DI), Z1
	VFMADD231PS Z15, Z0, Z1  // y += alpha·x
	VMOVUPS     Z1, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         axpy512_loop

axpy512_tail:
	TESTQ       CX, CX
	JZ          axpy512_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z0
	VMOVUPS.Z   (DI), K1, Z1
	VFMADD231PS Z15, Z0, Z1
	VMOVUPS     Z1, K1, (DI)

axpy512_done:
	VZEROUPPER
	RET

// func axpyAVX2(alpha float32, x, y []float32)
TEXT ·axpyAVX2(SB), NOSPLIT, $0-56
	VBROADCASTSS alpha+0(FP), Y15
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI

axpy2_loop:
	CMPQ        CX, $8
	JB          axpy2_tail
	VMOVUPS     (SI), Y0
	VMOVUPS     (DI), Y1
	VFMADD231PS Y15, Y0, Y1  // y += alpha·x
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         axpy2_loop

axpy2_tail:
	TESTQ       CX, CX
	JZ          axpy2_done
	VMOVSS      (SI), X0
	VMOVSS      (DI), X1
	VFMADD231SS X15, X0, X1
	VMOVSS      X1, (DI)
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         axpy2_tail

axpy2_done:
	VZEROUPPER
	RET

// func axpbyAVX512(alpha float32, x []float32, beta float32, y []float32)
TEXT ·axpbyAVX512(SB), NOSPLIT, $0-64
	VBROADCASTSS alpha+0(FP), Z15
	VBROADCASTSS beta+32(FP), Z14
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+40(FP), DI

axpby512_loop:
	CMPQ        CX, $16
	JB          axpby512_tail
	VMOVUPS     (SI), Z0
	VMULPS      (DI), Z14, Z1 // beta·y
	VFMADD231PS Z15, Z0, Z1   // + alpha·x
	VMOVUPS     Z1, (DI)
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         axpby512_loop

axpby512_tail:
	TESTQ       CX, CX
	JZ          axpby512_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z0
	VMOVUPS.Z   (DI), K1, Z1
	VMULPS      Z14, Z1, Z1
	VFMADD231PS Z15, Z0, Z1
	VMOVUPS     Z1, K1, (DI)

axpby512_done:
	VZEROUPPER
	RET

// func axpbyAVX2(alpha float32, x []float32, beta float32, y []float32)
TEXT ·axpbyAVX2(SB), NOSPLIT, $0-64
	VBROADCASTSS alpha+0(FP), Y15
	VBROADCASTSS beta+32(FP), Y14
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+40(FP), DI

axpby2_loop:
	CMPQ        CX, $8
	JB          axpby2_tail
	VMOVUPS     (SI), Y0
	VMULPS      (DI), Y14, Y1 // beta·y
	VFMADD231PS Y15, Y0, Y1   // + alpha·x
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         axpby2_loop

axpby2_tail:
	TESTQ       CX, CX
	JZ          axpby2_done
	VMOVSS      (SI), X0
	VMOVSS      (DI), X1
	VMULSS      X14, X1, X1
	VFMADD231SS X15, X0, X1
	VMOVSS      X1, (DI)
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         axpby2_tail

axpby2_done:
	VZEROUPPER
	RET

// func scaleAVX512(alpha float32, x []float32)
TEXT ·scaleAVX512(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Z15
	MOVQ         x_base+8(FP), DI
	MOVQ         x_len+16(FP), CX

scale512_loop:
	CMPQ    CX, $16
	JB      scale512_tail
	VMULPS  (DI), Z15, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     scale512_loop

scale512_tail:
	TESTQ     CX, CX
	JZ        scale512_done
	TAILMASK
	VMOVUPS.Z (DI), K1, Z0
	VMULPS    Z15, Z0, Z0
	VMOVUPS   Z0, K1, (DI)

scale512_done:
	VZEROUPPER
	RET

// func scaleAVX2(alpha float32, x []float32)
TEXT ·scaleAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Y15
	MOVQ         x_base+8(FP), DI
	MOVQ         x_len+16(FP), CX

scale2_loop:
	CMPQ    CX, $8
	JB      scale2_tail
	VMULPS  (DI), Y15, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     scale2_loop

scale2_tail:
	TESTQ  CX, CX
	JZ     scale2_done
	VMOVSS (DI), X0
	VMULSS X15, X0, X0
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	DECQ   CX
	JMP    scale2_tail

scale2_done:
	VZEROUPPER
	RET

// func sumSquaresAVX512(x []float32) float64
// Four float64 accumulators of 8 lanes, 32 floats a step; 8 floats a step after
// that; then one masked step of up to 7.
TEXT ·sumSquaresAVX512(SB), NOSPLIT, $0-32
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1
	VXORPD Z2, Z2, Z2
	VXORPD Z3, Z3, Z3

sumsq512_loop32:
	CMPQ        CX, $32
	JB          sumsq512_loop8
	VCVTPS2PD   (SI), Z4
	VCVTPS2PD   32(SI), Z5
	VCVTPS2PD   64(SI), Z6
	VCVTPS2PD   96(SI), Z7
	VFMADD231PD Z4, Z4, Z0
	VFMADD231PD Z5, Z5, Z1
	VFMADD231PD Z6, Z6, Z2
	VFMADD231PD Z7, Z7, Z3
	ADDQ        $128, SI
	SUBQ        $32, CX
	JMP         sumsq512_loop32

sumsq512_loop8:
	CMPQ        CX, $8
	JB          sumsq512_tail
	VCVTPS2PD   (SI), Z4
	VFMADD231PD Z4, Z4, Z0
	ADDQ        $32, SI
	SUBQ        $8, CX
	JMP         sumsq512_loop8

sumsq512_tail:
	TESTQ       CX, CX
	JZ          sumsq512_reduce
	TAILMASK
	VCVTPS2PD.Z (SI), K1, Z4
	VFMADD231PD Z4, Z4, Z1

sumsq512_reduce:
	VADDPD        Z1, Z0, Z0
	VADDPD        Z3, Z2, Z2
	VADDPD        Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPD        X1, X0, X0
	VPERMILPD     $1, X0, X1
	VADDSD        X1, X0, X0
	VMOVSD        X0, ret+24(FP)
	VZEROUPPER
	RET

// func sumSquaresAVX2(x []float32) float64
// Four float64 accumulators of 4 lanes, 16 floats a step; then scalar.
TEXT ·sumSquaresAVX2(SB), NOSPLIT, $0-32
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3

sumsq2_loop16:
	CMPQ        CX, $16
	JB          sumsq2_tail
	VCVTPS2PD   (SI), Y4
	VCVTPS2PD   16(SI), Y5
	VCVTPS2PD   32(SI), Y6
	VCVTPS2PD   48(SI), Y7
	VFMADD231PD Y4, Y4, Y0
	VFMADD231PD Y5, Y5, Y1
	VFMADD231PD Y6, Y6, Y2
	VFMADD231PD Y7, Y7, Y3
	ADDQ        $64, SI
	SUBQ        $16, CX
	JMP         sumsq2_loop16

sumsq2_tail:
	VADDPD       Y1, Y0, Y0
	VADDPD       Y3, Y2, Y2
	VADDPD       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VPERMILPD    $1, X0, X1
	VADDSD       X1, X0, X0

sumsq2_scalar:
	TESTQ       CX, CX
	JZ          sumsq2_done
	VMOVSS      (SI), X4
	VCVTSS2SD   X4, X4, X4
	VFMADD231SD X4, X4, X0
	ADDQ        $4, SI
	DECQ        CX
	JMP         sumsq2_scalar

sumsq2_done:
	VMOVSD X0, ret+24(FP)
	VZEROUPPER
	RET

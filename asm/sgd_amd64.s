//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// SGD update kernels. Each step follows torch.optim.SGD's operation order (see the
// reference loops in sgd_amd64.go). AVX-512: 16 lanes a step, then one masked step;
// AVX2: 8 lanes a step, then scalar VEX instructions.
//
// Registers: SI = w, DX = g, DI = v, CX = elements left.
// Broadcast constants: negLR, wd, mu, c in Z/Y 12..15.

#define TAILMASK \
	MOVQ  $1, AX \
	SHLQ  CX, AX \
	DECQ  AX     \
	KMOVW AX, K1

// MOMENTUM512 updates Z2 (v) from Z0 (w) and Z1 (g), leaving d in Z1:
// d = g + wd·w; v = mu·v (rounded); v += c·d.
#define MOMENTUM512 \
	VFMADD231PS Z13, Z0, Z1 \
	VMULPS      Z14, Z2, Z2 \
	VFMADD231PS Z15, Z1, Z2

#define MOMENTUM2 \
	VFMADD231PS Y13, Y0, Y1 \
	VMULPS      Y14, Y2, Y2 \
	VFMADD231PS Y15, Y1, Y2

#define MOMENTUM2S \
	VFMADD231SS X13, X0, X1 \
	VMULSS      X14, X2, X2 \
	VFMADD231SS X15, X1, X2

// LOADARGS loads the three pointers and the length.
#define LOADARGS \
	MOVQ w_base+0(FP), SI  \
	MOVQ w_len+8(FP), CX   \
	MOVQ g_base+24(FP), DX \
	MOVQ v_base+48(FP), DI

// func sgdAVX512(w, g []float32, negLR, wd float32)
TEXT ·sgdAVX512(SB), NOSPLIT, $0-56
	MOVQ         w_base+0(FP), SI
	MOVQ         w_len+8(FP), CX
	MOVQ         g_base+24(FP), DX
	VBROADCASTSS negLR+48(FP), Z12
	VBROADCASTSS wd+52(FP), Z13

sgd512_loop:
	CMPQ        CX, $16
	JB          sgd512_tail
	VMOVUPS     (SI), Z0
	VMOVUPS     (DX), Z1
	VFMADD231PS Z13, Z0, Z1 // d = g + wd·w
	VFMADD231PS Z12, Z1, Z0 // w += negLR·d
	VMOVUPS     Z0, (SI)
	ADDQ        $64, SI
	ADDQ        $64, DX
	SUBQ        $16, CX
	JMP         sgd512_loop

sgd512_tail:
	TESTQ       CX, CX
	JZ          sgd512_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z0
	VMOVUPS.Z   (DX), K1, Z1
	VFMADD231PS Z13, Z0, Z1
	VFMADD231PS Z12, Z1, Z0
	VMOVUPS     Z0, K1, (SI)

sgd512_done:
	VZEROUPPER
	RET

// func sgdAVX2(w, g []float32, negLR, wd float32)
TEXT ·sgdAVX2(SB), NOSPLIT, $0-56
	MOVQ         w_base+0(FP), SI
	MOVQ         w_len+8(FP), CX
	MOVQ         g_base+24(FP), DX
	VBROADCASTSS negLR+48(FP), Y12
	VBROADCASTSS wd+52(FP), Y13

sgd2_loop:
	CMPQ        CX, $8
	JB          sgd2_tail
	VMOVUPS     (SI), Y0
	VMOVUPS     (DX), Y1
	VFMADD231PS Y13, Y0, Y1 // d = g + wd·w
	VFMADD231PS Y12, Y1, Y0 // w += negLR·d
	VMOVUPS     Y0, (SI)
	ADDQ        $32, SI
	ADDQ        $32, DX
	SUBQ        $8, CX
	JMP         sgd2_loop

sgd2_tail:
	TESTQ       CX, CX
	JZ          sgd2_done
	VMOVSS      (SI), X0
	VMOVSS      (DX), X1
	VFMADD231SS X13, X0, X1
	VFMADD231SS X12, X1, X0
	VMOVSS      X0, (SI)
	ADDQ        $4, SI
	ADDQ        $4, DX
	DECQ        CX
	JMP         sgd2_tail

sgd2_done:
	VZEROUPPER
	RET

// func sgdMomentumAVX512(w, g, v []float32, negLR, wd, mu, c float32)
TEXT ·sgdMomentumAVX512(SB), NOSPLIT, $0-88
	LOADARGS
	VBROADCASTSS negLR+72(FP), Z12
	VBROADCASTSS wd+76(FP), Z13
	VBROADCASTSS mu+80(FP), Z14
	VBROADCASTSS c+84(FP), Z15

sgdm512_loop:
	CMPQ        CX, $16
	JB          sgdm512_tail
	VMOVUPS     (SI), Z0
	VMOVUPS     (DX), Z1
	VMOVUPS     (DI), Z2
	MOMENTUM512
	VMOVUPS     Z2, (DI)
	VFMADD231PS Z12, Z2, Z0 // w += negLR·v
	VMOVUPS     Z0, (SI)
	ADDQ        $64, SI
	ADDQ        $64, DX
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         sgdm512_loop

sgdm512_tail:
	TESTQ       CX, CX
	JZ          sgdm512_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z0
	VMOVUPS.Z   (DX), K1, Z1
	VMOVUPS.Z   (DI), K1, Z2
	MOMENTUM512
	VMOVUPS     Z2, K1, (DI)
	VFMADD231PS Z12, Z2, Z0
	VMOVUPS     Z0, K1, (SI)

sgdm512_done:
	VZEROUPPER
	RET

// func sgdMomentumAVX2(w, g, v []float32, negLR, wd, mu, c float32)
TEXT ·sgdMomentumAVX2(SB), NOSPLIT, $0-88
	LOADARGS
	VBROADCASTSS negLR+72(FP), Y12
	VBROADCASTSS wd+76(FP), Y13
	VBROADCASTSS mu+80(FP), Y14
	VBROADCASTSS c+84(FP), Y15

sgdm2_loop:
	CMPQ        CX, $8
	JB          sgdm2_tail
	VMOVUPS     (SI), Y0
	VMOVUPS     (DX), Y1
	VMOVUPS     (DI), Y2
	MOMENTUM2
	VMOVUPS     Y2, (DI)
	VFMADD231PS Y12, Y2, Y0 // w += negLR·v
	VMOVUPS     Y0, (SI)
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         sgdm2_loop

sgdm2_tail:
	TESTQ       CX, CX
	JZ          sgdm2_done
	VMOVSS      (SI), X0
	VMOVSS      (DX), X1
	VMOVSS      (DI), X2
	MOMENTUM2S
	VMOVSS      X2, (DI)
	VFMADD231SS X12, X2, X0
	VMOVSS      X0, (SI)
	ADDQ        $4, SI
	ADDQ        $4, DX
	ADDQ        $4, DI
	DECQ        CX
	JMP         sgdm2_tail

sgdm2_done:
	VZEROUPPER
	RET

// func sgdNesterovAVX512(w, g, v []float32, negLR, wd, mu, c float32)
TEXT ·sgdNesterovAVX512(SB), NOSPLIT, $0-88
	LOADARGS
	VBROADCASTSS negLR+72(FP), Z12
	VBROADCASTSS wd+76(FP), Z13
	VBROADCASTSS mu+80(FP), Z14
	VBROADCASTSS c+84(FP), Z15

sgdn512_loop:
	CMPQ        CX, $16
	JB          sgdn512_tail
	VMOVUPS     (SI), Z0
	VMOVUPS     (DX), Z1
	VMOVUPS     (DI), Z2
	MOMENTUM512
	VMOVUPS     Z2, (DI)
	VFMADD231PS Z14, Z2, Z1 // u = d + mu·v
	VFMADD231PS Z12, Z1, Z0 // w += negLR·u
	VMOVUPS     Z0, (SI)
	ADDQ        $64, SI
	ADDQ        $64, DX
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         sgdn512_loop

sgdn512_tail:
	TESTQ       CX, CX
	JZ          sgdn512_done
	TAILMASK
	VMOVUPS.Z   (SI), K1, Z0
	VMOVUPS.Z   (DX), K1, Z1
	VMOVUPS.Z   (DI), K1, Z2
	MOMENTUM512
	VMOVUPS     Z2, K1, (DI)
	VFMADD231PS Z14, Z2, Z1
	VFMADD231PS Z12, Z1, Z0
	VMOVUPS     Z0, K1, (SI)

sgdn512_done:
	VZEROUPPER
	RET

// func sgdNesterovAVX2(w, g, v []float32, negLR, wd, mu, c float32)
TEXT ·sgdNesterovAVX2(SB), NOSPLIT, $0-88
	LOADARGS
	VBROADCASTSS negLR+72(FP), Y12
	VBROADCASTSS wd+76(FP), Y13
	VBROADCASTSS mu+80(FP), Y14
	VBROADCASTSS c+84(FP), Y15

sgdn2_loop:
	CMPQ        CX, $8
	JB          sgdn2_tail
	VMOVUPS     (SI), Y0
	VMOVUPS     (DX), Y1
	VMOVUPS     (DI), Y2
	MOMENTUM2
	VMOVUPS     Y2, (DI)
	VFMADD231PS Y14, Y2, Y1 // u = d + mu·v
	VFMADD231PS Y12, Y1, Y0 // w += negLR·u
	VMOVUPS     Y0, (SI)
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         sgdn2_loop

sgdn2_tail:
	TESTQ       CX, CX
	JZ          sgdn2_done
	VMOVSS      (SI), X0
	VMOVSS      (DX), X1
	VMOVSS      (DI), X2
	MOMENTUM2S
	VMOVSS      X2, (DI)
	VFMADD231SS X14, X2, X1
	VFMADD231SS X12, X1, X0
	VMOVSS      X0, (SI)
	ADDQ        $4, SI
	ADDQ        $4, DX
	ADDQ        $4, DI
	DECQ        CX
	JMP         sgdn2_tail

sgdn2_done:
	VZEROUPPER
	RET

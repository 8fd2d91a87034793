//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// Per-channel bias kernels, in place over one plane. AVX-512 paths run 16 lanes a
// step and one masked step (K1 holds the low CX bits); AVX2 paths run 8 lanes a
// step and finish with scalar VEX instructions.

// TAILMASK sets K1 to the low CX bits (CX < 16). Clobbers AX.
#define TAILMASK \
	MOVQ  $1, AX \
	SHLQ  CX, AX \
	DECQ  AX     \
	KMOVW AX, K1

// func biasAVX512(x []float32, b float32)
TEXT ·biasAVX512(SB), NOSPLIT, $0-28
	MOVQ         x_base+0(FP), DI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS b+24(FP), Z15

bias512_loop:
	CMPQ    CX, $16
	JB      bias512_tail
	VADDPS  (DI), Z15, Z1
	VMOVUPS Z1, (DI)
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     bias512_loop

bias512_tail:
	TESTQ     CX, CX
	JZ        bias512_done
	TAILMASK
	VMOVUPS.Z (DI), K1, Z1
	VADDPS    Z1, Z15, Z1
	VMOVUPS   Z1, K1, (DI)

bias512_done:
	VZEROUPPER
	RET

// func biasAVX2(x []float32, b float32)
TEXT ·biasAVX2(SB), NOSPLIT, $0-28
	MOVQ         x_base+0(FP), DI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS b+24(FP), Y15

bias2_loop:
	CMPQ    CX, $8
	JB      bias2_tail
	VADDPS  (DI), Y15, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     bias2_loop

bias2_tail:
	TESTQ  CX, CX
	JZ     bias2_done
	VMOVSS (DI), X1
	VADDSS X1, X15, X1
	VMOVSS X1, (DI)
	ADDQ   $4, DI
	DECQ   CX
	JMP    bias2_tail

bias2_done:
	VZEROUPPER
	RET

// func biasReLUAVX512(x []float32, b float32)
TEXT ·biasReLUAVX512(SB), NOSPLIT, $0-28
	MOVQ         x_base+0(FP), DI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS b+24(FP), Z15
	VPXORD       Z0, Z0, Z0

biasrelu512_loop:
	CMPQ    CX, $16
	JB      biasrelu512_tail
	VADDPS  (DI), Z15, Z1
	VMAXPS  Z1, Z0, Z1    // max(0, x+b); x+b when NaN
	VMOVUPS Z1, (DI)
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     biasrelu512_loop

biasrelu512_tail:
	TESTQ     CX, CX
	JZ        biasrelu512_done
	TAILMASK
	VMOVUPS.Z (DI), K1, Z1
	VADDPS    Z1, Z15, Z1
	VMAXPS    Z1, Z0, Z1
	VMOVUPS   Z1, K1, (DI)

biasrelu512_done:
	VZEROUPPER
	RET

// func biasReLUAVX2(x []float32, b float32)
TEXT ·biasReLUAVX2(SB), NOSPLIT, $0-28
	MOVQ         x_base+0(FP), DI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS b+24(FP), Y15
	VXORPS       Y0, Y0, Y0

biasrelu2_loop:
	CMPQ    CX, $8
	JB      biasrelu2_tail
	VADDPS  (DI), Y15, Y1
	VMAXPS  Y1, Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     biasrelu2_loop

biasrelu2_tail:
	TESTQ  CX, CX
	JZ     biasrelu2_done
	VMOVSS (DI), X1
	VADDSS X1, X15, X1
	VMAXSS X1, X0, X1
	VMOVSS X1, (DI)
	ADDQ   $4, DI
	DECQ   CX
	JMP    biasrelu2_tail

biasrelu2_done:
	VZEROUPPER
	RET

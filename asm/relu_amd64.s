//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// ReLU kernels. AVX-512 paths run 32 lanes a step, then 16, then one masked step
// (K1 holds the low CX bits); AVX2 paths run 8 lanes a step and finish with scalar
// VEX instructions.

// TAILMASK sets K1 to the low CX bits (CX < 16). Clobbers AX.
#define TAILMASK \
	MOVQ  $1, AX \
	SHLQ  CX, AX \
	DECQ  AX     \
	KMOVW AX, K1

// func reluAVX512(dst, src []float32)
TEXT ·reluAVX512(SB), NOSPLIT, $0-48
	MOVQ   dst_base+0(FP), DI
	MOVQ   src_base+24(FP), SI
	MOVQ   src_len+32(FP), CX
	VPXORD Z0, Z0, Z0

relu512_loop32:
	CMPQ    CX, $32
	JB      relu512_loop16
	VMOVUPS (SI), Z1
	VMOVUPS 64(SI), Z2
	VMAXPS  Z1, Z0, Z1     // max(0, x); x when x is NaN
	VMAXPS  Z2, Z0, Z2
	VMOVUPS Z1, (DI)
	VMOVUPS Z2, 64(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     relu512_loop32

relu512_loop16:
	CMPQ    CX, $16
	JB      relu512_tail
	VMOVUPS (SI), Z1
	VMAXPS  Z1, Z0, Z1
	VMOVUPS Z1, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX

relu512_tail:
	TESTQ     CX, CX
	JZ        relu512_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z1
	VMAXPS    Z1, Z0, Z1
	VMOVUPS   Z1, K1, (DI)

relu512_done:
	VZEROUPPER
	RET

// func reluAVX2(dst, src []float32)
TEXT ·reluAVX2(SB), NOSPLIT, $0-48
	MOVQ   dst_base+0(FP), DI
	MOVQ   src_base+24(FP), SI
	MOVQ   src_len+32(FP), CX
	VXORPS Y0, Y0, Y0

relu2_loop16:
	CMPQ    CX, $16
	JB      relu2_loop8
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y2
	VMAXPS  Y1, Y0, Y1     // max(0, x); x when x is NaN
	VMAXPS  Y2, Y0, Y2
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     relu2_loop16

relu2_loop8:
	CMPQ    CX, $8
	JB      relu2_tail
	VMOVUPS (SI), Y1
	VMAXPS  Y1, Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX

relu2_tail:
	TESTQ  CX, CX
	JZ     relu2_done
	VMOVSS (SI), X1
	VMAXSS X1, X0, X1
	VMOVSS X1, (DI)
	ADDQ   $4, SI
	ADDQ   $4, DI
	DECQ   CX
	JMP    relu2_tail

relu2_done:
	VZEROUPPER
	RET

// func reluBackwardAVX512(dx, dy, y []float32)
TEXT ·reluBackwardAVX512(SB), NOSPLIT, $0-72
	MOVQ   dx_base+0(FP), DI
	MOVQ   dy_base+24(FP), SI
	MOVQ   y_base+48(FP), DX
	MOVQ   y_len+56(FP), CX
	VPXORD Z0, Z0, Z0

relub512_loop16:
	CMPQ      CX, $16
	JB        relub512_tail
	VMOVUPS   (DX), Z1
	VCMPPS    $0x16, Z0, Z1, K2 // K2 = !(y <= 0): y > 0 or NaN
	VMOVUPS.Z (SI), K2, Z2      // dy where K2, else 0
	VMOVUPS   Z2, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	ADDQ      $64, DX
	SUBQ      $16, CX
	JMP       relub512_loop16

relub512_tail:
	TESTQ     CX, CX
	JZ        relub512_done
	TAILMASK
	VMOVUPS.Z (DX), K1, Z1
	VCMPPS    $0x16, Z0, Z1, K2
	KANDW     K1, K2, K2
	VMOVUPS.Z (SI), K2, Z2
	VMOVUPS   Z2, K1, (DI)

relub512_done:
	VZEROUPPER
	RET

// func reluBackwardAVX2(dx, dy, y []float32)
TEXT ·reluBackwardAVX2(SB), NOSPLIT, $0-72
	MOVQ   dx_base+0(FP), DI
	MOVQ   dy_base+24(FP), SI
	MOVQ   y_base+48(FP), DX
	MOVQ   y_len+56(FP), CX
	VXORPS Y0, Y0, Y0

relub2_loop8:
	CMPQ    CX, $8
	JB      relub2_tail
	VMOVUPS (DX), Y1
	VCMPPS  $0x16, Y0, Y1, Y1 // all ones where !(y <= 0)
	VANDPS  (SI), Y1, Y1      // dy where set, else 0
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, DX
	SUBQ    $8, CX
	JMP     relub2_loop8

relub2_tail:
	TESTQ  CX, CX
	JZ     relub2_done
	VMOVSS (DX), X1
	VCMPSS $0x16, X0, X1, X1
	VMOVSS (SI), X2
	VANDPS X2, X1, X1
	VMOVSS X1, (DI)
	ADDQ   $4, SI
	ADDQ   $4, DI
	ADDQ   $4, DX
	DECQ   CX
	JMP    relub2_tail

relub2_done:
	VZEROUPPER
	RET

//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// 2×2, stride-2 max-pool kernels over a band of output rows of one plane.
//
// Forward: a step reads 32 floats of each of the two input rows, splits them into
// the window's four candidates a (row 0, even column), b (row 0, odd), c (row 1,
// even), d (row 1, odd) with VPERMI2PS, and keeps, lane by lane, the running maximum
// and its plane index, replacing it when a candidate is greater or NaN (PyTorch's
// rule). The last step of a row is masked. Backward does the reverse: it compares
// the saved index with the four candidates' indices and interleaves the masked
// gradients back into the two input rows. Given the pool's output y (R14 ≠ 0), it
// first zeroes the gradients whose y is ≤ 0: the backward pass of a ReLU before
// the pool, as reluBackward computes it.

// poolEven: 0, 2, …, 30 (VPERMI2PS selectors of the even columns, and twice the
// lane number for the indices). poolLo/poolHi interleave two vectors: a0 b0 a1 b1 ….
DATA poolEven<>+0(SB)/4, $0
DATA poolEven<>+4(SB)/4, $2
DATA poolEven<>+8(SB)/4, $4
DATA poolEven<>+12(SB)/4, $6
DATA poolEven<>+16(SB)/4, $8
DATA poolEven<>+20(SB)/4, $10
DATA poolEven<>+24(SB)/4, $12
DATA poolEven<>+28(SB)/4, $14
DATA poolEven<>+32(SB)/4, $16
DATA poolEven<>+36(SB)/4, $18
DATA poolEven<>+40(SB)/4, $20
DATA poolEven<>+44(SB)/4, $22
DATA poolEven<>+48(SB)/4, $24
DATA poolEven<>+52(SB)/4, $26
DATA poolEven<>+56(SB)/4, $28
DATA poolEven<>+60(SB)/4, $30
GLOBL poolEven<>(SB), RODATA|NOPTR, $64

DATA poolLo<>+0(SB)/4, $0
DATA poolLo<>+4(SB)/4, $16
DATA poolLo<>+8(SB)/4, $1
DATA poolLo<>+12(SB)/4, $17
DATA poolLo<>+16(SB)/4, $2
DATA poolLo<>+20(SB)/4, $18
DATA poolLo<>+24(SB)/4, $3
DATA poolLo<>+28(SB)/4, $19
DATA poolLo<>+32(SB)/4, $4
DATA poolLo<>+36(SB)/4, $20
DATA poolLo<>+40(SB)/4, $5
DATA poolLo<>+44(SB)/4, $21
DATA poolLo<>+48(SB)/4, $6
DATA poolLo<>+52(SB)/4, $22
DATA poolLo<>+56(SB)/4, $7
DATA poolLo<>+60(SB)/4, $23
GLOBL poolLo<>(SB), RODATA|NOPTR, $64

// poolEven8: twice the output column held by each lane after VSHUFPS, before the
// final VPERMPD $0xD8: columns 0 1 4 5 2 3 6 7.
DATA poolEven8<>+0(SB)/4, $0
DATA poolEven8<>+4(SB)/4, $2
DATA poolEven8<>+8(SB)/4, $8
DATA poolEven8<>+12(SB)/4, $10
DATA poolEven8<>+16(SB)/4, $4
DATA poolEven8<>+20(SB)/4, $6
DATA poolEven8<>+24(SB)/4, $12
DATA poolEven8<>+28(SB)/4, $14
GLOBL poolEven8<>(SB), RODATA|NOPTR, $32

// POOLCAND512 merges candidate V, whose index is J + OFF, into the maximum Z4 and
// index Z9: where V > Z4 or V is NaN.
#define POOLCAND512(V, OFF) \
	VCMPPS  $0x1e, Z4, V, K1 \
	VCMPPS  $3, V, V, K2     \
	KORW    K1, K2, K1       \
	VMOVAPS V, K1, Z4        \
	VPADDD  OFF, Z8, K1, Z9

// POOLSTEP512 pools Z0:Z1 (row 0) and Z2:Z3 (row 1), base index AX, into Z4 (max)
// and Z9 (index).
#define POOLSTEP512 \
	VMOVAPS      Z31, Z4     \
	VPERMI2PS    Z1, Z0, Z4  \
	VMOVAPS      Z30, Z5     \
	VPERMI2PS    Z1, Z0, Z5  \
	VMOVAPS      Z31, Z6     \
	VPERMI2PS    Z3, Z2, Z6  \
	VMOVAPS      Z30, Z7     \
	VPERMI2PS    Z3, Z2, Z7  \
	VPBROADCASTD AX, Z8      \
	VPADDD       Z31, Z8, Z8 \
	VMOVDQA32    Z8, Z9      \
	POOLCAND512(Z5, Z28)     \
	POOLCAND512(Z6, Z27)     \
	POOLCAND512(Z7, Z26)

// func maxPool2x2AVX512(y []float32, idx []int32, x []float32, base int32, w, rows, ow int)
TEXT ·maxPool2x2AVX512(SB), NOSPLIT, $0-104
	MOVQ      y_base+0(FP), DI
	MOVQ      idx_base+24(FP), DX
	MOVQ      x_base+48(FP), BX
	MOVLQSX   base+72(FP), R13
	MOVQ      w+80(FP), R10
	MOVQ      rows+88(FP), R9
	MOVQ      ow+96(FP), R11
	VMOVDQU32 poolEven<>(SB), Z31
	MOVL      $1, CX
	VPBROADCASTD CX, Z28           // 1
	VPADDD    Z28, Z31, Z30        // odd selectors 1, 3, …, 31
	VPBROADCASTD R10, Z27          // w
	VPADDD    Z28, Z27, Z26        // w+1

mp512_row:
	TESTQ R9, R9
	JZ    mp512_done
	MOVQ  BX, SI
	LEAQ  (BX)(R10*4), R8
	MOVQ  R13, AX
	MOVQ  R11, R12

mp512_col:
	CMPQ      R12, $16
	JB        mp512_tail
	VMOVUPS   (SI), Z0
	VMOVUPS   64(SI), Z1
	VMOVUPS   (R8), Z2
	VMOVUPS   64(R8), Z3
	POOLSTEP512
	VMOVUPS   Z4, (DI)
	VMOVDQU32 Z9, (DX)
	ADDQ      $128, SI
	ADDQ      $128, R8
	ADDQ      $64, DI
	ADDQ      $64, DX
	ADDQ      $32, AX
	SUBQ      $16, R12
	JMP       mp512_col

mp512_tail:
	TESTQ     R12, R12
	JZ        mp512_next
	MOVQ      R12, CX
	SHLQ      $1, CX
	MOVQ      $1, R12
	SHLQ      CX, R12
	DECQ      R12              // low 2·rem bits: the input lanes
	KMOVW     R12, K3
	SHRQ      $16, R12
	KMOVW     R12, K4
	SHRQ      $1, CX           // rem
	MOVQ      $1, R12
	SHLQ      CX, R12
	DECQ      R12
	KMOVW     R12, K5          // the output lanes
	VMOVUPS.Z (SI), K3, Z0
	VMOVUPS.Z 64(SI), K4, Z1
	VMOVUPS.Z (R8), K3, Z2
	VMOVUPS.Z 64(R8), K4, Z3
	POOLSTEP512
	VMOVUPS   Z4, K5, (DI)
	VMOVDQU32 Z9, K5, (DX)
	LEAQ      (DI)(CX*4), DI
	LEAQ      (DX)(CX*4), DX

mp512_next:
	LEAQ (BX)(R10*8), BX
	ADDQ R10, R13
	ADDQ R10, R13
	DECQ R9
	JMP  mp512_row

mp512_done:
	VZEROUPPER
	RET

// POOLCAND2 merges candidate V, whose index is Y8 + OFF, into the maximum Y4 and
// index Y9. Clobbers Y10, Y11.
#define POOLCAND2(V, OFF) \
	VCMPPS    $0x1e, Y4, V, Y10  \
	VCMPPS    $3, V, V, Y11      \
	VORPS     Y11, Y10, Y10      \
	VBLENDVPS Y10, V, Y4, Y4     \
	VPADDD    OFF, Y8, Y11       \
	VBLENDVPS Y10, Y11, Y9, Y9

// func maxPool2x2AVX2(y []float32, idx []int32, x []float32, base int32, w, rows, ow, ow8 int)
TEXT ·maxPool2x2AVX2(SB), NOSPLIT, $0-112
	MOVQ    y_base+0(FP), DI
	MOVQ    idx_base+24(FP), DX
	MOVQ    x_base+48(FP), BX
	MOVLQSX base+72(FP), R13
	MOVQ    w+80(FP), R10
	MOVQ    rows+88(FP), R9
	MOVQ    ow+96(FP), R11
	MOVQ    ow8+104(FP), R12
	SUBQ    R12, R11             // outputs of a row the kernel leaves
	SHLQ    $2, R11              // … in bytes
	VMOVDQU poolEven8<>(SB), Y15
	MOVL    $1, CX
	VMOVQ    CX, X14
	VPBROADCASTD X14, Y14        // 1
	VMOVQ    R10, X13
	VPBROADCASTD X13, Y13        // w
	VPADDD  Y14, Y13, Y12        // w+1

mp2_row:
	TESTQ R9, R9
	JZ    mp2_done
	MOVQ  BX, SI
	LEAQ  (BX)(R10*4), R8
	MOVQ  R13, AX
	MOVQ  ow8+104(FP), R12

mp2_col:
	TESTQ        R12, R12
	JZ           mp2_next
	VMOVUPS      (SI), Y0
	VMOVUPS      32(SI), Y1
	VMOVUPS      (R8), Y2
	VMOVUPS      32(R8), Y3
	VSHUFPS      $0x88, Y1, Y0, Y4 // a, columns 0 1 4 5 2 3 6 7
	VSHUFPS      $0xdd, Y1, Y0, Y5 // b
	VSHUFPS      $0x88, Y3, Y2, Y6 // c
	VSHUFPS      $0xdd, Y3, Y2, Y7 // d
	VMOVQ         AX, X8
	VPBROADCASTD X8, Y8
	VPADDD       Y15, Y8, Y8       // J: index of a
	VMOVDQU      Y8, Y9
	POOLCAND2(Y5, Y14)
	POOLCAND2(Y6, Y13)
	POOLCAND2(Y7, Y12)
	VPERMPD      $0xd8, Y4, Y4     // columns back in order
	VPERMQ       $0xd8, Y9, Y9
	VMOVUPS      Y4, (DI)
	VMOVDQU      Y9, (DX)
	ADDQ         $64, SI
	ADDQ         $64, R8
	ADDQ         $32, DI
	ADDQ         $32, DX
	ADDQ         $16, AX
	SUBQ         $8, R12
	JMP          mp2_col

mp2_next:
	ADDQ R11, DI
	ADDQ R11, DX
	LEAQ (BX)(R10*8), BX
	ADDQ R10, R13
	ADDQ R10, R13
	DECQ R9
	JMP  mp2_row

mp2_done:
	VZEROUPPER
	RET

// POOLBACK512 writes the gradients of 16 outputs (dy in Z0, saved index in Z1, index
// of candidate a in Z8) into Z4:Z5 (row 0) and Z6:Z7 (row 1), interleaved.
#define POOLBACK512 \
	VPCMPEQD  Z8, Z1, K1       \
	VMOVAPS.Z Z0, K1, Z2       \
	VPADDD    Z28, Z8, Z10     \
	VPCMPEQD  Z10, Z1, K1      \
	VMOVAPS.Z Z0, K1, Z3       \
	VMOVAPS   Z29, Z4          \
	VPERMI2PS Z3, Z2, Z4       \
	VMOVAPS   Z30, Z5          \
	VPERMI2PS Z3, Z2, Z5       \
	VPADDD    Z27, Z8, Z10     \
	VPCMPEQD  Z10, Z1, K1      \
	VMOVAPS.Z Z0, K1, Z2       \
	VPADDD    Z26, Z8, Z10     \
	VPCMPEQD  Z10, Z1, K1      \
	VMOVAPS.Z Z0, K1, Z3       \
	VMOVAPS   Z29, Z6          \
	VPERMI2PS Z3, Z2, Z6       \
	VMOVAPS   Z30, Z7          \
	VPERMI2PS Z3, Z2, Z7

// func maxPool2x2BackwardAVX512(dx []float32, idx []int32, dy, y []float32, base int32, w, rows, ow int)
TEXT ·maxPool2x2BackwardAVX512(SB), NOSPLIT, $0-128
	MOVQ      dx_base+0(FP), BX
	MOVQ      idx_base+24(FP), DX
	MOVQ      dy_base+48(FP), DI
	MOVQ      y_base+72(FP), R14
	MOVQ      y_len+80(FP), CX
	TESTQ     CX, CX
	JNZ       mpb512_masked
	XORQ      R14, R14           // no mask

mpb512_masked:
	MOVLQSX   base+96(FP), R13
	MOVQ      w+104(FP), R10
	MOVQ      rows+112(FP), R9
	MOVQ      ow+120(FP), R11
	VPXORD    Z24, Z24, Z24
	VMOVDQU32 poolEven<>(SB), Z31
	VMOVDQU32 poolLo<>(SB), Z29
	MOVL      $8, CX
	VPBROADCASTD CX, Z30
	VPADDD    Z30, Z29, Z30        // poolLo + 8: the upper halves interleaved
	MOVL      $1, CX
	VPBROADCASTD CX, Z28           // 1
	VPBROADCASTD R10, Z27          // w
	VPADDD    Z28, Z27, Z26        // w+1

mpb512_row:
	TESTQ R9, R9
	JZ    mpb512_done
	MOVQ  BX, SI
	LEAQ  (BX)(R10*4), R8
	MOVQ  R13, AX
	MOVQ  R11, R12

mpb512_col:
	CMPQ         R12, $16
	JB           mpb512_tail
	VMOVUPS      (DI), Z0
	VMOVDQU32    (DX), Z1
	TESTQ        R14, R14
	JZ           mpb512_step
	VMOVUPS      (R14), Z2
	VCMPPS       $0x16, Z24, Z2, K2 // K2 = !(y <= 0): y > 0 or NaN
	VMOVAPS.Z    Z0, K2, Z0         // dy where K2, else 0
	ADDQ         $64, R14

mpb512_step:
	VPBROADCASTD AX, Z8
	VPADDD       Z31, Z8, Z8
	POOLBACK512
	VMOVUPS      Z4, (SI)
	VMOVUPS      Z5, 64(SI)
	VMOVUPS      Z6, (R8)
	VMOVUPS      Z7, 64(R8)
	ADDQ         $128, SI
	ADDQ         $128, R8
	ADDQ         $64, DI
	ADDQ         $64, DX
	ADDQ         $32, AX
	SUBQ         $16, R12
	JMP          mpb512_col

mpb512_tail:
	TESTQ        R12, R12
	JZ           mpb512_next
	MOVQ         R12, CX
	MOVQ         $1, R12
	SHLQ         CX, R12
	DECQ         R12
	KMOVW        R12, K5           // the rem dy lanes
	SHLQ         $1, CX
	MOVQ         $1, R12
	SHLQ         CX, R12
	DECQ         R12
	KMOVW        R12, K3           // low 2·rem dx lanes
	SHRQ         $16, R12
	KMOVW        R12, K4
	SHRQ         $1, CX
	VMOVUPS.Z    (DI), K5, Z0
	VMOVDQU32.Z  (DX), K5, Z1
	TESTQ        R14, R14
	JZ           mpb512_tailstep
	VMOVUPS.Z    (R14), K5, Z2
	VCMPPS       $0x16, Z24, Z2, K2
	VMOVAPS.Z    Z0, K2, Z0
	LEAQ         (R14)(CX*4), R14

mpb512_tailstep:
	VPBROADCASTD AX, Z8
	VPADDD       Z31, Z8, Z8
	POOLBACK512
	VMOVUPS      Z4, K3, (SI)
	VMOVUPS      Z5, K4, 64(SI)
	VMOVUPS      Z6, K3, (R8)
	VMOVUPS      Z7, K4, 64(R8)
	LEAQ         (DI)(CX*4), DI
	LEAQ         (DX)(CX*4), DX

mpb512_next:
	LEAQ (BX)(R10*8), BX
	ADDQ R10, R13
	ADDQ R10, R13
	DECQ R9
	JMP  mpb512_row

mpb512_done:
	VZEROUPPER
	RET

// POOLBACK2 writes the gradients of 8 outputs (dy in Y0, saved index in Y1) for the
// two candidates of one input row whose indices are IA (even columns) and IB (odd
// columns) into Y6:Y7, interleaved. Clobbers Y2–Y5.
#define POOLBACK2(IA, IB) \
	VPCMPEQD   IA, Y1, Y2         \
	VANDPS     Y0, Y2, Y2         \
	VPCMPEQD   IB, Y1, Y3         \
	VANDPS     Y0, Y3, Y3         \
	VUNPCKLPS  Y3, Y2, Y4         \
	VUNPCKHPS  Y3, Y2, Y5         \
	VPERM2F128 $0x20, Y5, Y4, Y6  \
	VPERM2F128 $0x31, Y5, Y4, Y7

// func maxPool2x2BackwardAVX2(dx []float32, idx []int32, dy, y []float32, base int32, w, rows, ow, ow8 int)
TEXT ·maxPool2x2BackwardAVX2(SB), NOSPLIT, $0-136
	MOVQ    dx_base+0(FP), BX
	MOVQ    idx_base+24(FP), DX
	MOVQ    dy_base+48(FP), DI
	MOVQ    y_base+72(FP), R14
	MOVQ    y_len+80(FP), CX
	TESTQ   CX, CX
	JNZ     mpb2_masked
	XORQ    R14, R14             // no mask

mpb2_masked:
	MOVLQSX base+96(FP), R13
	MOVQ    w+104(FP), R10
	MOVQ    rows+112(FP), R9
	MOVQ    ow+120(FP), R11
	MOVQ    ow8+128(FP), R12
	SUBQ    R12, R11             // outputs of a row the kernel leaves
	SHLQ    $2, R11              // … in bytes
	VXORPS  Y11, Y11, Y11        // 0
	VMOVDQU poolEven<>(SB), Y15  // 0, 2, …, 14
	MOVL    $1, CX
	VMOVQ    CX, X14
	VPBROADCASTD X14, Y14        // 1
	VMOVQ    R10, X13
	VPBROADCASTD X13, Y13        // w
	VPADDD  Y14, Y13, Y12        // w+1

mpb2_row:
	TESTQ R9, R9
	JZ    mpb2_done
	MOVQ  BX, SI
	LEAQ  (BX)(R10*4), R8
	MOVQ  R13, AX
	MOVQ  ow8+128(FP), R12

mpb2_col:
	TESTQ        R12, R12
	JZ           mpb2_next
	VMOVUPS      (DI), Y0
	VMOVDQU      (DX), Y1
	TESTQ        R14, R14
	JZ           mpb2_step
	VMOVUPS      (R14), Y2
	VCMPPS       $0x16, Y11, Y2, Y2 // all ones where !(y <= 0)
	VANDPS       Y2, Y0, Y0         // dy where set, else 0
	ADDQ         $32, R14

mpb2_step:
	VMOVQ         AX, X8
	VPBROADCASTD X8, Y8
	VPADDD       Y15, Y8, Y8     // index of candidate a
	VPADDD       Y14, Y8, Y9     // b
	POOLBACK2(Y8, Y9)
	VMOVUPS      Y6, (SI)
	VMOVUPS      Y7, 32(SI)
	VPADDD       Y13, Y8, Y10    // c
	VPADDD       Y12, Y8, Y9     // d
	POOLBACK2(Y10, Y9)
	VMOVUPS      Y6, (R8)
	VMOVUPS      Y7, 32(R8)
	ADDQ         $64, SI
	ADDQ         $64, R8
	ADDQ         $32, DI
	ADDQ         $32, DX
	ADDQ         $16, AX
	SUBQ         $8, R12
	JMP          mpb2_col

mpb2_next:
	ADDQ  R11, DI
	ADDQ  R11, DX
	TESTQ R14, R14
	JZ    mpb2_nexty
	ADDQ  R11, R14

mpb2_nexty:
	LEAQ (BX)(R10*8), BX
	ADDQ R10, R13
	ADDQ R10, R13
	DECQ R9
	JMP  mpb2_row

mpb2_done:
	VZEROUPPER
	RET

//go:build amd64 && gc && !noasm && !purego

#include "textflag.h"

// Weight-gradient tile kernels (see GradW in gradw.go). The 6×64 tile's sum starts
// at zero; for every pixel p the kernel loads the 64 floats at b[off[p]] (one pixel
// of a channels-last image) and broadcasts a[p] from each of the 6 planes of a, for
// 24 zmm fused multiply-adds (AVX2: 4 passes of 16 columns); the sum is then added
// to acc (or stored, when zero).
//
// Registers: SI a (the current pixel of plane 0), R10 lda, R8 3·lda and R9 5·lda
// in bytes, so planes 0–5 are (SI), (SI)(R10*1), (SI)(R10*2), (SI)(R8*1),
// (SI)(R10*4), (SI)(R9*1); R11 b; R13 the current off entry, BX its value; CX
// pixels left.

// PLANES loads the plane strides, a, b, off and n.
#define PLANES \
	MOVQ    a+16(FP), SI      \
	MOVQ    lda+24(FP), R10   \
	SHLQ    $2, R10           \
	LEAQ    (R10)(R10*2), R8  \
	LEAQ    (R10)(R10*4), R9  \
	MOVQ    b+32(FP), R11     \
	MOVQ    off+40(FP), R13   \
	MOVQ    n+48(FP), CX

// FMA4 adds the broadcast bc times Z24–Z27 into four accumulators.
#define FMA4(bc, c0, c1, c2, c3) \
	VFMADD231PS Z24, bc, c0 \
	VFMADD231PS Z25, bc, c1 \
	VFMADD231PS Z26, bc, c2 \
	VFMADD231PS Z27, bc, c3

// PIXEL512 accumulates the pixel da bytes past SI in each plane, whose entry is
// doff bytes past R13.
#define PIXEL512(da, doff) \
	MOVLQSX      doff(R13), BX         \
	VMOVUPS      (R11)(BX*4), Z24      \
	VMOVUPS      64(R11)(BX*4), Z25    \
	VMOVUPS      128(R11)(BX*4), Z26   \
	VMOVUPS      192(R11)(BX*4), Z27   \
	VBROADCASTSS da(SI), Z28           \
	FMA4(Z28, Z0, Z1, Z2, Z3)          \
	VBROADCASTSS da(SI)(R10*1), Z29    \
	FMA4(Z29, Z4, Z5, Z6, Z7)          \
	VBROADCASTSS da(SI)(R10*2), Z28    \
	FMA4(Z28, Z8, Z9, Z10, Z11)        \
	VBROADCASTSS da(SI)(R8*1), Z29     \
	FMA4(Z29, Z12, Z13, Z14, Z15)      \
	VBROADCASTSS da(SI)(R10*4), Z28    \
	FMA4(Z28, Z16, Z17, Z18, Z19)      \
	VBROADCASTSS da(SI)(R9*1), Z29     \
	FMA4(Z29, Z20, Z21, Z22, Z23)

#define STORE512(c0, c1, c2, c3) \
	VMOVUPS c0, (AX)    \
	VMOVUPS c1, 64(AX)  \
	VMOVUPS c2, 128(AX) \
	VMOVUPS c3, 192(AX) \
	ADDQ    DX, AX

// ADD512 adds the tile row at AX into four accumulators.
#define ADD512(c0, c1, c2, c3) \
	VADDPS (AX), c0, c0       \
	VADDPS 64(AX), c1, c1     \
	VADDPS 128(AX), c2, c2    \
	VADDPS 192(AX), c3, c3    \
	ADDQ   DX, AX

// func gradwAVX512(acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool)
TEXT ·gradwAVX512(SB), NOSPLIT, $0-57
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	PLANES
	SUBQ   $2, CX
	JB     gradw512_last

gradw512_pair:
	PIXEL512(0, 0)
	PIXEL512(4, 4)
	ADDQ $8, SI
	ADDQ $8, R13
	SUBQ $2, CX
	JAE  gradw512_pair

gradw512_last:
	ADDQ $2, CX
	JZ   gradw512_sum
	PIXEL512(0, 0)

gradw512_sum:
	MOVQ    acc+0(FP), AX
	MOVQ    ldacc+8(FP), DX
	SHLQ    $2, DX
	MOVBLZX zero+56(FP), BX
	TESTQ   BX, BX
	JNZ     gradw512_store
	ADD512(Z0, Z1, Z2, Z3)
	ADD512(Z4, Z5, Z6, Z7)
	ADD512(Z8, Z9, Z10, Z11)
	ADD512(Z12, Z13, Z14, Z15)
	ADD512(Z16, Z17, Z18, Z19)
	ADD512(Z20, Z21, Z22, Z23)
	MOVQ    acc+0(FP), AX

gradw512_store:
	STORE512(Z0, Z1, Z2, Z3)
	STORE512(Z4, Z5, Z6, Z7)
	STORE512(Z8, Z9, Z10, Z11)
	STORE512(Z12, Z13, Z14, Z15)
	STORE512(Z16, Z17, Z18, Z19)
	STORE512(Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

// PIXEL512N accumulates, for the narrow tile (32 columns), the pixel da bytes past
// SI in each plane, whose entry is doff bytes past R13.
#define PIXEL512N(da, doff) \
	MOVLQSX      doff(R13), BX         \
	VMOVUPS      (R11)(BX*4), Z24      \
	VMOVUPS      64(R11)(BX*4), Z25    \
	VBROADCASTSS da(SI), Z28           \
	VFMADD231PS  Z24, Z28, Z0          \
	VFMADD231PS  Z25, Z28, Z1          \
	VBROADCASTSS da(SI)(R10*1), Z29    \
	VFMADD231PS  Z24, Z29, Z2          \
	VFMADD231PS  Z25, Z29, Z3          \
	VBROADCASTSS da(SI)(R10*2), Z30    \
	VFMADD231PS  Z24, Z30, Z4          \
	VFMADD231PS  Z25, Z30, Z5          \
	VBROADCASTSS da(SI)(R8*1), Z31     \
	VFMADD231PS  Z24, Z31, Z6          \
	VFMADD231PS  Z25, Z31, Z7          \
	VBROADCASTSS da(SI)(R10*4), Z28    \
	VFMADD231PS  Z24, Z28, Z8          \
	VFMADD231PS  Z25, Z28, Z9          \
	VBROADCASTSS da(SI)(R9*1), Z29     \
	VFMADD231PS  Z24, Z29, Z10         \
	VFMADD231PS  Z25, Z29, Z11

// ADD512N adds the narrow tile row at AX into two accumulators.
#define ADD512N(c0, c1) \
	VADDPS (AX), c0, c0   \
	VADDPS 64(AX), c1, c1 \
	ADDQ   DX, AX

#define STORE512N(c0, c1) \
	VMOVUPS c0, (AX)   \
	VMOVUPS c1, 64(AX) \
	ADDQ    DX, AX

// func gradw32AVX512(acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool)
TEXT ·gradw32AVX512(SB), NOSPLIT, $0-57
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	PLANES
	SUBQ   $2, CX
	JB     gradw32_last

gradw32_pair:
	PIXEL512N(0, 0)
	PIXEL512N(4, 4)
	ADDQ $8, SI
	ADDQ $8, R13
	SUBQ $2, CX
	JAE  gradw32_pair

gradw32_last:
	ADDQ $2, CX
	JZ   gradw32_sum
	PIXEL512N(0, 0)

gradw32_sum:
	MOVQ    acc+0(FP), AX
	MOVQ    ldacc+8(FP), DX
	SHLQ    $2, DX
	MOVBLZX zero+56(FP), BX
	TESTQ   BX, BX
	JNZ     gradw32_store
	ADD512N(Z0, Z1)
	ADD512N(Z2, Z3)
	ADD512N(Z4, Z5)
	ADD512N(Z6, Z7)
	ADD512N(Z8, Z9)
	ADD512N(Z10, Z11)
	MOVQ    acc+0(FP), AX

gradw32_store:
	STORE512N(Z0, Z1)
	STORE512N(Z2, Z3)
	STORE512N(Z4, Z5)
	STORE512N(Z6, Z7)
	STORE512N(Z8, Z9)
	STORE512N(Z10, Z11)
	VZEROUPPER
	RET

// FMA2 adds the broadcast bc times Y12, Y13 into two accumulators.
#define FMA2(bc, c0, c1) \
	VFMADD231PS Y12, bc, c0 \
	VFMADD231PS Y13, bc, c1

#define ADD256(c0, c1) \
	VADDPS (AX), c0, c0   \
	VADDPS 32(AX), c1, c1 \
	ADDQ   DX, AX

#define STORE256(c0, c1) \
	VMOVUPS c0, (AX)   \
	VMOVUPS c1, 32(AX) \
	ADDQ    DX, AX

// GRADW2 is the AVX2 kernel's body for a tile of cols/16 passes of 16 columns
// (limit = 4·cols bytes); DI is the byte offset of the pass's columns, added to R11.
#define GRADW2(limit) \
	XORQ DI, DI            \
	\
gradw2_pass: \
	VXORPS Y0, Y0, Y0      \
	VXORPS Y1, Y1, Y1      \
	VXORPS Y2, Y2, Y2      \
	VXORPS Y3, Y3, Y3      \
	VXORPS Y4, Y4, Y4      \
	VXORPS Y5, Y5, Y5      \
	VXORPS Y6, Y6, Y6      \
	VXORPS Y7, Y7, Y7      \
	VXORPS Y8, Y8, Y8      \
	VXORPS Y9, Y9, Y9      \
	VXORPS Y10, Y10, Y10   \
	VXORPS Y11, Y11, Y11   \
	PLANES                 \
	ADDQ   DI, R11         \
	\
gradw2_px: \
	MOVLQSX      (R13), BX          \
	VMOVUPS      (R11)(BX*4), Y12   \
	VMOVUPS      32(R11)(BX*4), Y13 \
	VBROADCASTSS (SI), Y14          \
	FMA2(Y14, Y0, Y1)               \
	VBROADCASTSS (SI)(R10*1), Y15   \
	FMA2(Y15, Y2, Y3)               \
	VBROADCASTSS (SI)(R10*2), Y14   \
	FMA2(Y14, Y4, Y5)               \
	VBROADCASTSS (SI)(R8*1), Y15    \
	FMA2(Y15, Y6, Y7)               \
	VBROADCASTSS (SI)(R10*4), Y14   \
	FMA2(Y14, Y8, Y9)               \
	VBROADCASTSS (SI)(R9*1), Y15    \
	FMA2(Y15, Y10, Y11)             \
	ADDQ         $4, SI             \
	ADDQ         $4, R13            \
	DECQ         CX                 \
	JNZ          gradw2_px          \
	\
	MOVQ    acc+0(FP), AX      \
	ADDQ    DI, AX             \
	MOVQ    ldacc+8(FP), DX    \
	SHLQ    $2, DX             \
	MOVBLZX zero+56(FP), BX    \
	TESTQ   BX, BX             \
	JNZ     gradw2_store       \
	ADD256(Y0, Y1)             \
	ADD256(Y2, Y3)             \
	ADD256(Y4, Y5)             \
	ADD256(Y6, Y7)             \
	ADD256(Y8, Y9)             \
	ADD256(Y10, Y11)           \
	MOVQ    acc+0(FP), AX      \
	ADDQ    DI, AX             \
	\
gradw2_store: \
	STORE256(Y0, Y1)           \
	STORE256(Y2, Y3)           \
	STORE256(Y4, Y5)           \
	STORE256(Y6, Y7)           \
	STORE256(Y8, Y9)           \
	STORE256(Y10, Y11)         \
	ADDQ $64, DI               \
	CMPQ DI, $limit            \
	JB   gradw2_pass           \
	VZEROUPPER                 \
	RET

// func gradwAVX2(acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool)
TEXT ·gradwAVX2(SB), NOSPLIT, $0-57
	GRADW2(256)

// func gradw32AVX2(acc *float32, ldacc int, a *float32, lda int, b *float32, off *int32, n int, zero bool)
TEXT ·gradw32AVX2(SB), NOSPLIT, $0-57
	GRADW2(128)

// iota16 is 0, 1, …, 15 as int32: the gather's plane indices before scaling.
DATA iota16<>+0(SB)/8, $0x0000000100000000
DATA iota16<>+8(SB)/8, $0x0000000300000002
DATA iota16<>+16(SB)/8, $0x0000000500000004
DATA iota16<>+24(SB)/8, $0x0000000700000006
DATA iota16<>+32(SB)/8, $0x0000000900000008
DATA iota16<>+40(SB)/8, $0x0000000b0000000a
DATA iota16<>+48(SB)/8, $0x0000000d0000000c
DATA iota16<>+56(SB)/8, $0x0000000f0000000e
GLOBL iota16<>(SB), RODATA|NOPTR, $64

// func interleave16AVX512(dst *float32, step int, src *float32, plane, n int)
TEXT ·interleave16AVX512(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         step+8(FP), DX
	SHLQ         $2, DX
	MOVQ         src+16(FP), SI
	MOVQ         plane+24(FP), AX
	MOVQ         n+32(FP), CX
	VPBROADCASTD AX, Z1
	VPMULLD      iota16<>(SB), Z1, Z1 // lane i: i·plane
	MOVL         $0xffff, BX

interleave16_loop:
	KMOVW      BX, K1             // a fresh mask: no wait on the last gather's
	VGATHERDPS (SI)(Z1*4), K1, Z0
	VMOVUPS    Z0, (DI)
	ADDQ       $4, SI
	ADDQ       DX, DI
	DECQ       CX
	JNZ        interleave16_loop
	VZEROUPPER
	RET

// func gather16AVX512(dst, src *float32, idx *int32, nv, adv, periods int)
TEXT ·gather16AVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ adv+32(FP), DX
	SHLQ $2, DX
	MOVQ periods+40(FP), R8
	MOVL $0xffff, BX

gather16_period:
	MOVQ idx+16(FP), AX
	MOVQ nv+24(FP), CX

gather16_vec:
	VMOVDQU32  (AX), Z1
	KMOVW      BX, K1
	VGATHERDPS (SI)(Z1*4), K1, Z0
	VMOVUPS    Z0, (DI)
	ADDQ       $64, AX
	ADDQ       $64, DI
	DECQ       CX
	JNZ        gather16_vec
	ADDQ       DX, SI
	DECQ       R8
	JNZ        gather16_period
	VZEROUPPER
	RET

// SUM512 adds the 16 lanes of zmm z (whose halves are y and x) into one float32,
// stored at dst.
#define SUM512(z, y, x, dst) \
	VEXTRACTF64X4 $1, z, Y6 \
	VADDPS        Y6, y, y  \
	VEXTRACTF128  $1, y, X6 \
	VADDPS        X6, x, x  \
	VMOVHLPS      x, X6, X6 \
	VADDPS        X6, x, x  \
	VMOVSHDUP     x, X6     \
	VADDSS        X6, x, x  \
	VMOVSS        x, dst

// func gradwSumsAVX512(a *float32, lda, n int) (s0, s1, s2, s3, s4, s5 float32)
TEXT ·gradwSumsAVX512(SB), NOSPLIT, $0-48
	MOVQ   a+0(FP), SI
	MOVQ   lda+8(FP), R10
	SHLQ   $2, R10
	LEAQ   (R10)(R10*2), R8
	LEAQ   (R10)(R10*4), R9
	MOVQ   n+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	SUBQ   $16, CX
	JB     sums512_tail

sums512_loop:
	VADDPS (SI), Z0, Z0
	VADDPS (SI)(R10*1), Z1, Z1
	VADDPS (SI)(R10*2), Z2, Z2
	VADDPS (SI)(R8*1), Z3, Z3
	VADDPS (SI)(R10*4), Z4, Z4
	VADDPS (SI)(R9*1), Z5, Z5
	ADDQ   $64, SI
	SUBQ   $16, CX
	JAE    sums512_loop

sums512_tail:
	ADDQ      $16, CX
	JZ        sums512_reduce
	MOVL      $1, AX
	SHLL      CX, AX
	DECL      AX
	KMOVW     AX, K1                   // the n%16 pixels left
	VMOVUPS.Z (SI), K1, Z6
	VADDPS    Z6, Z0, Z0
	VMOVUPS.Z (SI)(R10*1), K1, Z6
	VADDPS    Z6, Z1, Z1
	VMOVUPS.Z (SI)(R10*2), K1, Z6
	VADDPS    Z6, Z2, Z2
	VMOVUPS.Z (SI)(R8*1), K1, Z6
	VADDPS    Z6, Z3, Z3
	VMOVUPS.Z (SI)(R10*4), K1, Z6
	VADDPS    Z6, Z4, Z4
	VMOVUPS.Z (SI)(R9*1), K1, Z6
	VADDPS    Z6, Z5, Z5

sums512_reduce:
	SUM512(Z0, Y0, X0, s0+24(FP))
	SUM512(Z1, Y1, X1, s1+28(FP))
	SUM512(Z2, Y2, X2, s2+32(FP))
	SUM512(Z3, Y3, X3, s3+36(FP))
	SUM512(Z4, Y4, X4, s4+40(FP))
	SUM512(Z5, Y5, X5, s5+44(FP))
	VZEROUPPER
	RET

// SUM256 adds the 8 lanes of ymm y (whose low half is x) and the scalar s into
// one float32, stored at dst.
#define SUM256(y, x, s, dst) \
	VEXTRACTF128 $1, y, X12 \
	VADDPS       X12, x, x  \
	VMOVHLPS     x, X12, X12 \
	VADDPS       X12, x, x  \
	VMOVSHDUP    x, X12     \
	VADDSS       X12, x, x  \
	VADDSS       s, x, x    \
	VMOVSS       x, dst

// func gradwSumsAVX2(a *float32, lda, n int) (s0, s1, s2, s3, s4, s5 float32)
TEXT ·gradwSumsAVX2(SB), NOSPLIT, $0-48
	MOVQ   a+0(FP), SI
	MOVQ   lda+8(FP), R10
	SHLQ   $2, R10
	LEAQ   (R10)(R10*2), R8
	LEAQ   (R10)(R10*4), R9
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS X6, X6, X6
	VXORPS X7, X7, X7
	VXORPS X8, X8, X8
	VXORPS X9, X9, X9
	VXORPS X10, X10, X10
	VXORPS X11, X11, X11
	SUBQ   $8, CX
	JB     sums2_tail

sums2_loop:
	VADDPS (SI), Y0, Y0
	VADDPS (SI)(R10*1), Y1, Y1
	VADDPS (SI)(R10*2), Y2, Y2
	VADDPS (SI)(R8*1), Y3, Y3
	VADDPS (SI)(R10*4), Y4, Y4
	VADDPS (SI)(R9*1), Y5, Y5
	ADDQ   $32, SI
	SUBQ   $8, CX
	JAE    sums2_loop

sums2_tail:
	ADDQ $8, CX
	JZ   sums2_reduce

sums2_px: // the n%8 pixels left, one at a time into X6–X11
	VADDSS (SI), X6, X6
	VADDSS (SI)(R10*1), X7, X7
	VADDSS (SI)(R10*2), X8, X8
	VADDSS (SI)(R8*1), X9, X9
	VADDSS (SI)(R10*4), X10, X10
	VADDSS (SI)(R9*1), X11, X11
	ADDQ   $4, SI
	DECQ   CX
	JNZ    sums2_px

sums2_reduce:
	SUM256(Y0, X0, X6, s0+24(FP))
	SUM256(Y1, X1, X7, s1+28(FP))
	SUM256(Y2, X2, X8, s2+32(FP))
	SUM256(Y3, X3, X9, s3+36(FP))
	SUM256(Y4, X4, X10, s4+40(FP))
	SUM256(Y5, X5, X11, s5+44(FP))
	VZEROUPPER
	RET

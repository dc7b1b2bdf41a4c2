//go:build amd64 && !purego

#include "textflag.h"

// func escape32AVX512(b *batch, cy float64, maxIter int)
//
// Iterates the 32 orbits of b.cx (with c's imaginary part cy) in four
// vectors of eight lanes, in the contract's operation order with separate
// VMULPD/VADDPD/VSUBPD (never a fused multiply-add), and stores into b.cnt
// the iteration after which each lane escaped; lanes that never escape, or
// come back exactly to their checkpoint (b.sx, b.sy), keep 0. b.sx, b.sy and
// b.cnt must be zero on entry.
//
// Registers: Z0-Z3 zx, Z4-Z7 zy, Z8-Z11 zx², Z12-Z15 zy², Z16-Z23 temporaries,
// Z24 cy, Z25 4.0, Z26 2.0, Z27 n (int64 lanes), Z28 1 (int64 lanes);
// K1-K4 the lanes still running, K5-K7 temporaries; AX b, CX n, DX maxIter,
// SI the next checkpoint iteration.
TEXT ·escape32AVX512(SB), NOSPLIT, $0-24
	MOVQ b+0(FP), AX
	VBROADCASTSD cy+8(FP), Z24
	MOVQ maxIter+16(FP), DX
	MOVQ $0x4010000000000000, R8 // 4.0
	VPBROADCASTQ R8, Z25
	MOVQ $0x4000000000000000, R8 // 2.0
	VPBROADCASTQ R8, Z26
	MOVQ $1, R8
	VPBROADCASTQ R8, Z28
	VMOVDQA64 Z28, Z27
	MOVQ $0xFF, R8
	KMOVW R8, K1
	KMOVW R8, K2
	KMOVW R8, K3
	KMOVW R8, K4
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	VPXORQ Z12, Z12, Z12
	VPXORQ Z13, Z13, Z13
	VPXORQ Z14, Z14, Z14
	VPXORQ Z15, Z15, Z15
	MOVQ $1, CX
	MOVQ $8, SI

loop:
	VMULPD Z26, Z0, Z16 // 2·zx
	VMULPD Z26, Z1, Z17 // 2·zx
	VMULPD Z26, Z2, Z18 // 2·zx
	VMULPD Z26, Z3, Z19 // 2·zx
	VSUBPD Z12, Z8, Z20 // zx² − zy²
	VSUBPD Z13, Z9, Z21 // zx² − zy²
	VSUBPD Z14, Z10, Z22 // zx² − zy²
	VSUBPD Z15, Z11, Z23 // zx² − zy²
	VMULPD Z4, Z16, Z4 // (2·zx)·zy
	VMULPD Z5, Z17, Z5 // (2·zx)·zy
	VMULPD Z6, Z18, Z6 // (2·zx)·zy
	VMULPD Z7, Z19, Z7 // (2·zx)·zy
	VADDPD 0(AX), Z20, Z0 // zx′ = (zx² − zy²) + cx
	VADDPD 64(AX), Z21, Z1 // zx′ = (zx² − zy²) + cx
	VADDPD 128(AX), Z22, Z2 // zx′ = (zx² − zy²) + cx
	VADDPD 192(AX), Z23, Z3 // zx′ = (zx² − zy²) + cx
	VADDPD Z24, Z4, Z4 // zy′ = (2·zx)·zy + cy
	VADDPD Z24, Z5, Z5 // zy′ = (2·zx)·zy + cy
	VADDPD Z24, Z6, Z6 // zy′ = (2·zx)·zy + cy
	VADDPD Z24, Z7, Z7 // zy′ = (2·zx)·zy + cy
	VMULPD Z0, Z0, Z8 // zx′²
	VMULPD Z1, Z1, Z9 // zx′²
	VMULPD Z2, Z2, Z10 // zx′²
	VMULPD Z3, Z3, Z11 // zx′²
	VMULPD Z4, Z4, Z12 // zy′²
	VMULPD Z5, Z5, Z13 // zy′²
	VMULPD Z6, Z6, Z14 // zy′²
	VMULPD Z7, Z7, Z15 // zy′²
	VADDPD Z12, Z8, Z16 // zx′² + zy′²
	VADDPD Z13, Z9, Z17 // zx′² + zy′²
	VADDPD Z14, Z10, Z18 // zx′² + zy′²
	VADDPD Z15, Z11, Z19 // zx′² + zy′²
	VCMPPD $0x1e, Z25, Z16, K1, K5 // escaped now: > 4 (GT_OQ)
	VMOVDQU64 Z27, K5, 768(AX) // cnt = n
	VCMPPD $0, 256(AX), Z0, K1, K6 // zx′ == sx (EQ_OQ)
	VCMPPD $0, 512(AX), Z4, K6, K6 // and zy′ == sy
	KORW K5, K6, K6
	KANDNW K1, K6, K1 // running &^= escaped | cycled
	VCMPPD $0x1e, Z25, Z17, K2, K5 // escaped now: > 4 (GT_OQ)
	VMOVDQU64 Z27, K5, 832(AX) // cnt = n
	VCMPPD $0, 320(AX), Z1, K2, K6 // zx′ == sx (EQ_OQ)
	VCMPPD $0, 576(AX), Z5, K6, K6 // and zy′ == sy
	KORW K5, K6, K6
	KANDNW K2, K6, K2 // running &^= escaped | cycled
	VCMPPD $0x1e, Z25, Z18, K3, K5 // escaped now: > 4 (GT_OQ)
	VMOVDQU64 Z27, K5, 896(AX) // cnt = n
	VCMPPD $0, 384(AX), Z2, K3, K6 // zx′ == sx (EQ_OQ)
	VCMPPD $0, 640(AX), Z6, K6, K6 // and zy′ == sy
	KORW K5, K6, K6
	KANDNW K3, K6, K3 // running &^= escaped | cycled
	VCMPPD $0x1e, Z25, Z19, K4, K5 // escaped now: > 4 (GT_OQ)
	VMOVDQU64 Z27, K5, 960(AX) // cnt = n
	VCMPPD $0, 448(AX), Z3, K4, K6 // zx′ == sx (EQ_OQ)
	VCMPPD $0, 704(AX), Z7, K6, K6 // and zy′ == sy
	KORW K5, K6, K6
	KANDNW K4, K6, K4 // running &^= escaped | cycled
	KORW K1, K2, K5
	KORW K3, K4, K6
	KORTESTW K5, K6
	JZ done
	CMPQ CX, DX
	JEQ done
	CMPQ CX, SI
	JNE next
	VMOVUPD Z0, 256(AX) // checkpoint
	VMOVUPD Z4, 512(AX)
	VMOVUPD Z1, 320(AX) // checkpoint
	VMOVUPD Z5, 576(AX)
	VMOVUPD Z2, 384(AX) // checkpoint
	VMOVUPD Z6, 640(AX)
	VMOVUPD Z3, 448(AX) // checkpoint
	VMOVUPD Z7, 704(AX)
	SHLQ $1, SI

next:
	INCQ CX
	VPADDQ Z28, Z27, Z27
	JMP loop

done:
	VZEROUPPER
	RET

//go:build amd64 && !purego

#include "textflag.h"

// func escape12AVX2(b *batch12, maxIter int)
//
// escape32AVX512 for CPUs with AVX2 but not AVX-512: three vectors of four
// lanes, the same operations in the same order (separate VMULPD, VADDPD,
// VSUBPD, never a fused multiply-add). Without mask registers, the escape
// and cycle tests become bit masks in general registers (VMOVMSKPD), and
// a lane that escapes has its count stored by a scalar store, once per
// lane. b.sx, b.sy and b.cnt must be zero on entry; b.two, b.four and b.cy
// hold 2, 4 and cy in every lane.
//
// Registers: Y0-Y2 zx, Y3-Y5 zy, Y6-Y8 zx², Y9-Y11 zy², Y12-Y14 and Y15
// temporaries; AX b, CX n, DX maxIter, SI the next checkpoint, R10-R12 the
// running lanes of each vector (4 bits), R8, R9, BX, DI temporaries.
TEXT ·escape12AVX2(SB), NOSPLIT, $0-16
	MOVQ b+0(FP), AX
	MOVQ maxIter+8(FP), DX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	MOVQ $15, R10
	MOVQ $15, R11
	MOVQ $15, R12
	MOVQ $1, CX
	MOVQ $8, SI

loop:
	VMULPD 384(AX), Y0, Y12 // 2·zx
	VMULPD 384(AX), Y1, Y13 // 2·zx
	VMULPD 384(AX), Y2, Y14 // 2·zx
	VMULPD Y3, Y12, Y3 // (2·zx)·zy
	VMULPD Y4, Y13, Y4 // (2·zx)·zy
	VMULPD Y5, Y14, Y5 // (2·zx)·zy
	VSUBPD Y9, Y6, Y12 // zx² − zy²
	VSUBPD Y10, Y7, Y13 // zx² − zy²
	VSUBPD Y11, Y8, Y14 // zx² − zy²
	VADDPD 448(AX), Y3, Y3 // zy′ = (2·zx)·zy + cy
	VADDPD 448(AX), Y4, Y4 // zy′ = (2·zx)·zy + cy
	VADDPD 448(AX), Y5, Y5 // zy′ = (2·zx)·zy + cy
	VADDPD 0(AX), Y12, Y0 // zx′ = (zx² − zy²) + cx
	VADDPD 32(AX), Y13, Y1 // zx′ = (zx² − zy²) + cx
	VADDPD 64(AX), Y14, Y2 // zx′ = (zx² − zy²) + cx
	VMULPD Y0, Y0, Y6 // zx′²
	VMULPD Y1, Y1, Y7 // zx′²
	VMULPD Y2, Y2, Y8 // zx′²
	VMULPD Y3, Y3, Y9 // zy′²
	VMULPD Y4, Y4, Y10 // zy′²
	VMULPD Y5, Y5, Y11 // zy′²
	VADDPD Y9, Y6, Y12 // zx′² + zy′²
	VADDPD Y10, Y7, Y13 // zx′² + zy′²
	VADDPD Y11, Y8, Y14 // zx′² + zy′²
	VCMPPD $0x1e, 416(AX), Y12, Y12 // > 4 (GT_OQ)
	VMOVMSKPD Y12, R8
	VCMPPD $0, 96(AX), Y0, Y12 // zx′ == sx (EQ_OQ)
	VCMPPD $0, 192(AX), Y3, Y15 // zy′ == sy
	VANDPD Y15, Y12, Y12
	VMOVMSKPD Y12, R9
	ANDQ R10, R8 // escaped now
	ANDQ R10, R9 // cycled now
	TESTQ R8, R8
	JZ kept0
	MOVQ R8, BX
record0:
	BSFQ BX, DI
	MOVQ CX, 288(AX)(DI*8) // cnt = n
	LEAQ -1(BX), DI
	ANDQ DI, BX
	JNZ record0
kept0:
	ORQ R8, R9
	NOTQ R9
	ANDQ R9, R10 // running &^= escaped | cycled
	VCMPPD $0x1e, 416(AX), Y13, Y13 // > 4 (GT_OQ)
	VMOVMSKPD Y13, R8
	VCMPPD $0, 128(AX), Y1, Y13 // zx′ == sx (EQ_OQ)
	VCMPPD $0, 224(AX), Y4, Y15 // zy′ == sy
	VANDPD Y15, Y13, Y13
	VMOVMSKPD Y13, R9
	ANDQ R11, R8 // escaped now
	ANDQ R11, R9 // cycled now
	TESTQ R8, R8
	JZ kept1
	MOVQ R8, BX
record1:
	BSFQ BX, DI
	MOVQ CX, 320(AX)(DI*8) // cnt = n
	LEAQ -1(BX), DI
	ANDQ DI, BX
	JNZ record1
kept1:
	ORQ R8, R9
	NOTQ R9
	ANDQ R9, R11 // running &^= escaped | cycled
	VCMPPD $0x1e, 416(AX), Y14, Y14 // > 4 (GT_OQ)
	VMOVMSKPD Y14, R8
	VCMPPD $0, 160(AX), Y2, Y14 // zx′ == sx (EQ_OQ)
	VCMPPD $0, 256(AX), Y5, Y15 // zy′ == sy
	VANDPD Y15, Y14, Y14
	VMOVMSKPD Y14, R9
	ANDQ R12, R8 // escaped now
	ANDQ R12, R9 // cycled now
	TESTQ R8, R8
	JZ kept2
	MOVQ R8, BX
record2:
	BSFQ BX, DI
	MOVQ CX, 352(AX)(DI*8) // cnt = n
	LEAQ -1(BX), DI
	ANDQ DI, BX
	JNZ record2
kept2:
	ORQ R8, R9
	NOTQ R9
	ANDQ R9, R12 // running &^= escaped | cycled
	MOVQ R10, BX
	ORQ R11, BX
	ORQ R12, BX
	JZ done
	CMPQ CX, DX
	JEQ done
	CMPQ CX, SI
	JNE next
	VMOVUPD Y0, 96(AX) // checkpoint
	VMOVUPD Y3, 192(AX)
	VMOVUPD Y1, 128(AX) // checkpoint
	VMOVUPD Y4, 224(AX)
	VMOVUPD Y2, 160(AX) // checkpoint
	VMOVUPD Y5, 256(AX)
	SHLQ $1, SI

next:
	INCQ CX
	JMP loop

done:
	VZEROUPPER
	RET

//go:build amd64 && !purego

#include "textflag.h"

// func outside32AVX512(b *lanes32, iters uint64)
//
// Draws iters·32 SplitMix64 samples in four vectors of eight lanes: lane j
// starts at state b.s[j] and steps by 32·golden. For each sample it adds 1
// to b.out[j] when x² + y² ≥ 2^64 (the 64-bit sum carries), exactly as
// outside1. VPMULLQ needs AVX512DQ.
//
// Registers: Z0-Z3 states, Z4 the step, Z5 mul1, Z6 mul2, Z7 1, Z8-Z11
// counts, Z12-Z19 temporaries; AX b, CX iterations left.
TEXT ·outside32AVX512(SB), NOSPLIT, $0-16
	MOVQ b+0(FP), AX
	MOVQ iters+8(FP), CX
	VMOVDQU64 0(AX), Z0
	VMOVDQU64 64(AX), Z1
	VMOVDQU64 128(AX), Z2
	VMOVDQU64 192(AX), Z3
	MOVQ $0xBF58476D1CE4E5B9, R8
	VPBROADCASTQ R8, Z5
	MOVQ $0x94D049BB133111EB, R8
	VPBROADCASTQ R8, Z6
	MOVQ $0xC6EF372FE94F82A0, R8 // 32·golden mod 2^64
	VPBROADCASTQ R8, Z4
	MOVQ $1, R8
	VPBROADCASTQ R8, Z7
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	TESTQ CX, CX
	JZ done

loop:
	VPSRLQ $30, Z0, Z12
	VPSRLQ $30, Z1, Z13
	VPSRLQ $30, Z2, Z14
	VPSRLQ $30, Z3, Z15
	VPXORQ Z0, Z12, Z12 // s ^ s>>30
	VPXORQ Z1, Z13, Z13 // s ^ s>>30
	VPXORQ Z2, Z14, Z14 // s ^ s>>30
	VPXORQ Z3, Z15, Z15 // s ^ s>>30
	VPMULLQ Z5, Z12, Z12 // · mul1
	VPMULLQ Z5, Z13, Z13 // · mul1
	VPMULLQ Z5, Z14, Z14 // · mul1
	VPMULLQ Z5, Z15, Z15 // · mul1
	VPSRLQ $27, Z12, Z16
	VPSRLQ $27, Z13, Z17
	VPSRLQ $27, Z14, Z18
	VPSRLQ $27, Z15, Z19
	VPXORQ Z16, Z12, Z12 // z ^ z>>27
	VPXORQ Z17, Z13, Z13 // z ^ z>>27
	VPXORQ Z18, Z14, Z14 // z ^ z>>27
	VPXORQ Z19, Z15, Z15 // z ^ z>>27
	VPMULLQ Z6, Z12, Z12 // · mul2
	VPMULLQ Z6, Z13, Z13 // · mul2
	VPMULLQ Z6, Z14, Z14 // · mul2
	VPMULLQ Z6, Z15, Z15 // · mul2
	VPSRLQ $31, Z12, Z16
	VPSRLQ $31, Z13, Z17
	VPSRLQ $31, Z14, Z18
	VPSRLQ $31, Z15, Z19
	VPXORQ Z16, Z12, Z12 // z ^ z>>31
	VPXORQ Z17, Z13, Z13 // z ^ z>>31
	VPXORQ Z18, Z14, Z14 // z ^ z>>31
	VPXORQ Z19, Z15, Z15 // z ^ z>>31
	VPADDQ Z4, Z0, Z0 // next state
	VPADDQ Z4, Z1, Z1 // next state
	VPADDQ Z4, Z2, Z2 // next state
	VPADDQ Z4, Z3, Z3 // next state
	VPSHUFD $0xb1, Z12, Z16 // x in the low half (a shuffle, off the shift port)
	VPSHUFD $0xb1, Z13, Z17 // x in the low half (a shuffle, off the shift port)
	VPSHUFD $0xb1, Z14, Z18 // x in the low half (a shuffle, off the shift port)
	VPSHUFD $0xb1, Z15, Z19 // x in the low half (a shuffle, off the shift port)
	VPMULUDQ Z16, Z16, Z16 // x²
	VPMULUDQ Z17, Z17, Z17 // x²
	VPMULUDQ Z18, Z18, Z18 // x²
	VPMULUDQ Z19, Z19, Z19 // x²
	VPMULUDQ Z12, Z12, Z12 // y² (the low 32 bits)
	VPMULUDQ Z13, Z13, Z13 // y² (the low 32 bits)
	VPMULUDQ Z14, Z14, Z14 // y² (the low 32 bits)
	VPMULUDQ Z15, Z15, Z15 // y² (the low 32 bits)
	VPADDQ Z16, Z12, Z12 // x² + y² mod 2^64
	VPADDQ Z17, Z13, Z13 // x² + y² mod 2^64
	VPADDQ Z18, Z14, Z14 // x² + y² mod 2^64
	VPADDQ Z19, Z15, Z15 // x² + y² mod 2^64
	VPCMPUQ $1, Z16, Z12, K1 // carried: sum < x²
	VPCMPUQ $1, Z17, Z13, K2 // carried: sum < x²
	VPCMPUQ $1, Z18, Z14, K3 // carried: sum < x²
	VPCMPUQ $1, Z19, Z15, K4 // carried: sum < x²
	VPADDQ Z7, Z8, K1, Z8
	VPADDQ Z7, Z9, K2, Z9
	VPADDQ Z7, Z10, K3, Z10
	VPADDQ Z7, Z11, K4, Z11
	DECQ CX
	JNZ loop

done:
	VMOVDQU64 Z8, 256(AX)
	VMOVDQU64 Z9, 320(AX)
	VMOVDQU64 Z10, 384(AX)
	VMOVDQU64 Z11, 448(AX)
	VZEROUPPER
	RET

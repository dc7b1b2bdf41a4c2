// Package exact accumulates sums of float64 values without rounding.
//
// A [Sum] is a fixed-point superaccumulator: a long two's-complement number
// whose least significant bit is worth 2^-2148 (the value of the square of
// the smallest subnormal float64), held in 136 int64 limbs of which each
// carries 32 bits of the number at a fixed position, 4352 bits in all. Every
// finite float64 x is an integer mantissa m < 2^53 times 2^e with
// -1074 ≤ e ≤ 971, so x is added exactly by splitting m, shifted to its bit
// position, over three limbs; x² = m²·2^(2e) with m² < 2^106 (computed with
// math/bits.Mul64) is added over five limbs. Nothing is ever rounded: the
// largest possible sum of 2^40 squares, below 2^2089, sits far below the top
// limb.
//
// # Carries
//
// A limb receives at most 2^32−1 per addition and an int64 holds 2^63, so
// carries are not propagated on every addition: they are normalised (each
// limb but the top one brought into [0, 2^32)) once every 2^30 additions,
// before merging sums whose pending additions would together exceed that,
// and before reading the value. Adding is therefore a handful of integer
// operations, a few nanoseconds.
//
// # Results
//
// [Sum.Rat] returns the exact value; [Sum.Float64] rounds it once to the
// nearest float64 (ties to even, subnormals included, ±Inf when it
// overflows). Because the value is exact, the order of additions and the
// way a sum is split and merged never change the result: this is what makes
// the results of chunked jobs independent of the chunking.
//
// # Encoding
//
// [Sum.MarshalBinary] writes only the span of non-zero limbs in sign and
// magnitude form, so equal sums always have equal encodings:
//
//	byte 0      format version, 1
//	byte 1      sign: 0 for zero or positive, 1 for negative
//	byte 2      index of the lowest non-zero limb (0 when the sum is zero)
//	byte 3      number of limbs that follow, k (0 when the sum is zero)
//	4·k bytes   the limbs' 32-bit magnitudes, little-endian, lowest first;
//	            the first and the last are non-zero
//
// Limb i is worth 2^(32·i − 2148). [Sum.UnmarshalBinary] accepts exactly
// this canonical form and reports anything else as an error.
package exact

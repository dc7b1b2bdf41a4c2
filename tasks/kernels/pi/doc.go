// Package pi is the crunch kernel "pi": a Monte Carlo estimate of π from
// points drawn in the unit square, counting those inside the quarter disc.
//
// # Params and result
//
// Params: samples (1 to 10^11, required) and seed (0 to 2^63−1, default 0).
// Result, in this order:
//
//	{"samples": N, "inside": K, "estimate": 4·K/N, "stderr": 4·√(p(1−p)/N)}
//
// # The sampling algorithm, exactly
//
// Everything is unsigned 64-bit integer arithmetic modulo 2^64; ⊕ is
// exclusive or and ≫ a logical right shift. Sample i, for 0 ≤ i < samples,
// is computed from seed and i alone:
//
//	s = seed + (i+1)·0x9E3779B97F4A7C15
//	z = (s ⊕ (s ≫ 30)) · 0xBF58476D1CE4E5B9
//	z = (z ⊕ (z ≫ 27)) · 0x94D049BB133111EB
//	z = z ⊕ (z ≫ 31)
//	x = z ≫ 32            (the high 32 bits)
//	y = z mod 2^32        (the low 32 bits)
//	inside  ⇔  x² + y² < 2^64   (exact: x², y² < 2^64, the sum computed
//	                             with a carry out, so inside ⇔ no carry)
//
// z is the (i+1)-th output of the standard SplitMix64 generator (Steele,
// Lea and Flood, "Fast splittable pseudorandom number generators", 2014;
// Vigna's splitmix64.c, Java's SplittableRandom) seeded with seed, so the
// stream can be reproduced with any SplitMix64 implementation: call next()
// samples times from state seed. The point is (x/2^32, y/2^32), the lower
// left corner of a cell of a 2^32 × 2^32 grid of the unit square; the
// share of grid points inside exceeds π/4 by about 2^−32, a bias of the
// estimate near 10^−9, far below its standard error even at 10^11
// samples (about 5·10^−6). [Point] is this definition in Go.
//
// No floating point is involved until the very end, so inside is the
// same on every platform.
//
// # Why the result does not depend on the chunking
//
// inside is a sum of per-sample indicators, each a pure function of
// (seed, i) — a counter-based generator, with no state carried from one
// sample to the next. A chunk draws the samples [Lo, Hi) of its range
// (split further over the cores), starting its state at seed + Lo·γ, and
// reports how many were inside; Reduce adds the integer counts, which
// does not depend on how [0, samples) was cut.
//
// # The float results
//
// With n = float64(samples) and k = float64(inside), both exact since
// they are below 2^53, each step rounded to float64 in this order, with
// no fused multiply-add: estimate = (4·k)/n; p = k/n; q = 1−p;
// v = (p·q)/n; stderr = 4·√v (math.Sqrt, correctly rounded). They are
// encoded by encoding/json (shortest representation that round-trips).
//
// # SIMD
//
// On amd64 CPUs with AVX-512F and AVX-512DQ (checked at run time with
// golang.org/x/sys/cpu) samples are drawn 32 at a time by outside32AVX512
// (outside_amd64.s): four vectors of eight SplitMix64 states stepping by
// 32·γ, the two 64-bit products by VPMULLQ, x² and y² by VPMULUDQ, and the
// carry of x² + y² found by an unsigned compare (the sum wrapped iff it is
// below x²). It is the same integer arithmetic, so the same points are
// inside; TestPathsMatchPoint checks every path the CPU has against Point,
// sample by sample. Ranges are cut into multiples of 32 for it, the rest
// drawn by the pure-Go countInside (the build tag purego, or a CPU without
// AVX-512DQ, leaves only that). Measured here: 3.2–6.1×, median 4.1×, the
// pure-Go path's samples per second on one core (BenchmarkPaths, five runs
// on a loaded machine), bound by VPMULLQ, three micro-ops on one port; x is
// moved to the low half by VPSHUFD rather than a shift, off that port.
//
// # Partials
//
// 17 bytes: a version byte (1), then the chunk's number of samples and
// its inside count, little-endian uint64s. Reduce checks the sample count
// against the chunk's range and inside ≤ samples.
package pi

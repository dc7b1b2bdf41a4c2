// Package stats is the crunch kernel "stats": count, sum, mean, minimum,
// maximum, population variance and standard deviation of a list of numbers,
// computed exactly and rounded once.
//
// # Params and result
//
// Params: values, an array of 1 or more finite numbers with |x| ≤ 10^150
// (required). They are bulk input: stored once with the job as
// little-endian float64s, 8 bytes per value, and never echoed (the echoed
// params are {}). Result, in this order:
//
//	{"count": n, "sum": …, "mean": …, "min": …, "max": …, "variance": …, "stddev": …}
//
// # Exact arithmetic
//
// With S1 = Σx and S2 = Σx² summed exactly over the float64 inputs (in an
// [exact.Sum] each, a fixed-point accumulator wide enough for any sum of
// float64s and of their squares) and n the count:
//
//	sum      = round(S1)
//	mean     = round(S1/n)
//	variance = round((n·S2 − S1²)/n²)   (exact rational arithmetic, math/big)
//	stddev   = math.Sqrt(variance)      (of the rounded variance)
//
// where round is to the nearest float64, ties to even. Exact sums have no
// signed zero: a sum or mean that is exactly 0 is +0. So the variance of
// 10^15+1, 10^15+2, 10^15+3 is exactly 2/3 rounded, where the textbook
// float formulas lose every digit. The bound |x| ≤ 10^150 keeps x² ≤ 10^300
// and every result finite.
//
// min and max compare in the IEEE total order, in which −0 < +0: the
// minimum of [0, -0] is -0 whatever the order of the values, and JSON shows
// it as -0.
//
// # Why the result does not depend on the chunking
//
// A chunk reads only its values [Lo, Hi) (bytes [8·Lo, 8·Hi) of the input),
// split further over the cores, and reports their count, their exact S1 and
// S2, and their minimum and maximum. Exact sums are associative and
// commutative, and so are min and max in a total order, so Reduce merges
// the partials into the very same S1, S2, min and max for any chunking, and
// the single rounding at the end gives byte-identical results.
//
// # Parsing the values
//
// A request of millions of numbers spends its time in parsing. The fast
// path of Prepare (fastparse.go) scans {"values": [...]} once, without
// copying the body, and parses each number in the scan that checks its
// JSON grammar: the digits go into a uint64 m and a decimal exponent e, and
// when m ≤ 2^53 and |e| ≤ 22 the value is float64(m) multiplied or divided
// by the exact float64 10^|e|, one correctly rounded IEEE operation on
// exact operands (Clinger's fast path, which strconv.ParseFloat also takes
// first); longer or larger numbers go to strconv.ParseFloat. So the values
// are bit for bit strconv.ParseFloat's, which FuzzParseNumber and
// TestParseNumberAgainstStrconv check. Measured here on a 32 MiB body of
// 4 Mi numbers, in MB per CPU-second of the parsing thread: median 3.1×
// (1.8–5.4× over five paired runs on a loaded machine) the previous fast
// path, which called numberEnd, then strconv.ParseFloat on the token
// (BenchmarkFastInputRef4M is that code, kept in the tests). Parsing eight
// digits at a time with word arithmetic was tried and was slower for
// numbers of a few digits.
//
// # Partials
//
// Version byte 1; the count as a uvarint; when the count is not 0 the
// minimum and maximum as little-endian float64 bits; the length of the
// encoded S1 as a uvarint, then S1 and S2 in the [exact.Sum.MarshalBinary]
// encoding. Reduce rejects anything else, and checks that the counts add
// up to the number of values.
package stats

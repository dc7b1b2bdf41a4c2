// Package primes is the crunch kernel "primes": it counts and sums the
// primes p with from ≤ p < to.
//
// # Params and result
//
// Params: from (≥ 0, default 0) and to (required), with from < to ≤ 10^12
// and to − from ≤ 10^11. Result, in this order:
//
//	{"count": N, "sum": "decimal string", "first": p|null, "last": p|null}
//
// sum is a string because the sum of the primes below 10^12 exceeds 2^64
// (and 2^53); it is "0", and first and last are null, when there are no
// primes in the range.
//
// # Algorithm
//
// A segmented sieve of Eratosthenes on a mod-30 wheel: only the numbers
// coprime to 30 are represented, one bit each, so a byte covers 30
// integers (bit k of global byte B stands for 30·B + wheel[k], wheel =
// 1, 7, 11, 13, 17, 19, 23, 29) and a 64-bit word covers 240. A set bit
// means "composite". The primes 2, 3 and 5 are counted apart.
//
//   - The sieving primes, the primes up to 10^6 = √(10^12), are computed
//     once per process by a plain sieve (a few milliseconds) and shared
//     read-only; a piece uses those up to the square root of its last
//     number.
//   - The multiples of 7 … 107 are not crossed off one by one: the
//     multiples of p repeat every p words, so each block is filled in one
//     pass with the OR of 12 precomputed word patterns (7·11·13 = 1001
//     words, then the pairs 17·19, 23·29, …, 103·107, at most 11,021
//     words; about 330 KB in all, L2-resident). Word 0 (the numbers below
//     240), where the patterns also mark those primes themselves, is fixed
//     from a constant.
//   - The numbers are sieved a block of 512 KiB (15,728,640 integers) at a
//     time, which stays in L2. A prime p's multiples p·m with m coprime to
//     30 repeat their pattern of 8 bytes and bits every p bytes (one turn
//     of the wheel), so they are crossed off eight per iteration by one of
//     64 functions specialised for (p mod 30, m mod 30), with the bit masks
//     as constants and the byte offsets computed once per prime per block
//     (wheel_gen.go, written by genwheel.go: go generate); the last few
//     one at a time. The primes below 8192, which make most of the hits,
//     are crossed off one 64 KiB sub-block at a time, so their bytes are
//     still in L1 (or close); the others over the whole block. Each prime
//     keeps a cursor to its next multiple (byte offset and wheel index)
//     from one block to the next, so only the first block of a piece pays
//     a division per prime. (primesieve goes further for large primes with
//     bucket sieving; that matters near 10^12, not for π(10^10).)
//   - Pieces of at most 8192 words (1,966,080 integers), such as the chunks
//     of a job split into more chunks than it needs, take a simpler path:
//     one segment of just those words, every prime walked from its first
//     multiple.
//   - Primes are counted with popcounts, and summed without visiting them:
//     the prime at bit t of word W is 240·W + 30·(t/8) + wheel[t%8], so the
//     segment's sum is 240·Σ_W count_W·W + 30·Σ(t/8) + Σwheel[t%8], where
//     Σ(t/8) = Σ_j 2^j·popcount(w & byteMask_j) and Σwheel[t%8] =
//     Σ_j 2^j·popcount(w & residueMask_j): eight masked popcounts per word,
//     summed over the whole segment and weighted once at its end; first
//     and last come from the first and last non-zero words. Sums are
//     128-bit integers (math/bits carries), formatted with math/big only in
//     Reduce.
//
// A chunk's numbers are split into about four pieces per core, cut at
// multiples of a whole number of blocks, and sieved in parallel by an
// errgroup limited to GOMAXPROCS; the pieces' tallies are added in order.
// Each piece checks ctx before every block (a few milliseconds of work).
//
// Figures (BENCHMARKS.md, scripts/primesbench): π(10^10) in
// 1.36–1.64× primesieve 11's CPU time on one thread (medians of three
// runs in four sessions on a loaded 2-core machine, beside it in each run),
// 1.47–1.51× on two; before the specialised crossing-off, the assembly and
// the one-pass presieve it was about 2.1×.
//
// # Why the result does not depend on the chunking
//
// Chunk k of n covers the integers [from + lo, from + hi) of
// tasks.ChunkRange; the chunks partition [from, to). Whether a number is
// prime does not depend on which chunk sieves it (every chunk sieves with
// all the primes up to the square root of its own last number), so the
// chunks' counts and 128-bit sums add up exactly to the same totals, and
// the first and last primes are those of the first and last chunks that
// found any. All arithmetic is on integers.
//
// # Partials
//
// 41 bytes: a version byte (1), then count, sum high 64 bits, sum low 64
// bits, first and last prime (0 when none), each a little-endian uint64.
// Reduce checks each against its chunk's range: first and last inside it,
// first ≤ last, count consistent with them, sum = first when count is 1,
// and everything zero when count is 0.
package primes

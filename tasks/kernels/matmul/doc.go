// Package matmul multiplies two matrices, C = A·B, and reports C's exact
// checksum and Frobenius norm (and C itself when it has at most 65536
// entries).
//
// # Forms
//
// The matrices are either given, as a and b (at most 512×512 each, entries
// with |x| ≤ 10^50), or random: n×n matrices A and B generated from n and
// seed. Given matrices are stored once as the job's input,
//
//	bytes 0–3    "MMI1"
//	bytes 4–15   rows, inner, cols: uint32 little-endian
//	then         A's rows·inner entries, then B's inner·cols entries, row
//	             by row, little-endian IEEE 754 binary64
//
// and are never echoed in the params ({} for this form; {"n", "seed"} for
// the random form).
//
// # Random entries
//
// Entry (i, j) of matrix m (m = 0 for A, 1 for B) is a pure function of
// (seed, m, i, j), so a chunk generates only its rows of A (and all of B).
// It is output number ctr = m·2^48 + i·2^24 + j of SplitMix64 keyed by the
// seed, all arithmetic modulo 2^64:
//
//	mix(z)  = z ^= z>>30; z *= 0xBF58476D1CE4E5B9;
//	          z ^= z>>27; z *= 0x94D049BB133111EB; z ^ z>>31
//	γ       = 0x9E3779B97F4A7C15
//	key     = mix(seed + γ)
//	bits    = mix(key + (ctr+1)·γ)
//	entry   = (int64(bits>>10) − 2^53) · 2^-53
//
// so every entry is a multiple of 2^-53 in [-1, 1), converted exactly.
//
// # Arithmetic
//
// The extent is the rows of C: a chunk computes rows [lo, hi) of C with
// gonum's pure-Go Dgemm (gonum.org/v1/gonum/blas/gonum, called directly so
// that no other BLAS can be swapped in), in row blocks of about 2^30
// operations between which it checks the context; Dgemm spreads each block
// over every core in 64×64 tiles of C.
//
// Every entry is computed by Dgemm as
//
//	C[i][j] = ((0 + A[i][0]·B[0][j]) + A[i][1]·B[1][j]) + … + A[i][k−1]·B[k−1][j]
//
// in ascending order of the inner index, each product and each sum rounded
// (terms with A[i][l] = 0 are skipped, which changes nothing: the sum
// cannot be −0). This was read in gonum v0.17.0's dgemm.go: with neither
// matrix transposed, each 64×64 tile of C is owned by one goroutine, which
// walks the inner dimension in blocks of 64 in ascending order and, for each
// row i and inner index l, adds A[i][l]·B[l][j:] to C[i][j:] with
// AxpyUnitary. The tiling of C and the number of rows in the call change
// which goroutine computes an entry, never the order of its terms; the
// tests check that one chunk and many give bit-identical C. On amd64
// AxpyUnitary is SSE2 assembly with separate multiply and add; other
// architectures use gonum's Go loop, which the compiler may fuse into
// multiply-adds, so a fleet of workers should share one architecture.
//
// # Sums
//
// A chunk adds its entries of C, and their squares, to two exact
// accumulators (internal/exact) and sends their encodings in its partial,
// with its rows of C when the result lists C:
//
//	bytes 0–3    "MMP1"
//	bytes 4–15   lo, hi, cols: uint32 little-endian
//	then         the sum and the sum of squares, each a uint32
//	             little-endian length and exact.Sum's encoding
//	then         (hi−lo)·cols entries of C, row by row, only when
//	             rows·cols ≤ 65536
//
// Reduce merges the sums exactly and rounds once: checksum is the sum of
// all entries rounded to float64, frobenius the square root of the sum of
// squares rounded to float64.
//
// # Why the result does not depend on the chunking
//
// Every entry of C is computed entirely inside one chunk, by a summation
// whose order does not depend on where the chunk begins or ends, so C is
// the same bits for every chunking; the sums over C are exact, so they do
// not depend on how C's entries are grouped; and Reduce checks that the
// partials tile [0, rows) in order before concatenating the rows of C.
package matmul

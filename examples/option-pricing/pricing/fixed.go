package pricing

import (
	"encoding/binary"
	"math/big"
	"math/bits"
)

// The exact accumulator: every path's payoff is a whole number of units
// (see Resolution) below 2^63; sums of them are kept in 128 bits and sums
// of their squares in 192 bits, which 10^10 paths cannot overflow (their
// sums stay below 2^96 and 2^158). Integer addition is exact and does not
// depend on the order, so the sums of a job are the same however its paths
// are cut into chunks and pieces.

// sums are the exact sums of one option's payoffs over some paths.
type sums struct {
	sum [2]uint64 // Σ units, little-endian words
	sq  [3]uint64 // Σ units², little-endian words
}

// add adds one payoff of v units.
func (s *sums) add(v uint64) {
	var c uint64
	s.sum[0], c = bits.Add64(s.sum[0], v, 0)
	s.sum[1] += c
	hi, lo := bits.Mul64(v, v)
	s.sq[0], c = bits.Add64(s.sq[0], lo, 0)
	s.sq[1], c = bits.Add64(s.sq[1], hi, c)
	s.sq[2] += c
}

// merge adds t to s; it reports false if the sums overflowed, which no
// partial that Run made can cause.
func (s *sums) merge(t sums) bool {
	var c uint64
	s.sum[0], c = bits.Add64(s.sum[0], t.sum[0], 0)
	s.sum[1], c = bits.Add64(s.sum[1], t.sum[1], c)
	if c != 0 {
		return false
	}
	s.sq[0], c = bits.Add64(s.sq[0], t.sq[0], 0)
	s.sq[1], c = bits.Add64(s.sq[1], t.sq[1], c)
	s.sq[2], c = bits.Add64(s.sq[2], t.sq[2], c)
	return c == 0
}

// big returns the sums as big integers, for the final arithmetic.
func (s *sums) big() (sum, sq *big.Int) {
	return words(s.sum[:]), words(s.sq[:])
}

func words(w []uint64) *big.Int {
	n := new(big.Int)
	for i := len(w) - 1; i >= 0; i-- {
		n.Lsh(n, 64).Or(n, new(big.Int).SetUint64(w[i]))
	}
	return n
}

const sumsSize = 5 * 8

func (s *sums) append(b []byte) []byte {
	for _, w := range append(s.sum[:], s.sq[:]...) {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b
}

func (s *sums) decode(b []byte) {
	for i := range s.sum {
		s.sum[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	for i := range s.sq {
		s.sq[i] = binary.LittleEndian.Uint64(b[16+8*i:])
	}
}

package exact

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
)

const (
	// numLimbs limbs of limbBits bits each cover 4352 bits from minExp.
	numLimbs = 136
	limbBits = 32
	limbMask = 1<<limbBits - 1
	// minExp is the weight of bit 0 of limb 0: the square of the smallest
	// subnormal float64 is 2^-2148.
	minExp = -2148
	// normEvery bounds the additions between two carry normalisations, so
	// that every limb stays below 2^62 in magnitude.
	normEvery = 1 << 30

	formatVersion = 1
	headerLen     = 4
)

var (
	// ErrCorrupt is returned by UnmarshalBinary for input that is not a
	// canonical encoding of a Sum.
	ErrCorrupt = errors.New("exact: corrupt encoding of a sum")
	// ErrTooLarge is returned by MarshalBinary for a sum of at least
	// 2^2204 in magnitude, which no realistic sequence of additions reaches.
	ErrTooLarge = errors.New("exact: sum too large to encode")
)

// Sum accumulates float64 values exactly: nothing is rounded until Float64
// or Rat. The zero value is an empty sum. A Sum is not safe for concurrent
// use; give each goroutine its own and Merge them.
type Sum struct {
	// limbs[i] is worth limbs[i]·2^(32·i + minExp); limbs may be negative
	// or exceed 32 bits until normalised.
	limbs [numLimbs]int64
	// n bounds every limb's magnitude to n·2^32: additions since the last
	// normalisation, plus one.
	n int64
}

// Add adds x exactly. It panics when x is not finite.
func (s *Sum) Add(x float64) {
	// |x| = m·2^(b−1075) with m < 2^53, b ≥ 1; the code has no branch on
	// the data, so mixed normal and subnormal inputs cost the same.
	u := math.Float64bits(x)
	b := uint(u>>52) & 0x7ff
	if b == 0x7ff {
		panicNonFinite(x)
	}
	normal := uint64(b+0x7ff) >> 11 // 1 unless zero or subnormal
	m := u&(1<<52-1) | normal<<52
	b |= uint(normal ^ 1) // subnormals are m·2^-1074, like b = 1
	neg := int64(u) >> 63 // 0 or -1: v ^ neg - neg is ±v
	// Bit position of m's lowest bit: (b − 1075) − minExp.
	pos := b + 1073
	sh := pos % limbBits
	lo := m << sh
	hi := m >> (64 - sh) // 0 when sh is 0
	if s.n >= normEvery {
		s.normalize()
	}
	s.n++
	l := s.limbs[pos/limbBits:][:3]
	l[0] += (int64(lo&limbMask) ^ neg) - neg
	l[1] += (int64(lo>>limbBits) ^ neg) - neg
	l[2] += (int64(hi) ^ neg) - neg
}

// AddSquare adds x·x exactly, however small or large x is. It panics when x
// is not finite.
func (s *Sum) AddSquare(x float64) {
	u := math.Float64bits(x)
	b := uint(u>>52) & 0x7ff
	if b == 0x7ff {
		panicNonFinite(x)
	}
	normal := uint64(b+0x7ff) >> 11
	m := u&(1<<52-1) | normal<<52
	b |= uint(normal ^ 1)
	// x² = m²·2^(2b − 2150); bit position 2b − 2150 − minExp.
	pos := 2*b - 2
	sh := pos % limbBits
	hi, lo := bits.Mul64(m, m) // hi < 2^42
	w0 := lo << sh
	w1 := hi<<sh | lo>>(64-sh)
	w2 := hi >> (64 - sh)
	if s.n >= normEvery {
		s.normalize()
	}
	s.n++
	l := s.limbs[pos/limbBits:][:5]
	l[0] += int64(w0 & limbMask)
	l[1] += int64(w0 >> limbBits)
	l[2] += int64(w1 & limbMask)
	l[3] += int64(w1 >> limbBits)
	l[4] += int64(w2)
}

//go:noinline
func panicNonFinite(x float64) {
	panic(fmt.Sprintf("exact: cannot add non-finite %v", x))
}

// Merge adds o to s exactly. o is not modified; s.Merge(s) doubles s.
func (s *Sum) Merge(o *Sum) {
	on := o.n
	src := &o.limbs
	if s.n+on > normEvery {
		if on >= normEvery {
			tmp := o.limbs
			normalizeLimbs(&tmp)
			src, on = &tmp, 1
		}
		s.normalize()
	}
	for i := range s.limbs {
		s.limbs[i] += src[i]
	}
	s.n += on
}

//go:noinline
func (s *Sum) normalize() {
	normalizeLimbs(&s.limbs)
	s.n = 1
}

// normalizeLimbs propagates carries so that every limb but the top one is
// in [0, 2^32); the top limb keeps the sign.
func normalizeLimbs(l *[numLimbs]int64) {
	var c int64
	for i := range numLimbs - 1 {
		v := l[i] + c
		c = v >> limbBits
		l[i] = v & limbMask
	}
	l[numLimbs-1] += c
}

// magnitude returns the sum in sign and magnitude form: neg, and limbs all
// non-negative with all but the top one below 2^32, non-zero exactly on
// [lo, hi] (lo > hi when the sum is zero).
func (s *Sum) magnitude() (neg bool, l [numLimbs]int64, lo, hi int) {
	l = s.limbs
	normalizeLimbs(&l)
	if l[numLimbs-1] < 0 {
		neg = true
		for i := range l {
			l[i] = -l[i]
		}
		normalizeLimbs(&l)
	}
	lo, hi = 0, numLimbs-1
	for lo < numLimbs && l[lo] == 0 {
		lo++
	}
	for hi >= lo && l[hi] == 0 {
		hi--
	}
	return neg, l, lo, hi
}

// mantExp returns the sum as ±mant·2^exp with mant ≥ 0.
func (s *Sum) mantExp() (mant *big.Int, exp int) {
	neg, l, lo, hi := s.magnitude()
	mant = new(big.Int)
	if lo > hi {
		return mant, 0
	}
	// Big-endian bytes: the top limb of the span may exceed 32 bits.
	buf := make([]byte, 8+4*(hi-lo))
	binary.BigEndian.PutUint64(buf, uint64(l[hi]))
	for i := hi - 1; i >= lo; i-- {
		binary.BigEndian.PutUint32(buf[8+4*(hi-1-i):], uint32(l[i]))
	}
	mant.SetBytes(buf)
	if neg {
		mant.Neg(mant)
	}
	return mant, limbBits*lo + minExp
}

// Rat returns the exact value of the sum.
func (s *Sum) Rat() *big.Rat {
	mant, exp := s.mantExp()
	if exp >= 0 {
		return new(big.Rat).SetInt(mant.Lsh(mant, uint(exp)))
	}
	den := new(big.Int).Lsh(big.NewInt(1), uint(-exp))
	return new(big.Rat).SetFrac(mant, den)
}

// Float64 returns the exact value of the sum correctly rounded to the
// nearest float64, ties to even; ±Inf when its magnitude is too large.
func (s *Sum) Float64() float64 {
	mant, exp := s.mantExp()
	f := new(big.Float).SetInt(mant) // exact: precision grows to fit
	f.SetMantExp(f, exp)
	v, _ := f.Float64() // a single rounding, subnormals included
	return v
}

// MarshalBinary encodes the sum compactly and canonically (see the package
// documentation).
func (s *Sum) MarshalBinary() ([]byte, error) {
	neg, l, lo, hi := s.magnitude()
	if lo > hi {
		return []byte{formatVersion, 0, 0, 0}, nil
	}
	if l[numLimbs-1] > limbMask {
		return nil, ErrTooLarge
	}
	k := hi - lo + 1
	b := make([]byte, headerLen+4*k)
	b[0] = formatVersion
	if neg {
		b[1] = 1
	}
	b[2], b[3] = byte(lo), byte(k)
	for i := range k {
		binary.LittleEndian.PutUint32(b[headerLen+4*i:], uint32(l[lo+i]))
	}
	return b, nil
}

// UnmarshalBinary replaces s with the sum encoded in b by MarshalBinary. It
// reports ErrCorrupt for anything but a canonical encoding and then leaves
// s unchanged.
func (s *Sum) UnmarshalBinary(b []byte) error {
	if len(b) < headerLen || b[0] != formatVersion || b[1] > 1 {
		return ErrCorrupt
	}
	lo, k := int(b[2]), int(b[3])
	if len(b) != headerLen+4*k || lo+k > numLimbs {
		return ErrCorrupt
	}
	if k == 0 {
		if b[1] != 0 || lo != 0 {
			return ErrCorrupt
		}
		*s = Sum{}
		return nil
	}
	limb := func(i int) int64 { return int64(binary.LittleEndian.Uint32(b[headerLen+4*i:])) }
	if limb(0) == 0 || limb(k-1) == 0 {
		return ErrCorrupt
	}
	var t Sum
	for i := range k {
		v := limb(i)
		if b[1] == 1 {
			v = -v
		}
		t.limbs[lo+i] = v
	}
	t.n = 1
	*s = t
	return nil
}

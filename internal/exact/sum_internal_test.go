package exact

import (
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
)

// The carry paths are taken every 2^30 additions; force them.
func TestNormalisationPaths(t *testing.T) {
	t.Parallel()
	xs := []float64{1e16, -1, 3.5, math.MaxFloat64, -0x1p-1074, -1e300}
	want := new(big.Rat)
	var s Sum
	for _, x := range xs {
		s.n = normEvery // the next addition normalises first
		s.Add(x)
		want.Add(want, new(big.Rat).SetFloat64(x))
		s.n = normEvery
		s.AddSquare(x)
		r := new(big.Rat).SetFloat64(x)
		want.Add(want, r.Mul(r, r))
	}
	require.Zero(t, want.Cmp(s.Rat()))

	// Merging a sum with pending carries copies and normalises it, and
	// leaves it unchanged.
	var o Sum
	o.Add(-7.25)
	o.n = normEvery
	before := o
	s.n = 5
	s.Merge(&o)
	require.Equal(t, before, o)
	want.Add(want, big.NewRat(-29, 4))
	require.Zero(t, want.Cmp(s.Rat()))
	require.LessOrEqual(t, s.n, int64(normEvery))

	// Self-merge with pending carries.
	s.n = normEvery
	s.Merge(&s)
	require.Zero(t, want.Mul(want, big.NewRat(2, 1)).Cmp(s.Rat()))
}

// The worst case for a limb between normalisations stays within int64.
func TestLimbBound(t *testing.T) {
	t.Parallel()
	var s Sum
	s.limbs[40] = -(normEvery - 1) * limbMask
	s.n = normEvery - 1
	s.Add(-math.Float64frombits(0x3fffffffffffffff)) // all-ones mantissa
	for _, l := range s.limbs {
		require.Less(t, math.Abs(float64(l)), 0x1p62)
	}
}

func TestMarshalTooLarge(t *testing.T) {
	t.Parallel()
	var s Sum
	s.limbs[numLimbs-1] = 1 << 40
	_, err := s.MarshalBinary()
	require.ErrorIs(t, err, ErrTooLarge)
	require.True(t, math.IsInf(s.Float64(), 1))
	s.limbs[numLimbs-1] = 1 << 20
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	var u Sum
	require.NoError(t, u.UnmarshalBinary(b))
	require.Zero(t, s.Rat().Cmp(u.Rat()))
}

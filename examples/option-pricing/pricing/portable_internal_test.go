package pricing

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// ulps is the distance between a and b in units in the last place.
func ulps(a, b float64) uint64 {
	x, y := int64(math.Float64bits(a)), int64(math.Float64bits(b))
	if x > y {
		return uint64(x - y)
	}
	return uint64(y - x)
}

func TestExpAgainstMath(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	xs := []float64{0, 1, -1, 0.5, 1e-300, -1e-300, 0.34657359, -0.34657359, 26.3, -26.3, 700, -700}
	for range 100000 {
		xs = append(xs, r.Float64()*60-30, r.Float64()*1400-700)
	}
	for _, x := range xs {
		if d := ulps(exp(x), math.Exp(x)); d > 2 {
			t.Fatalf("exp(%v) = %v, math.Exp %v: %d ulps apart", x, exp(x), math.Exp(x), d)
		}
	}
}

func TestLogAgainstMath(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	xs := []float64{1, 2, 0.5, math.Sqrt2, sqrtHf, 0x1p-53, 1 - 0x1p-53, 1 + 0x1p-52, 1e-300, 1e300, 1e8 / 1e-3}
	for range 100000 {
		xs = append(xs, r.Float64(), math.Ldexp(r.Float64()+0.5, r.IntN(200)-100))
	}
	for _, x := range xs {
		if x == 0 {
			continue
		}
		if d := ulps(log(x), math.Log(x)); d > 3 {
			t.Fatalf("log(%v) = %v, math.Log %v: %d ulps apart", x, log(x), math.Log(x), d)
		}
	}
}

func phi(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

func TestNormInv(t *testing.T) {
	t.Parallel()
	// Python's statistics.NormalDist().inv_cdf implements the same AS 241;
	// these are its answers.
	for _, tt := range []struct{ u, z float64 }{
		{0x1p-53, -8.209536151601386},
		{1 - 0x1p-53, 8.209536151601386},
		{0.975, 1.9599639845400536},
		{0.3, -0.5244005127080407},
		{0.5, 0},
	} {
		require.InDelta(t, tt.z, normInv(tt.u), 1e-14, "Φ⁻¹(%v)", tt.u)
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		u := Uniform(r.Uint64(), r.Uint64())
		z := normInv(u)
		if normInv(1-u) != -z || math.Abs(z) > 8.2096 {
			t.Fatalf("Φ⁻¹(%v) = %v, Φ⁻¹(1−u) = %v", u, z, normInv(1-u))
		}
		// Φ(Φ⁻¹(u)) = u, relative to the smaller tail.
		tail := min(u, 1-u)
		if got := min(phi(z), 1-phi(z)); math.Abs(got-tail) > 2e-14*tail+1e-17 {
			t.Fatalf("Φ(Φ⁻¹(%v)) = %v", u, got)
		}
	}
}

func TestNormCDF(t *testing.T) {
	t.Parallel()
	for x := -10.0; x <= 10; x += 0.001 {
		if d := math.Abs(phi(x) - normCDF(x)); d > 2e-15 {
			t.Fatalf("Φ(%v) = %v, from math.Erfc %v", x, normCDF(x), phi(x))
		}
	}
}

func TestSumsAreExact(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	var s, a, b sums
	want, wantSq := new(big.Int), new(big.Int)
	for i := range 10000 {
		v := r.Uint64() >> 1 // below 2^63, as Run guarantees
		if i%10 == 0 {
			v = 1<<63 - 1
		}
		s.add(v)
		if i%3 == 0 {
			a.add(v)
		} else {
			b.add(v)
		}
		bv := new(big.Int).SetUint64(v)
		want.Add(want, bv)
		wantSq.Add(wantSq, bv.Mul(bv, bv))
	}
	sum, sq := s.big()
	require.Zero(t, want.Cmp(sum))
	require.Zero(t, wantSq.Cmp(sq))
	require.True(t, a.merge(b))
	require.Equal(t, s, a, "merging the sums of a split gives the sums of the whole")

	full := sums{sum: [2]uint64{math.MaxUint64, math.MaxUint64}}
	require.False(t, full.merge(sums{sum: [2]uint64{1, 0}}), "an overflow of the sum is reported")
	full = sums{sq: [3]uint64{0, 0, math.MaxUint64}}
	require.False(t, full.merge(sums{sq: [3]uint64{0, 0, 1}}), "an overflow of the squares is reported")
}

// The worst cases the bounds allow stay below 2^62 units per path, as the
// package documentation argues.
func TestPayoffBounds(t *testing.T) {
	t.Parallel()
	zMax := normInv(1 - 0x1p-53)
	for _, p := range []Params{
		{Spot: MinPrice, Strike: MinPrice, Rate: MaxRate, Volatility: MaxVolatility, Maturity: MaxMaturity},
		{Spot: MinPrice, Strike: MaxPrice, Rate: MaxRate, Volatility: MaxVolatility, Maturity: MaxMaturity},
		{Spot: MaxPrice, Strike: MinPrice, Rate: MaxRate, Volatility: MaxVolatility, Maturity: MaxMaturity},
		{Spot: MinPrice, Strike: MaxPrice, Rate: -MaxRate, Volatility: MinVolatility, Maturity: MinMaturity},
	} {
		m := newModel(p)
		for _, z := range []float64{zMax, -zMax} {
			x := exp(m.drift + m.vol*z)
			for _, d := range []float64{x - m.k, m.k - x} {
				require.Less(t, math.Round(d*(1<<ResolutionBits)), 0x1p62, "%+v, z = %v", p, z)
			}
		}
	}
}

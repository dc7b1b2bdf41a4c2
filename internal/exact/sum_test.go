package exact_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/crunchjobs/crunch/internal/exact"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// reference is a math/big sum of xs (squared when squares is set).
func reference(xs []float64, squares bool) *big.Rat {
	sum := new(big.Rat)
	for _, x := range xs {
		r := new(big.Rat).SetFloat64(x)
		if squares {
			r.Mul(r, r)
		}
		sum.Add(sum, r)
	}
	return sum
}

func refFloat(r *big.Rat) float64 {
	f, _ := r.Float64()
	return f
}

// mixed returns n finite values of wildly mixed magnitudes and signs:
// random bit patterns over the whole exponent range, subnormals, zeros,
// extremes, and values that cancel earlier ones.
func mixed(rng *rand.Rand, n int) []float64 {
	xs := make([]float64, 0, n)
	for len(xs) < n {
		var x float64
		switch rng.IntN(9) {
		case 0: // any finite bit pattern
			for x = math.Inf(1); math.IsInf(x, 0) || math.IsNaN(x); {
				x = math.Float64frombits(rng.Uint64())
			}
		case 1: // subnormal
			x = math.Float64frombits(rng.Uint64() & (1<<52 - 1))
		case 2:
			x = []float64{0, math.Copysign(0, -1), math.MaxFloat64, -math.MaxFloat64,
				math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 1e300, -1e-300, 0x1p-1022}[rng.IntN(9)]
		case 3: // cancel an earlier value
			if len(xs) > 0 {
				x = -xs[rng.IntN(len(xs))]
			}
		case 4: // ordinary numbers
			x = rng.NormFloat64() * 1e3
		case 5: // big with a small one
			x = math.Ldexp(rng.Float64(), rng.IntN(2000)-1000)
		default: // moderate magnitude, random sign
			x = math.Ldexp(rng.Float64()-0.5, rng.IntN(200)-100)
		}
		xs = append(xs, x)
	}
	return xs
}

func sumOf(xs []float64, squares bool) *exact.Sum {
	var s exact.Sum
	for _, x := range xs {
		if squares {
			s.AddSquare(x)
		} else {
			s.Add(x)
		}
	}
	return &s
}

func TestKnownSums(t *testing.T) {
	t.Parallel()
	tiny := math.SmallestNonzeroFloat64
	tests := []struct {
		name    string
		add     []float64
		squares []float64
		want    float64
		exact   string // the exact value as a big.Rat string, when not want
	}{
		{name: "empty", want: 0, exact: "0"},
		{name: "cancellation", add: []float64{1e16, 1, -1e16, 3.5}, want: 4.5, exact: "9/2"},
		{name: "negative", add: []float64{-1, -2, 0.5}, want: -2.5, exact: "-5/2"},
		{name: "negative zero", add: []float64{math.Copysign(0, -1)}, want: 0, exact: "0"},
		{name: "tie to even down", add: []float64{1, 0x1p-53}, want: 1},
		{name: "tie broken by a tiny sticky bit", add: []float64{1, 0x1p-53, 0x1p-1074}, want: 1 + 0x1p-52},
		{name: "tie to even up", add: []float64{1 + 0x1p-52, 0x1p-53}, want: 1 + 0x1p-51},
		{name: "huge cancels", add: []float64{math.MaxFloat64, math.MaxFloat64, -math.MaxFloat64, -math.MaxFloat64, tiny}, want: tiny},
		{name: "overflow", add: []float64{math.MaxFloat64, math.MaxFloat64}, want: math.Inf(1)},
		{name: "negative overflow", add: []float64{-math.MaxFloat64, -math.MaxFloat64}, want: math.Inf(-1)},
		{name: "subnormals", add: []float64{tiny, tiny, 3 * tiny}, want: 5 * tiny},
		{name: "square of the smallest subnormal", squares: []float64{tiny}, want: 0, exact: "1/" + new(big.Int).Lsh(big.NewInt(1), 2148).String()},
		{name: "squares round to the smallest subnormal", squares: []float64{0x1p-538, 0x1p-538, 0x1p-538}, want: tiny},
		{name: "squares tie to zero", squares: []float64{0x1p-538, 0x1p-538}, want: 0},
		{name: "square overflows", squares: []float64{math.MaxFloat64}, want: math.Inf(1)},
		{name: "square of a negative", squares: []float64{-3}, want: 9, exact: "9"},
		{name: "mixed", add: []float64{-10}, squares: []float64{3, 1}, want: 0, exact: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s exact.Sum
			for _, x := range tt.add {
				s.Add(x)
			}
			for _, x := range tt.squares {
				s.AddSquare(x)
			}
			require.Equal(t, math.Float64bits(tt.want), math.Float64bits(s.Float64()), "got %v", s.Float64())
			want := new(big.Rat).Add(reference(tt.add, false), reference(tt.squares, true))
			require.Zero(t, want.Cmp(s.Rat()), "exact value %s, want %s", s.Rat(), want)
			if tt.exact != "" {
				require.Equal(t, tt.exact, s.Rat().RatString())
			}
		})
	}
}

func TestRandomAgainstBig(t *testing.T) {
	t.Parallel()
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 1))
		xs := mixed(rng, 1+rng.IntN(300))
		for _, squares := range []bool{false, true} {
			s := sumOf(xs, squares)
			want := reference(xs, squares)
			require.Zero(t, want.Cmp(s.Rat()), "seed %d squares %v", seed, squares)
			require.Equal(t, math.Float64bits(refFloat(want)), math.Float64bits(s.Float64()), "seed %d squares %v", seed, squares)
		}
	}
}

func TestMergeAnySplit(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	xs := mixed(rng, 500)
	whole := sumOf(xs, false)
	whole2 := sumOf(xs, true)
	wantBytes, err := whole.MarshalBinary()
	require.NoError(t, err)
	for trial := range 50 {
		// Split at random points, sum the parts and merge them in a
		// random order, some through a nested merge.
		k := 1 + rng.IntN(12)
		cuts := []int{0, len(xs)}
		for range k - 1 {
			cuts = append(cuts, rng.IntN(len(xs)+1))
		}
		parts := make([]*exact.Sum, 0, k)
		slicesSort(cuts)
		for i := range len(cuts) - 1 {
			p := sumOf(xs[cuts[i]:cuts[i+1]], false)
			p.Merge(sumOf(xs[cuts[i]:cuts[i+1]], true)) // a mixture is fine
			parts = append(parts, p)
		}
		rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		var left, right exact.Sum
		for i, p := range parts {
			if i%2 == 0 {
				left.Merge(p)
			} else {
				right.Merge(p)
			}
		}
		left.Merge(&right)
		want := new(big.Rat).Add(whole.Rat(), whole2.Rat())
		require.Zero(t, want.Cmp(left.Rat()), "trial %d", trial)
	}
	// Merging s into itself doubles it.
	double := sumOf(xs, false)
	double.Merge(double)
	require.Zero(t, new(big.Rat).Mul(whole.Rat(), big.NewRat(2, 1)).Cmp(double.Rat()))
	// The merged value encodes like the whole.
	var a, b exact.Sum
	a.Merge(sumOf(xs[:100], false))
	b.Merge(sumOf(xs[100:], false))
	a.Merge(&b)
	got, err := a.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, wantBytes, got)
}

func slicesSort(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, s *exact.Sum) {
		t.Helper()
		b, err := s.MarshalBinary()
		require.NoError(t, err)
		var u exact.Sum
		require.NoError(t, u.UnmarshalBinary(b))
		require.Zero(t, s.Rat().Cmp(u.Rat()))
		b2, err := u.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, b, b2)
		// A decoded sum keeps accumulating.
		u.Add(1)
		s.Add(1)
		require.Zero(t, s.Rat().Cmp(u.Rat()))
	}
	var zero exact.Sum
	b, err := zero.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, []byte{1, 0, 0, 0}, b)
	one := sumOf([]float64{1}, false)
	b, err = one.MarshalBinary()
	require.NoError(t, err)
	require.Len(t, b, 8, "1.0 fits in one limb")
	check(t, &zero)
	check(t, sumOf([]float64{-4.5}, false))
	check(t, sumOf([]float64{math.MaxFloat64}, true))
	rng := rand.New(rand.NewPCG(3, 3))
	for range 30 {
		xs := mixed(rng, 1+rng.IntN(50))
		check(t, sumOf(xs, rng.IntN(2) == 0))
	}
}

func TestUnmarshalCorrupt(t *testing.T) {
	t.Parallel()
	tests := map[string][]byte{
		"empty":              nil,
		"short header":       {1, 0, 0},
		"bad version":        {2, 0, 0, 0},
		"bad sign":           {1, 2, 0, 1, 1, 0, 0, 0},
		"negative zero":      {1, 1, 0, 0},
		"zero with offset":   {1, 0, 5, 0},
		"truncated limbs":    {1, 0, 0, 2, 1, 0, 0, 0},
		"trailing bytes":     {1, 0, 0, 1, 1, 0, 0, 0, 0},
		"past the top":       append([]byte{1, 0, 135, 2}, 1, 0, 0, 0, 1, 0, 0, 0),
		"zero lowest limb":   {1, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0},
		"zero highest limb":  {1, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0},
		"zero only limb":     {1, 0, 3, 1, 0, 0, 0, 0},
		"count beyond limbs": append([]byte{1, 0, 0, 255}, make([]byte, 4*255)...),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := sumOf([]float64{42}, false)
			require.ErrorIs(t, s.UnmarshalBinary(b), exact.ErrCorrupt)
			require.Equal(t, 42.0, s.Float64(), "a failed decode leaves the sum unchanged")
		})
	}
}

func TestNonFinitePanics(t *testing.T) {
	t.Parallel()
	for _, x := range []float64{math.Inf(1), math.Inf(-1), math.NaN()} {
		var s exact.Sum
		require.Panics(t, func() { s.Add(x) })
		require.Panics(t, func() { s.AddSquare(x) })
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0})
	f.Add([]byte{1, 1, 3, 1, 7, 0, 0, 0})
	for _, xs := range [][]float64{{1}, {-4.5, 1e300}, {math.SmallestNonzeroFloat64}} {
		b, _ := sumOf(xs, false).MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s exact.Sum
		if s.UnmarshalBinary(b) != nil {
			return
		}
		// Only canonical encodings are accepted, so they re-encode as is.
		again, err := s.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, b, again)
		_ = s.Float64()
	})
}

func FuzzAdd(f *testing.F) {
	f.Add(1e16, 1.0, -1e16, 3.5)
	f.Add(math.MaxFloat64, math.SmallestNonzeroFloat64, -math.MaxFloat64, 0x1p-1022)
	f.Fuzz(func(t *testing.T, a, b, c, d float64) {
		xs := []float64{}
		for _, x := range []float64{a, b, c, d} {
			if !math.IsInf(x, 0) && !math.IsNaN(x) {
				xs = append(xs, x)
			}
		}
		for _, squares := range []bool{false, true} {
			s := sumOf(xs, squares)
			want := reference(xs, squares)
			require.Zero(t, want.Cmp(s.Rat()))
			require.Equal(t, math.Float64bits(refFloat(want)), math.Float64bits(s.Float64()))
		}
	})
}

var benchValues = func() []float64 {
	return mixed(rand.New(rand.NewPCG(1, 2)), 4096)
}()

func BenchmarkAdd(b *testing.B) {
	var s exact.Sum
	for i := 0; b.Loop(); i++ {
		s.Add(benchValues[i&4095])
	}
}

func BenchmarkAddSquare(b *testing.B) {
	var s exact.Sum
	for i := 0; b.Loop(); i++ {
		s.AddSquare(benchValues[i&4095])
	}
}

func BenchmarkMerge(b *testing.B) {
	var s exact.Sum
	o := sumOf(benchValues, false)
	for b.Loop() {
		s.Merge(o)
	}
}

func BenchmarkFloat64(b *testing.B) {
	s := sumOf(benchValues, true)
	for b.Loop() {
		_ = s.Float64()
	}
}

func BenchmarkMarshalBinary(b *testing.B) {
	s := sumOf(benchValues, true)
	for b.Loop() {
		_, _ = s.MarshalBinary()
	}
}

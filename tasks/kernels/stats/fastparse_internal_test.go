package stats

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFastInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		fast bool
	}{
		{`{"values":[1]}`, true},
		{" \t\r\n{ \"values\" : [ 1 , -0 , 0.5e-3 , 1E+2, 1e150 ] } \n", true},
		{`{"values":[5e-324,-1.7976931348623157e-310]}`, true},
		{`{"values":[]}`, false},
		{`{"values":[1],"values":[2]}`, false},
		{`{"values":[1],"x":1}`, false},
		{`{"x":1,"values":[1]}`, false},
		{`{"\u0076alues":[1]}`, false},
		{`{"values":[1,]}`, false},
		{`{"values":[,1]}`, false},
		{`{"values":[01]}`, false},
		{`{"values":[1.]}`, false},
		{`{"values":[.5]}`, false},
		{`{"values":[+1]}`, false},
		{`{"values":[1e]}`, false},
		{`{"values":[0x10]}`, false},
		{`{"values":[Infinity]}`, false},
		{`{"values":[1e151]}`, false},
		{`{"values":[1e400]}`, false},
		{`{"values":[1]}x`, false},
		{`{"values":[1]}{}`, false},
		{`{"values":[1]`, false},
		{`{"values":[1 2]}`, false},
		{`{"values":["1"]}`, false},
		{`null`, false},
		{``, false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			fast, ok := fastInput([]byte(tt.raw))
			require.Equal(t, tt.fast, ok)
			ref, refOK := fastInputRef([]byte(tt.raw))
			require.Equal(t, refOK, ok)
			require.Equal(t, ref, fast)
			if ok {
				slow, err := slowInput([]byte(tt.raw))
				require.NoError(t, err)
				require.Equal(t, slow, fast)
			}
		})
	}
}

// The fast path accepts only what the strict path accepts, with the same
// values.
func FuzzFastInput(f *testing.F) {
	for _, s := range []string{`{"values":[1,2.5,-3e-7]}`, ` { "values" : [ 0 ] } `, `{"values":[1e150,5e-324]}`, `{"values":[1],"v":2}`, `{"values":[-0.0e+0]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := fastInput([]byte(s))
		if !ok {
			return
		}
		slow, err := slowInput([]byte(s))
		require.NoError(t, err)
		require.Equal(t, slow, fast)
	})
}

// benchBody is a request of 4 Mi values of about 7 characters each.
func benchBody() []byte {
	b := []byte(`{"values":[`)
	for i := range 4 << 20 {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(i%2_000_000-1_000_000)/1000, 'g', -1, 64)
	}
	return append(b, "]}"...)
}

// The strict path through tasks.Params, for comparison with the fast path
// (BenchmarkPrepare4M).
func BenchmarkSlowInput4M(b *testing.B) {
	raw := benchBody()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := slowInput(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFastInput4M(b *testing.B) {
	raw := benchBody()
	b.SetBytes(int64(len(raw)))
	threadCPU(b, int64(len(raw)), func() {
		if _, ok := fastInput(raw); !ok {
			b.Fatal("fast path refused")
		}
	})
}

// FuzzParseNumber: parseNumber finds the same token as numberEnd and the
// same float64 bits as strconv.ParseFloat, or fails where either does.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "1", "123.456", "-0.000123e-5", "9007199254740993", "9007199254740992e3",
		"1e22", "1e23", "123456789012345678901234567890", "4.9406564584124654e-324", "2.2250738585072011e-308",
		"1.7976931348623157e308", "1e309", "0.1", "1e-22", "3e-23", "12345678901234567.89", "01", "1.", ".5", "1e", "-", "1e+", "5,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x, end, ok := parseNumber(s, 0)
		want := numberEnd(s, 0)
		if want == 0 {
			require.False(t, ok, "%q", s)
			return
		}
		y, err := strconv.ParseFloat(s[:want], 64)
		require.Equal(t, err == nil, ok, "%q", s)
		require.Equal(t, want, end, "%q", s)
		if ok {
			require.Equal(t, math.Float64bits(y), math.Float64bits(x), "%q: %v, want %v", s, x, y)
		}
	})
}

func TestParseNumberAgainstStrconv(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200_000 {
		var b []byte
		if rng.IntN(3) == 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, rng.Uint64()>>rng.IntN(64), 10)
		if rng.IntN(2) == 0 {
			b = append(b, '.')
			b = strconv.AppendUint(b, rng.Uint64()>>rng.IntN(64), 10)
		}
		if rng.IntN(3) == 0 {
			b = append(b, "e-+"[rng.IntN(3)])
			b = strconv.AppendInt(b, int64(rng.IntN(700)), 10)
		}
		s := string(b)
		if numberEnd(s, 0) != len(s) {
			continue // 0-prefixed integer parts are not JSON
		}
		want, err := strconv.ParseFloat(s, 64)
		x, end, ok := parseNumber(s, 0)
		require.Equal(t, err == nil, ok, s)
		require.Equal(t, len(s), end, s)
		if ok {
			require.Equal(t, math.Float64bits(want), math.Float64bits(x), s)
		}
	}
}

// BenchmarkFastInputRef4M is the fast path as it was (numberEnd, then
// strconv.ParseFloat): the baseline of BenchmarkFastInput4M, in one run.
func BenchmarkFastInputRef4M(b *testing.B) {
	raw := benchBody()
	b.SetBytes(int64(len(raw)))
	threadCPU(b, int64(len(raw)), func() {
		if _, ok := fastInputRef(raw); !ok {
			b.Fatal("fast path refused")
		}
	})
}

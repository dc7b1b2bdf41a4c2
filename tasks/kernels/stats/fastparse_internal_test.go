package stats

import (
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
	for b.Loop() {
		if _, ok := fastInput(raw); !ok {
			b.Fatal("fast path refused")
		}
	}
}

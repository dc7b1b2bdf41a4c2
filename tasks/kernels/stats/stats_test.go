package stats_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/stats"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// result mirrors the kernel's result.
type result struct {
	Count    int64   `json:"count"`
	Sum      float64 `json:"sum"`
	Mean     float64 `json:"mean"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Variance float64 `json:"variance"`
	Stddev   float64 `json:"stddev"`
}

func params(values []float64) string {
	parts := make([]string, len(values))
	for i, x := range values {
		parts[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return `{"values":[` + strings.Join(parts, ",") + `]}`
}

func decode(t *testing.T, out *tasks.Output) result {
	t.Helper()
	var r result
	dec := json.NewDecoder(bytes.NewReader(out.Result))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&r))
	return r
}

// reference computes the result with math/big, straight from the
// contract: S1 scaled by 2^1074 and S2 by 2^2148 are integers.
func reference(values []float64) result {
	s1, s2 := new(big.Int), new(big.Int)
	mn, mx := values[0], values[0]
	for _, x := range values {
		mant, exp := math.Frexp(x) // x = mant·2^exp, 0.5 ≤ |mant| < 1
		m := new(big.Int).SetInt64(int64(math.Ldexp(mant, 53)))
		shift := exp - 53 + 1074 // x·2^1074 = m·2^shift
		if shift < 0 {           // subnormal: the low bits of m are zero
			m.Rsh(m, uint(-shift))
			shift = 0
		}
		s1.Add(s1, new(big.Int).Lsh(m, uint(shift)))
		s2.Add(s2, new(big.Int).Lsh(new(big.Int).Mul(m, m), uint(2*shift)))
		if x < mn || x == mn && math.Signbit(x) {
			mn = x
		}
		if x > mx || x == mx && !math.Signbit(x) {
			mx = x
		}
	}
	one := big.NewInt(1)
	r1 := new(big.Rat).SetFrac(s1, new(big.Int).Lsh(one, 1074))
	r2 := new(big.Rat).SetFrac(s2, new(big.Int).Lsh(one, 2148))
	n := new(big.Rat).SetInt64(int64(len(values)))
	f := func(r *big.Rat) float64 { v, _ := r.Float64(); return v }
	v := new(big.Rat).Sub(new(big.Rat).Mul(n, r2), new(big.Rat).Mul(r1, r1))
	v.Quo(v, new(big.Rat).Mul(n, n))
	return result{
		Count: int64(len(values)), Sum: f(r1), Mean: f(new(big.Rat).Quo(r1, n)),
		Min: mn, Max: mx, Variance: f(v), Stddev: math.Sqrt(f(v)),
	}
}

func requireSameResult(t *testing.T, want, got result) {
	t.Helper()
	bits := func(r result) []uint64 {
		return []uint64{uint64(r.Count), math.Float64bits(r.Sum), math.Float64bits(r.Mean), math.Float64bits(r.Min),
			math.Float64bits(r.Max), math.Float64bits(r.Variance), math.Float64bits(r.Stddev)}
	}
	require.Equal(t, bits(want), bits(got), "want %+v\ngot  %+v", want, got)
}

func TestSchema(t *testing.T) {
	t.Parallel()
	require.Equal(t, "stats", stats.Spec{}.Name())
	require.Empty(t, stats.Spec{}.ArtifactType())
	kerneltest.CheckSpec(t, stats.Spec{}, stats.Runner{}, []string{"values"}, []string{"values"})
}

func TestCancellingTermsAreExact(t *testing.T) {
	t.Parallel()
	const p = `{"values":[1e16,1,-1e16,3.5]}`
	for _, chunks := range []int{1, 2, 3, 4, 10} {
		out := kerneltest.MustRun(t, stats.Spec{}, stats.Runner{}, p, chunks)
		require.JSONEq(t, `{"count":4,"sum":4.5,"mean":1.125,"min":-1e16,"max":1e16,"variance":5e31,"stddev":7071067811865475}`, string(out.Result), "%d chunks", chunks)
		requireSameResult(t, reference([]float64{1e16, 1, -1e16, 3.5}), decode(t, out))
	}
	kerneltest.Invariant(t, stats.Spec{}, stats.Runner{}, p, 1, 2, 3, 4, 10)
}

func TestKnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params string
		want   string
	}{
		{"one value", `{"values":[42]}`, `{"count":1,"sum":42,"mean":42,"min":42,"max":42,"variance":0,"stddev":0}`},
		{"small ints", `{"values":[2,4,4,4,5,5,7,9]}`, `{"count":8,"sum":40,"mean":5,"min":2,"max":9,"variance":4,"stddev":2}`},
		{"huge mean", `{"values":[1000000000000001,1000000000000002,1000000000000003]}`,
			`{"count":3,"sum":3000000000000006,"mean":1000000000000002,"min":1000000000000001,"max":1000000000000003,"variance":0.6666666666666666,"stddev":0.816496580927726}`},
		{"zeros", `{"values":[0,-0]}`, `{"count":2,"sum":0,"mean":0,"min":-0,"max":0,"variance":0,"stddev":0}`},
		{"zeros reversed", `{"values":[-0,0]}`, `{"count":2,"sum":0,"mean":0,"min":-0,"max":0,"variance":0,"stddev":0}`},
		{"negative zero alone", `{"values":[-0]}`, `{"count":1,"sum":0,"mean":0,"min":-0,"max":-0,"variance":0,"stddev":0}`},
		{"negatives", `{"values":[-3,-1,-2]}`, `{"count":3,"sum":-6,"mean":-2,"min":-3,"max":-1,"variance":0.6666666666666666,"stddev":0.816496580927726}`},
		{"extremes", `{"values":[1e150,-1e150]}`, `{"count":2,"sum":0,"mean":0,"min":-1e+150,"max":1e+150,"variance":9.999999999999999e+299,"stddev":1e+150}`},
		{"tiny", `{"values":[5e-324,5e-324]}`, `{"count":2,"sum":1e-323,"mean":5e-324,"min":5e-324,"max":5e-324,"variance":0,"stddev":0}`},
		{"integers written oddly", `{"values":[1e0,0.5e1,-2.5E+0]}`, `{"count":3,"sum":3.5,"mean":1.1666666666666667,"min":-2.5,"max":5,"variance":9.38888888888889,"stddev":3.064129385141706}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := kerneltest.Invariant(t, stats.Spec{}, stats.Runner{}, tt.params, 1, 2, 3, 7, 64)
			require.Equal(t, tt.want, string(out.Result))
			require.Nil(t, out.Artifact)
		})
	}
}

// mixed returns n values of mixed magnitudes and signs within the bounds,
// some cancelling others.
func mixed(rng *rand.Rand, n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		switch rng.IntN(6) {
		case 0:
			xs[i] = math.Ldexp(rng.Float64()-0.5, rng.IntN(1000)-500)
		case 1:
			xs[i] = math.Ldexp(rng.Float64(), -1074+rng.IntN(60)) // subnormal or tiny
		case 2:
			if i > 0 {
				xs[i] = -xs[rng.IntN(i)]
			}
		case 3:
			xs[i] = 1e15 + float64(rng.IntN(100))
		case 4:
			xs[i] = (rng.Float64()*2 - 1) * 1e150
		default:
			xs[i] = rng.NormFloat64()
		}
	}
	return xs
}

func TestChunkInvarianceRandom(t *testing.T) {
	t.Parallel()
	for seed := range uint64(8) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 99))
			values := mixed(rng, 1+rng.IntN(300))
			out := kerneltest.Invariant(t, stats.Spec{}, stats.Runner{}, params(values), 1, 2, 3, 7, 64, len(values)+1)
			requireSameResult(t, reference(values), decode(t, out))
		})
	}
}

// Enough values that a chunk is split over the cores in several blocks.
func TestManyValues(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 5))
	values := mixed(rng, 50_000)
	out := kerneltest.Invariant(t, stats.Spec{}, stats.Runner{}, params(values), 1, 3)
	requireSameResult(t, reference(values), decode(t, out))
}

func TestPrepare(t *testing.T) {
	t.Parallel()
	prep, err := stats.Spec{}.Prepare(json.RawMessage(`{"values":[1.5,-2]}`))
	require.NoError(t, err)
	require.JSONEq(t, `{}`, string(prep.Params))
	require.Equal(t, int64(2), prep.Extent)
	require.Equal(t, 1, prep.DefaultChunks)
	want := binary.LittleEndian.AppendUint64(nil, math.Float64bits(1.5))
	want = binary.LittleEndian.AppendUint64(want, math.Float64bits(-2))
	require.Equal(t, want, prep.Input)

	many := `{"values":[` + strings.Repeat("1,", 1<<20) + `1]}`
	prep, err = stats.Spec{}.Prepare(json.RawMessage(many))
	require.NoError(t, err)
	require.Equal(t, int64(1<<20+1), prep.Extent)
	require.Equal(t, 2, prep.DefaultChunks)
}

func TestValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params string
		fields []string
	}{
		{"absent params", ``, []string{"values"}},
		{"null params", `null`, []string{"values"}},
		{"empty object", `{}`, []string{"values"}},
		{"not an object", `[1,2]`, []string{"", "values"}},
		{"null values", `{"values":null}`, []string{"values"}},
		{"empty values", `{"values":[]}`, []string{"values"}},
		{"values not an array", `{"values":"1,2"}`, []string{"values"}},
		{"values an object", `{"values":{"a":1}}`, []string{"values"}},
		{"string element", `{"values":[1,"2",3]}`, []string{"values[1]"}},
		{"null element", `{"values":[1,null]}`, []string{"values[1]"}},
		{"nested array", `{"values":[[1]]}`, []string{"values[0]"}},
		{"too large", `{"values":[0,1e151]}`, []string{"values[1]"}},
		{"too small", `{"values":[-1.0000000000000001e150,1]}`, []string{"values[0]"}},
		{"beyond float64", `{"values":[1e400]}`, []string{"values[0]"}},
		{"unknown field", `{"values":[1],"top":3}`, []string{"top"}},
		{"two unknown fields", `{"values":[1],"b":1,"a":2}`, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.fields, kerneltest.RefusedFields(t, stats.Spec{}, tt.params))
		})
	}
	// The bound itself is allowed.
	_, err := stats.Spec{}.Prepare(json.RawMessage(`{"values":[1e150,-1e150]}`))
	require.NoError(t, err)
}

func encode(values ...float64) []byte {
	var b []byte
	for _, x := range values {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func TestRunBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input tasks.Input
		r     tasks.Range
	}{
		{"no input", nil, tasks.Range{Lo: 0, Hi: 0}},
		{"range past the end", bytes.NewReader(encode(1, 2)), tasks.Range{Lo: 1, Hi: 3}},
		{"negative range", bytes.NewReader(encode(1, 2)), tasks.Range{Lo: -1, Hi: 1}},
		{"reversed range", bytes.NewReader(encode(1, 2)), tasks.Range{Lo: 2, Hi: 1}},
		{"NaN", bytes.NewReader(encode(1, math.NaN())), tasks.Range{Lo: 0, Hi: 2}},
		{"infinity", bytes.NewReader(encode(math.Inf(-1))), tasks.Range{Lo: 0, Hi: 1}},
		{"beyond the bound", bytes.NewReader(encode(1e200)), tasks.Range{Lo: 0, Hi: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := stats.Runner{}.Run(t.Context(), tasks.Chunk{Total: 1, Range: tt.r, Params: json.RawMessage(`{}`), Input: tt.input})
			require.ErrorIs(t, err, stats.ErrBadInput)
		})
	}
}

// An empty chunk still gives a valid partial that merges into the result.
func TestEmptyChunk(t *testing.T) {
	t.Parallel()
	in := bytes.NewReader(encode(1, 2))
	empty, err := stats.Runner{}.Run(t.Context(), tasks.Chunk{Index: 0, Total: 2, Range: tasks.Range{Lo: 1, Hi: 1}, Input: in})
	require.NoError(t, err)
	full, err := stats.Runner{}.Run(t.Context(), tasks.Chunk{Index: 1, Total: 2, Range: tasks.Range{Lo: 0, Hi: 2}, Input: in})
	require.NoError(t, err)
	out, err := stats.Runner{}.Reduce(t.Context(), json.RawMessage(`{}`), in, [][]byte{empty, full, empty})
	require.NoError(t, err)
	require.Equal(t, `{"count":2,"sum":3,"mean":1.5,"min":1,"max":2,"variance":0.25,"stddev":0.5}`, string(out.Result))
}

func TestReduceRejects(t *testing.T) {
	t.Parallel()
	in := bytes.NewReader(encode(1, 2, 3))
	good, err := stats.Runner{}.Run(t.Context(), tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: 3}, Input: in})
	require.NoError(t, err)
	part, err := stats.Runner{}.Run(t.Context(), tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: 2}, Input: in})
	require.NoError(t, err)
	empty, err := stats.Runner{}.Run(t.Context(), tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: 0}, Input: in})
	require.NoError(t, err)
	// sums returns the encoded S1 and S2 of values (fewer than 128 of them).
	sums := func(values ...float64) (s1, s2 []byte) {
		b, err := stats.Runner{}.Run(t.Context(), tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: int64(len(values))}, Input: bytes.NewReader(encode(values...))})
		require.NoError(t, err)
		n := int(b[18])
		return b[19 : 19+n], b[19+n:]
	}
	// splice is a partial of 3 values with the given min, max and sums.
	splice := func(mn, mx float64, s1, s2 []byte) []byte {
		b := append([]byte{1, 3}, encode(mn, mx)...)
		b = append(b, byte(len(s1)))
		return append(append(b, s1...), s2...)
	}
	s1of123, s2of123 := sums(1, 2, 3)
	_, s2of1210 := sums(1, 2, 10)
	zero := []byte{1, 0, 0, 0} // the encoding of an empty exact.Sum
	require.Equal(t, good, splice(1, 3, s1of123, s2of123))
	flip := func(b []byte, i int, v byte) []byte {
		c := bytes.Clone(b)
		c[i] = v
		return c
	}
	tests := map[string][][]byte{
		"no partials":        nil,
		"empty partial":      {{}},
		"bad version":        {flip(good, 0, 2)},
		"truncated":          {good[:len(good)-1]},
		"trailing byte":      {append(bytes.Clone(good), 0)},
		"missing a chunk":    {part},
		"a chunk twice":      {good, good},
		"only empty chunks":  {empty, empty},
		"min above max":      {append(append([]byte{1, 3}, encode(10, 3)...), good[18:]...)},
		"min too large":      {append(append([]byte{1, 3}, encode(1, 1e200)...), good[18:]...)},
		"NaN max":            {append(append([]byte{1, 3}, encode(1, math.NaN())...), good[18:]...)},
		"bad sum length":     {flip(good, 18, 0xff)},
		"bad sum":            {flip(good, 19, 9)},
		"count overflow":     {append([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, good[2:]...)},
		"count without min":  {flip(empty, 1, 3)},
		"sums of no values":  {append([]byte{1, 0}, good[18:]...)},
		"sum below n·min":    {splice(2.5, 3, s1of123, s2of123)},
		"sum above n·max":    {splice(1, 1.5, s1of123, s2of123)},
		"negative variance":  {splice(1, 3, s1of123, zero)},
		"squares above max²": {splice(1, 3, s1of123, s2of1210)},
	}
	for name, partials := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := stats.Runner{}.Reduce(t.Context(), json.RawMessage(`{}`), in, partials)
			require.ErrorIs(t, err, stats.ErrBadPartial)
		})
	}
	out, err := stats.Runner{}.Reduce(t.Context(), json.RawMessage(`{}`), in, [][]byte{good})
	require.NoError(t, err)
	require.Equal(t, `{"count":3,"sum":6,"mean":2,"min":1,"max":3,"variance":0.6666666666666666,"stddev":0.816496580927726}`, string(out.Result))
}

func TestCancel(t *testing.T) {
	t.Parallel()
	values := make([]float64, 300_000)
	for i := range values {
		values[i] = float64(i)
	}
	in := bytes.NewReader(encode(values...))
	chunk := tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: int64(len(values))}, Params: json.RawMessage(`{}`), Input: in}
	ctx := kerneltest.Stops(t, stats.Runner{}, chunk, time.Second, kerneltest.CancelOnRead)
	_, err := stats.Runner{}.Reduce(ctx, json.RawMessage(`{}`), in, nil)
	require.ErrorIs(t, err, context.Canceled)
}

func FuzzPrepare(f *testing.F) {
	for _, s := range []string{`{"values":[1,2,3]}`, `{"values":[]}`, `{"values":[1e150,-0,5e-324]}`, `{"values":[1,"x"]}`, `{"values":1}`, `[]`, `null`, ``, `{"values":[1],"x":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prep := kerneltest.Prepare(t, stats.Spec{}, s)
		if prep == nil {
			return
		}
		require.Positive(t, prep.Extent)
		require.Len(t, prep.Input, 8*int(prep.Extent))
	})
}

func FuzzReduce(f *testing.F) {
	in := bytes.NewReader(encode(1, -2, 3e100))
	for _, r := range []tasks.Range{{Lo: 0, Hi: 3}, {Lo: 1, Hi: 1}, {Lo: 0, Hi: 2}} {
		b, err := stats.Runner{}.Run(context.Background(), tasks.Chunk{Total: 1, Range: r, Input: in})
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := stats.Runner{}.Reduce(context.Background(), json.RawMessage(`{}`), nil, [][]byte{b})
		if err != nil {
			require.True(t, errors.Is(err, stats.ErrBadPartial), "%v", err)
			return
		}
		require.True(t, json.Valid(out.Result))
	})
}

// body is a stats request of n values of about 7 characters each.
func body(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 1))
	b := []byte(`{"values":[`)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(rng.IntN(2_000_000)-1_000_000)/1000, 'g', -1, 64)
	}
	return append(b, "]}"...)
}

func BenchmarkPrepare4M(b *testing.B) {
	raw := body(4 << 20)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := (stats.Spec{}).Prepare(raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(raw))/(1<<20), "MiB/body")
}

func BenchmarkRun1M(b *testing.B) {
	values := mixed(rand.New(rand.NewPCG(2, 2)), 1<<20)
	in := bytes.NewReader(encode(values...))
	chunk := tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: int64(len(values))}, Params: json.RawMessage(`{}`), Input: in}
	b.SetBytes(int64(8 * len(values)))
	for b.Loop() {
		if _, err := (stats.Runner{}).Run(b.Context(), chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(values)), "ns/value")
}

package primes_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/primes"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// result renders the expected result, as Reduce must.
func result(count int, sum string, first, last uint64) string {
	if count == 0 {
		return fmt.Sprintf(`{"count":0,"sum":"%s","first":null,"last":null}`, sum)
	}
	return fmt.Sprintf(`{"count":%d,"sum":"%s","first":%d,"last":%d}`, count, sum, first, last)
}

// referencePrimes lists the primes in [a, b) with a plain, unsegmented
// sieve of [a, b) by the primes up to √b, themselves from a plain sieve.
func referencePrimes(a, b uint64) []uint64 {
	r := uint64(1)
	for r*r < b {
		r++
	}
	small := make([]bool, r+1) // small[n]: n is composite
	var base []uint64
	for p := uint64(2); p <= r; p++ {
		if small[p] {
			continue
		}
		base = append(base, p)
		for m := p * p; m <= r; m += p {
			small[m] = true
		}
	}
	comp := make([]bool, b-a)
	for _, p := range base {
		for m := max((a+p-1)/p, p) * p; m < b; m += p {
			comp[m-a] = true
		}
	}
	var out []uint64
	for n := max(a, 2); n < b; n++ {
		if !comp[n-a] {
			out = append(out, n)
		}
	}
	return out
}

func referenceResult(a, b uint64) string {
	ps := referencePrimes(a, b)
	sum := new(big.Int)
	for _, p := range ps {
		sum.Add(sum, new(big.Int).SetUint64(p))
	}
	if len(ps) == 0 {
		return result(0, "0", 0, 0)
	}
	return result(len(ps), sum.String(), ps[0], ps[len(ps)-1])
}

func isPrimeTrial(n uint64) bool {
	if n < 2 {
		return false
	}
	for d := uint64(2); d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

func TestKnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		params string
		want   string
	}{
		{`{"to": 100000000}`, result(5761455, "279209790387276", 2, 99999989)}, // π(10^8)
		{`{"to": 2000000}`, result(148933, "142913828922", 2, 1999993)},
		{`{"from": 0, "to": 1e6}`, result(78498, "37550402023", 2, 999983)},
		{`{"to": 2}`, result(0, "0", 0, 0)},
		{`{"to": 1}`, result(0, "0", 0, 0)},
		{`{"from": 2, "to": 3}`, result(1, "2", 2, 2)},
		{`{"to": 3}`, result(1, "2", 2, 2)},
		{`{"from": 0, "to": 4}`, result(2, "5", 2, 3)},
		{`{"from": 3, "to": 4}`, result(1, "3", 3, 3)},
		{`{"from": 14, "to": 17}`, result(0, "0", 0, 0)},
		{`{"from": 24, "to": 29}`, result(0, "0", 0, 0)},
		{`{"from": 24, "to": 30}`, result(1, "29", 29, 29)},
		{`{"from": 1, "to": 128}`, result(31, "1720", 2, 127)},
		{`{"from": 127, "to": 132}`, result(2, "258", 127, 131)},
		{`{"from": 999999999989, "to": 999999999990}`, result(1, "999999999989", 999999999989, 999999999989)},
		{`{"from": 999999999990, "to": 1000000000000}`, result(0, "0", 0, 0)},
		// From primesieve 11.0 (count, first, last; sum of its printed list).
		{`{"from": 999990000000, "to": 1e12}`, result(362479, "362477187480235031", 999990000017, 999999999989)},
		{`{"from": 100000000000, "to": 100010000000}`, result(394401, "39442072145019487", 100000000003, 100009999967)},
		{`{"from": 4294000000, "to": 4296000000}`, result(89887, "386064741186987", 4294000079, 4295999993)},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			t.Parallel()
			out := kerneltest.MustRun(t, primes.Spec{}, primes.Runner{}, tt.params, 0)
			require.Equal(t, tt.want, string(out.Result))
			require.Nil(t, out.Artifact)
		})
	}
}

func TestNearMaxAgainstTrialDivision(t *testing.T) {
	t.Parallel()
	const from, to = 1_000_000_000_000 - 1000, 1_000_000_000_000
	var ps []uint64
	sum := new(big.Int)
	for n := uint64(from); n < to; n++ {
		if isPrimeTrial(n) {
			ps = append(ps, n)
			sum.Add(sum, new(big.Int).SetUint64(n))
		}
	}
	require.NotEmpty(t, ps)
	want := result(len(ps), sum.String(), ps[0], ps[len(ps)-1])
	params := fmt.Sprintf(`{"from": %d, "to": %d}`, from, to)
	out := kerneltest.Invariant(t, primes.Spec{}, primes.Runner{}, params, 1, 2, 3, 7, 64, 1001)
	require.Equal(t, want, string(out.Result))
}

func TestRandomRangesAgainstReference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 40 {
		var a, b uint64
		switch rng.IntN(4) {
		case 0: // small numbers, small widths
			a = rng.Uint64N(2000)
			b = a + 1 + rng.Uint64N(300)
		case 1: // anywhere below 10^7, wide enough for several pieces
			a = rng.Uint64N(10_000_000)
			b = a + 1 + rng.Uint64N(1_500_000)
		case 2: // large numbers, where many primes hit a block at most once
			a = 1_000_000_000_000 - 1 - rng.Uint64N(200_000_000_000)
			b = min(a+1+rng.Uint64N(300_000), 1_000_000_000_000)
		default: // across block boundaries (blocks of 7,864,320 integers)
			a = 7_864_320*(1+rng.Uint64N(1000)) - rng.Uint64N(1_500_000)
			b = a + 1 + rng.Uint64N(3_000_000)
		}
		chunks := 1 + rng.IntN(9)
		params := fmt.Sprintf(`{"from": %d, "to": %d}`, a, b)
		t.Run(params+"/"+strconv.Itoa(chunks), func(t *testing.T) {
			t.Parallel()
			out := kerneltest.MustRun(t, primes.Spec{}, primes.Runner{}, params, chunks)
			require.Equal(t, referenceResult(a, b), string(out.Result))
		})
	}
}

func TestChunkInvariance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		params string
		chunks []int
	}{
		{`{"to": 1000000}`, []int{1, 2, 3, 7, 64, 4096}},
		{`{"from": 12345, "to": 3000000}`, []int{1, 2, 3, 7, 64, 1000}},
		{`{"to": 10}`, []int{1, 2, 3, 7, 11, 64}},              // more chunks than numbers
		{`{"from": 50, "to": 53}`, []int{1, 2, 3, 4, 5, 4096}}, // one prime, 53 excluded
		{`{"from": 999998000000, "to": 1000000000000}`, []int{1, 2, 3, 7, 64}},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			t.Parallel()
			kerneltest.Invariant(t, primes.Spec{}, primes.Runner{}, tt.params, tt.chunks...)
		})
	}
}

func TestPrepare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		params string
		echo   string
		extent int64
		chunks int
	}{
		{`{"to": 10}`, `{"from":0,"to":10}`, 10, 1},
		{`{"to": 1e9, "from": null}`, `{"from":0,"to":1000000000}`, 1e9, 1},
		{`{"to": 1e10}`, `{"from":0,"to":10000000000}`, 1e10, 10},
		{`{"from": 9e11, "to": 1e12}`, `{"from":900000000000,"to":1000000000000}`, 1e11, 100},
		{`{"from": 999999999999, "to": 1e12}`, `{"from":999999999999,"to":1000000000000}`, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			t.Parallel()
			prep, err := primes.Spec{}.Prepare(json.RawMessage(tt.params))
			require.NoError(t, err)
			require.Equal(t, tt.echo, string(prep.Params))
			require.Nil(t, prep.Input)
			require.Equal(t, tt.extent, prep.Extent)
			require.Equal(t, tt.chunks, prep.DefaultChunks)
		})
	}
}

func TestPrepareValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		params string
		fields []string
	}{
		{``, []string{"to"}},
		{`null`, []string{"to"}},
		{`{}`, []string{"to"}},
		{`{"from": 5}`, []string{"to"}},
		{`[]`, []string{"", "to"}},
		{`{"to": 0}`, []string{"to"}},
		{`{"to": -5}`, []string{"to"}},
		{`{"to": 1000000000001}`, []string{"to"}},
		{`{"to": 1e13}`, []string{"to"}},
		{`{"to": 10.5}`, []string{"to"}},
		{`{"to": "10"}`, []string{"to"}},
		{`{"to": null}`, []string{"to"}},
		{`{"to": [10]}`, []string{"to"}},
		{`{"from": -1, "to": 10}`, []string{"from"}},
		{`{"from": 1e12, "to": 1e12}`, []string{"from"}},
		{`{"from": 0.5, "to": 10}`, []string{"from"}},
		{`{"from": "0", "to": 10}`, []string{"from"}},
		{`{"from": 10, "to": 10}`, []string{"to"}},
		{`{"from": 11, "to": 10}`, []string{"to"}},
		{`{"from": 0, "to": 100000000001}`, []string{"to"}},
		{`{"from": 1, "to": 100000000002}`, []string{"to"}},
		{`{"to": 10, "limit": 3}`, []string{"limit"}},
		{`{"from": -1, "to": 0, "x": 1, "a": 2}`, []string{"from", "to", "a", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.fields, kerneltest.RefusedFields(t, primes.Spec{}, tt.params))
		})
	}
	// The span bound is inclusive.
	_, err := primes.Spec{}.Prepare(json.RawMessage(`{"from": 5, "to": 100000000005}`))
	require.NoError(t, err)
}

func TestSchema(t *testing.T) {
	t.Parallel()
	spec := primes.Spec{}
	require.Equal(t, "primes", spec.Name())
	require.Empty(t, spec.ArtifactType())
	schema := kerneltest.CheckSpec(t, spec, primes.Runner{}, []string{"from", "to"}, []string{"to"})
	for _, name := range []string{"from", "to"} {
		require.Equal(t, "integer", schema.Properties[name]["type"], name) // described and bounded: CheckSpec
	}
	require.EqualValues(t, primes.MaxTo, schema.Properties["to"]["maximum"])
	require.EqualValues(t, 0, schema.Properties["from"]["default"])
}

func TestRunBadInput(t *testing.T) {
	t.Parallel()
	good := json.RawMessage(`{"from":10,"to":110}`)
	tests := []struct {
		name   string
		params json.RawMessage
		rng    tasks.Range
	}{
		{"bad json", json.RawMessage(`[`), tasks.Range{Lo: 0, Hi: 1}},
		{"to not above from", json.RawMessage(`{"from":5,"to":5}`), tasks.Range{}},
		{"to too large", json.RawMessage(`{"from":0,"to":1000000000001}`), tasks.Range{}},
		{"span too large", json.RawMessage(`{"from":1,"to":100000000002}`), tasks.Range{}},
		{"range past end", good, tasks.Range{Lo: 50, Hi: 101}},
		{"negative range", good, tasks.Range{Lo: -1, Hi: 5}},
		{"reversed range", good, tasks.Range{Lo: 5, Hi: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := primes.Runner{}.Run(t.Context(), tasks.Chunk{Total: 1, Range: tt.rng, Params: tt.params})
			require.ErrorIs(t, err, primes.ErrBadParams)
		})
	}
}

// partial builds a partial in the documented layout.
func partial(count, sumHi, sumLo, first, last uint64) []byte {
	b := []byte{1}
	for _, v := range []uint64{count, sumHi, sumLo, first, last} {
		for k := range 8 {
			b = append(b, byte(v>>(8*k)))
		}
	}
	return b
}

func TestReduceRejectsBadPartials(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	params := json.RawMessage(`{"from":0,"to":100}`)
	good, err := primes.Runner{}.Run(ctx, tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: 100}, Params: params})
	require.NoError(t, err)
	require.Equal(t, partial(25, 0, 1060, 2, 97), good)
	out, err := primes.Runner{}.Reduce(ctx, params, nil, [][]byte{good})
	require.NoError(t, err)
	require.Equal(t, result(25, "1060", 2, 97), string(out.Result))

	for name, partials := range map[string][][]byte{
		"none":              nil,
		"empty":             {{}},
		"short":             {good[:40]},
		"long":              {append(append([]byte(nil), good...), 0)},
		"version":           {append([]byte{2}, good[1:]...)},
		"empty with sum":    {partial(0, 0, 5, 0, 0)},
		"empty with first":  {partial(0, 0, 0, 2, 0)},
		"one, sum differs":  {partial(1, 0, 4, 3, 3)},
		"one, first > last": {partial(1, 0, 3, 3, 2)},
		"first > last":      {partial(2, 0, 5, 5, 3)},
		"count too large":   {partial(3, 0, 10, 3, 5)},
		"last past chunk":   {partial(1, 0, 101, 101, 101)},
		"wrong chunk":       {partial(0, 0, 0, 0, 0), good},
	} {
		_, err := primes.Runner{}.Reduce(ctx, params, nil, partials)
		require.ErrorIs(t, err, primes.ErrBadPartial, name)
	}
	_, err = primes.Runner{}.Reduce(ctx, json.RawMessage(`{"to":"x"}`), nil, [][]byte{good})
	require.ErrorIs(t, err, primes.ErrBadParams)
}

func TestCancel(t *testing.T) {
	t.Parallel()
	params := json.RawMessage(`{"from":900000000000,"to":1000000000000}`)
	chunk := tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: 100_000_000_000}, Params: params}

	kerneltest.Stops(t, primes.Runner{}, chunk, 2*time.Second, kerneltest.CancelAfter(50*time.Millisecond))
}

func FuzzPrepare(f *testing.F) {
	for _, s := range []string{
		``, `null`, `{}`, `{"to":10}`, `{"from":5,"to":10}`, `{"from":9e11,"to":1e12}`,
		`{"to":-1}`, `{"to":1e13}`, `{"from":10,"to":10}`, `{"to":"1"}`, `{"to":1,"x":2}`, `[1]`,
		`{"to":1e999999}`, `{"from":0,"to":100000000001}`, `{"to":99999999999.99999999}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, params string) {
		prep := kerneltest.Prepare(t, primes.Spec{}, params)
		if prep == nil {
			return
		}
		require.GreaterOrEqual(t, prep.Extent, int64(1))
		require.LessOrEqual(t, prep.Extent, int64(primes.MaxSpan))
	})
}

func FuzzReduce(f *testing.F) {
	f.Add(partial(25, 0, 1060, 2, 97), uint8(1))
	f.Add(partial(0, 0, 0, 0, 0), uint8(3))
	f.Add(partial(1, 0, 53, 53, 53), uint8(2))
	f.Add([]byte{}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, chunks uint8) {
		n := int(chunks%8) + 1
		partials := make([][]byte, n)
		for i := range partials {
			partials[i] = data
		}
		out, err := primes.Runner{}.Reduce(context.Background(), json.RawMessage(`{"from":0,"to":100}`), nil, partials)
		if err != nil {
			require.ErrorIs(t, err, primes.ErrBadPartial)
			return
		}
		var r struct {
			Count uint64
			Sum   string
		}
		require.NoError(t, json.Unmarshal(out.Result, &r))
		require.LessOrEqual(t, r.Count, uint64(100))
	})
}

// benchmark runs one chunk of n numbers from start, reporting throughput.
func benchmark(b *testing.B, start, n int64) {
	params := json.RawMessage(fmt.Sprintf(`{"from":%d,"to":%d}`, start, start+n))
	chunk := tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: n}, Params: params}
	for b.Loop() {
		if _, err := (primes.Runner{}).Run(b.Context(), chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "numbers/s")
}

// BenchmarkRunPi1e9 is π(10^9) in one chunk.
func BenchmarkRunPi1e9(b *testing.B) { benchmark(b, 0, 1e9) }

// BenchmarkRunPi1e10 is π(10^10) in one chunk.
func BenchmarkRunPi1e10(b *testing.B) { benchmark(b, 0, 1e10) }

// BenchmarkRunChunkNear1e12 is one default-sized chunk just below 10^12.
func BenchmarkRunChunkNear1e12(b *testing.B) { benchmark(b, 1e12-1e9, 1e9) }

// BenchmarkRunLast1e9Below1e10 is the last 10^9 numbers below 10^10: the
// sieving primes of π(10^10) in a tenth of its time.
func BenchmarkRunLast1e9Below1e10(b *testing.B) { benchmark(b, 9e9, 1e9) }

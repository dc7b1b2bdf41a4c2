package pi_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/pi"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type result struct {
	Samples  int64   `json:"samples"`
	Inside   int64   `json:"inside"`
	Estimate float64 `json:"estimate"`
	Stderr   float64 `json:"stderr"`
}

func decode(t *testing.T, out *tasks.Output) result {
	t.Helper()
	var r result
	require.NoError(t, json.Unmarshal(out.Result, &r))
	require.Nil(t, out.Artifact)
	return r
}

// reference counts the inside samples with Point, one by one.
func reference(seed, n uint64) int64 {
	var in int64
	for i := range n {
		if _, _, ok := pi.Point(seed, i); ok {
			in++
		}
	}
	return in
}

func TestPointIsSplitMix64(t *testing.T) {
	t.Parallel()
	// Published outputs of SplitMix64: the first output from seed 0, and
	// the first five from seed 1234567.
	cases := []struct {
		seed uint64
		want []uint64
	}{
		{0, []uint64{0xE220A8397B1DCDAF}},
		{1234567, []uint64{6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821}},
	}
	for _, c := range cases {
		for i, want := range c.want {
			x, y, _ := pi.Point(c.seed, uint64(i))
			require.Equal(t, want, x<<32|y, "seed %d output %d", c.seed, i)
		}
	}
}

func TestPointInside(t *testing.T) {
	t.Parallel()
	for i := range uint64(10000) {
		x, y, in := pi.Point(99, i)
		require.Less(t, x, uint64(1)<<32)
		require.Less(t, y, uint64(1)<<32)
		// Away from the circle, float64 decides reliably.
		xf, yf := float64(x), float64(y)
		if d := xf*xf + yf*yf - 0x1p64; math.Abs(d) > 0x1p20 {
			require.Equal(t, d < 0, in, "sample %d: x=%d y=%d", i, x, y)
		}
	}
}

func TestKnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		params string
		seed   uint64
		n      uint64
		want   string
	}{
		// Pinned values were checked against an independent Python
		// implementation of the documented algorithm.
		{`{"samples": 1}`, 0, 1, `{"samples":1,"inside":0,"estimate":0,"stderr":0}`},
		{`{"samples": 10}`, 0, 10, `{"samples":10,"inside":7,"estimate":2.8,"stderr":0.5796550698475775}`},
		{`{"samples": 1000, "seed": 42}`, 42, 1000, `{"samples":1000,"inside":795,"estimate":3.18,"stderr":0.051064664886788395}`},
		{`{"samples": 1e5, "seed": 9223372036854775807}`, math.MaxInt64, 1e5, ``},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			t.Parallel()
			out := kerneltest.MustRun(t, pi.Spec{}, pi.Runner{}, tt.params, 0)
			r := decode(t, out)
			require.Equal(t, reference(tt.seed, tt.n), r.Inside, "inside must follow the documented definition")
			if tt.want != "" {
				require.Equal(t, tt.want, string(out.Result))
			}
		})
	}
}

func TestChunkInvariance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		params string
		chunks []int
	}{
		{`{"samples": 100003, "seed": 7}`, []int{1, 2, 3, 7, 64, 4096}},
		{`{"samples": 5000000, "seed": 123}`, []int{1, 2, 3, 7, 64}},
		{`{"samples": 50}`, []int{1, 2, 7, 64, 4096}}, // more chunks than samples
		{`{"samples": 1, "seed": 5}`, []int{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			t.Parallel()
			kerneltest.Invariant(t, pi.Spec{}, pi.Runner{}, tt.params, tt.chunks...)
		})
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	const params = `{"samples": 1000000, "seed": 31337}`
	a := kerneltest.MustRun(t, pi.Spec{}, pi.Runner{}, params, 3)
	b := kerneltest.MustRun(t, pi.Spec{}, pi.Runner{}, params, 3)
	require.Equal(t, string(a.Result), string(b.Result))
}

func TestStatisticalSanity(t *testing.T) {
	t.Parallel()
	for _, seed := range []string{"0", "1", "2", "3", "20261123", "9223372036854775807"} {
		t.Run(seed, func(t *testing.T) {
			t.Parallel()
			r := decode(t, kerneltest.MustRun(t, pi.Spec{}, pi.Runner{}, `{"samples": 1000000, "seed": `+seed+`}`, 0))
			require.EqualValues(t, 1000000, r.Samples)
			require.Greater(t, r.Stderr, 0.0)
			require.InDelta(t, 4*float64(r.Inside)/1e6, r.Estimate, 1e-15)
			p := float64(r.Inside) / 1e6
			require.InDelta(t, 4*math.Sqrt(p*(1-p)/1e6), r.Stderr, 1e-15)
			require.Less(t, math.Abs(r.Estimate-math.Pi), 6*r.Stderr, "estimate %v, stderr %v", r.Estimate, r.Stderr)
		})
	}
}

func TestSeedsDiffer(t *testing.T) {
	t.Parallel()
	seen := map[int64]string{}
	for _, seed := range []string{"0", "1", "2", "3", "4"} {
		r := decode(t, kerneltest.MustRun(t, pi.Spec{}, pi.Runner{}, `{"samples": 100000, "seed": `+seed+`}`, 0))
		require.NotContains(t, seen, r.Inside, "seed %s gives the same inside as seed %s", seed, seen[r.Inside])
		seen[r.Inside] = seed
	}
	// The streams themselves differ sample by sample.
	same := 0
	for i := range uint64(1000) {
		x0, y0, _ := pi.Point(0, i)
		x1, y1, _ := pi.Point(1, i)
		if x0 == x1 && y0 == y1 {
			same++
		}
	}
	require.Zero(t, same)
}

func TestPrepare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		params string
		echo   string
		chunks int
	}{
		{`{"samples": 1}`, `{"samples":1,"seed":0}`, 1},
		{`{"seed": 3, "samples": 1e9}`, `{"samples":1000000000,"seed":3}`, 2},
		{`{"samples": 100000000000, "seed": 9223372036854775807}`, `{"samples":100000000000,"seed":9223372036854775807}`, 200},
		{`{"samples": 5e8, "seed": null}`, `{"samples":500000000,"seed":0}`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			t.Parallel()
			prep, err := pi.Spec{}.Prepare(json.RawMessage(tt.params))
			require.NoError(t, err)
			require.Equal(t, tt.echo, string(prep.Params))
			require.Nil(t, prep.Input)
			var p struct{ Samples int64 }
			require.NoError(t, json.Unmarshal(prep.Params, &p))
			require.Equal(t, p.Samples, prep.Extent)
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
		{``, []string{"samples"}},
		{`null`, []string{"samples"}},
		{`{}`, []string{"samples"}},
		{`[]`, []string{"", "samples"}},
		{`"x"`, []string{"", "samples"}},
		{`{"samples": 0}`, []string{"samples"}},
		{`{"samples": -1}`, []string{"samples"}},
		{`{"samples": 100000000001}`, []string{"samples"}},
		{`{"samples": 1e12}`, []string{"samples"}},
		{`{"samples": 1.5}`, []string{"samples"}},
		{`{"samples": "10"}`, []string{"samples"}},
		{`{"samples": true}`, []string{"samples"}},
		{`{"samples": null}`, []string{"samples"}},
		{`{"samples": 10, "seed": -1}`, []string{"seed"}},
		{`{"samples": 10, "seed": 9223372036854775808}`, []string{"seed"}},
		{`{"samples": 10, "seed": 0.5}`, []string{"seed"}},
		{`{"samples": 10, "seed": "1"}`, []string{"seed"}},
		{`{"samples": 10, "seeds": 1}`, []string{"seeds"}},
		{`{"samples": 0, "seed": -1, "extra": 1}`, []string{"samples", "seed", "extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.fields, kerneltest.RefusedFields(t, pi.Spec{}, tt.params))
		})
	}
}

func TestSchema(t *testing.T) {
	t.Parallel()
	spec := pi.Spec{}
	require.Equal(t, "pi", spec.Name())
	require.Empty(t, spec.ArtifactType())
	schema := kerneltest.CheckSpec(t, spec, pi.Runner{}, []string{"samples", "seed"}, []string{"samples"})
	for _, name := range []string{"samples", "seed"} {
		require.Equal(t, "integer", schema.Properties[name]["type"], name) // described and bounded: CheckSpec
	}
	require.EqualValues(t, pi.MaxSamples, schema.Properties["samples"]["maximum"])
	require.EqualValues(t, 0, schema.Properties["seed"]["default"])
}

func TestRunBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	good := json.RawMessage(`{"samples":100,"seed":0}`)
	tests := []struct {
		name   string
		params json.RawMessage
		rng    tasks.Range
	}{
		{"bad json", json.RawMessage(`{`), tasks.Range{Lo: 0, Hi: 1}},
		{"zero samples", json.RawMessage(`{"samples":0,"seed":0}`), tasks.Range{}},
		{"negative seed", json.RawMessage(`{"samples":1,"seed":-1}`), tasks.Range{Lo: 0, Hi: 1}},
		{"range past end", good, tasks.Range{Lo: 50, Hi: 101}},
		{"negative range", good, tasks.Range{Lo: -1, Hi: 5}},
		{"reversed range", good, tasks.Range{Lo: 5, Hi: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := pi.Runner{}.Run(ctx, tasks.Chunk{Total: 1, Range: tt.rng, Params: tt.params})
			require.ErrorIs(t, err, pi.ErrBadParams)
		})
	}
}

func TestReduceRejectsBadPartials(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	params := json.RawMessage(`{"samples":10,"seed":0}`)
	good, err := pi.Runner{}.Run(ctx, tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: 10}, Params: params})
	require.NoError(t, err)
	_, err = pi.Runner{}.Reduce(ctx, params, nil, [][]byte{good})
	require.NoError(t, err)

	tooMany := append([]byte(nil), good...)
	tooMany[9] = 11 // inside 11 of 10
	wrongCount := append([]byte(nil), good...)
	wrongCount[1] = 9
	badVersion := append([]byte(nil), good...)
	badVersion[0] = 2
	for name, partials := range map[string][][]byte{
		"none":        nil,
		"empty":       {{}},
		"short":       {good[:16]},
		"long":        {append(append([]byte(nil), good...), 0)},
		"version":     {badVersion},
		"inside":      {tooMany},
		"count":       {wrongCount},
		"wrong split": {good, good},
	} {
		_, err := pi.Runner{}.Reduce(ctx, params, nil, partials)
		require.ErrorIs(t, err, pi.ErrBadPartial, name)
	}
	_, err = pi.Runner{}.Reduce(ctx, json.RawMessage(`{"samples":"x"}`), nil, [][]byte{good})
	require.ErrorIs(t, err, pi.ErrBadParams)
}

func TestCancel(t *testing.T) {
	t.Parallel()
	params := json.RawMessage(`{"samples":100000000000,"seed":0}`)
	chunk := tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: 100_000_000_000}, Params: params}

	ctx := kerneltest.Stops(t, pi.Runner{}, chunk, 2*time.Second, kerneltest.CancelAfter(50*time.Millisecond))
	_, err := pi.Runner{}.Reduce(ctx, params, nil, [][]byte{{}})
	require.True(t, errors.Is(err, context.Canceled) || errors.Is(err, pi.ErrBadPartial))
}

func FuzzPrepare(f *testing.F) {
	for _, s := range []string{
		``, `null`, `{}`, `{"samples":1}`, `{"samples":1e11,"seed":9223372036854775807}`,
		`{"samples":-1}`, `{"samples":1.5}`, `{"samples":"1"}`, `{"samples":1,"x":2}`, `[1]`,
		`{"samples":1e999999}`, `{"samples":100000000000.0000001}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, params string) {
		prep := kerneltest.Prepare(t, pi.Spec{}, params)
		if prep == nil {
			return
		}
		require.GreaterOrEqual(t, prep.Extent, int64(1))
		require.LessOrEqual(t, prep.Extent, int64(pi.MaxSamples))
	})
}

func FuzzReduce(f *testing.F) {
	good, err := pi.Runner{}.Run(context.Background(), tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: 100}, Params: json.RawMessage(`{"samples":100,"seed":0}`)})
	require.NoError(f, err)
	f.Add(good, uint8(1))
	f.Add([]byte{}, uint8(1))
	f.Add([]byte{1, 100, 0, 0, 0, 0, 0, 0, 0, 101, 0, 0, 0, 0, 0, 0, 0}, uint8(1))
	f.Add(good, uint8(3))
	f.Fuzz(func(t *testing.T, partial []byte, chunks uint8) {
		n := int(chunks%8) + 1
		partials := make([][]byte, n)
		for i := range partials {
			partials[i] = partial
		}
		out, err := pi.Runner{}.Reduce(context.Background(), json.RawMessage(`{"samples":100,"seed":0}`), nil, partials)
		if err != nil {
			require.ErrorIs(t, err, pi.ErrBadPartial)
			return
		}
		var r result
		require.NoError(t, json.Unmarshal(out.Result, &r))
		require.LessOrEqual(t, r.Inside, int64(100))
		require.True(t, strings.HasPrefix(string(out.Result), `{"samples":100,"inside":`))
	})
}

func BenchmarkRunChunk(b *testing.B) {
	// One default-sized chunk: 5·10^8 samples.
	const n = 500_000_000
	params := json.RawMessage(`{"samples":100000000000,"seed":1}`)
	chunk := tasks.Chunk{Total: 200, Range: tasks.Range{Lo: 0, Hi: n}, Params: params}
	for b.Loop() {
		if _, err := (pi.Runner{}).Run(b.Context(), chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e9/(float64(n)*float64(b.N)), "ns/sample")
}

package pricing_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/crunchjobs/crunch/examples/option-pricing/pricing"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func decode(t *testing.T, out *tasks.Output) pricing.Result {
	t.Helper()
	var r pricing.Result
	require.NoError(t, json.Unmarshal(out.Result, &r))
	require.Nil(t, out.Artifact)
	return r
}

// The textbook cases: the closed form matches the published prices, and
// the Monte Carlo price lies within four standard errors of it.
func TestKnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		params    string
		call, put float64 // published closed-form prices
		tol       float64 // their rounding
	}{
		// The usual at-the-money example: 10.4506 and 5.5735.
		{"atm", `{"spot":100,"strike":100,"rate":0.05,"volatility":0.2,"maturity":1,"paths":1e6}`, 10.4506, 5.5735, 5e-5},
		// Hull, Options, Futures and Other Derivatives, the Black–Scholes–Merton
		// chapter's example: 4.76 and 0.81.
		{"hull", `{"spot":42,"strike":40,"rate":0.1,"volatility":0.2,"maturity":0.5,"paths":1e6,"seed":7}`, 4.76, 0.81, 5e-3},
		// Deep out of the money call, long maturity, no rate.
		{"otm", `{"spot":50,"strike":120,"volatility":0.35,"maturity":3,"paths":1e6,"seed":3}`, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := decode(t, kerneltest.MustRun(t, pricing.Spec{}, pricing.Runner{}, tt.params, 0))
			if tt.tol > 0 {
				require.InDelta(t, tt.call, r.Call.BlackScholes, tt.tol)
				require.InDelta(t, tt.put, r.Put.BlackScholes, tt.tol)
			}
			for name, o := range map[string]pricing.Option{"call": r.Call, "put": r.Put} {
				require.Greater(t, o.Stderr, 0.0, name)
				require.Less(t, math.Abs(o.Price-o.BlackScholes), 4*o.Stderr, "%s: %+v", name, o)
				require.InDelta(t, o.Price-1.959963984540054*o.Stderr, o.Interval95[0], 1e-12, name)
				require.InDelta(t, o.Price+1.959963984540054*o.Stderr, o.Interval95[1], 1e-12, name)
			}
		})
	}
}

// The standard errors shrink as 1/√paths and match the payoff's spread.
func TestStderr(t *testing.T) {
	t.Parallel()
	small := decode(t, kerneltest.MustRun(t, pricing.Spec{}, pricing.Runner{}, `{"spot":100,"strike":100,"rate":0.05,"volatility":0.2,"maturity":1,"paths":40000}`, 0))
	large := decode(t, kerneltest.MustRun(t, pricing.Spec{}, pricing.Runner{}, `{"spot":100,"strike":100,"rate":0.05,"volatility":0.2,"maturity":1,"paths":640000}`, 0))
	require.InDelta(t, 4, small.Call.Stderr/large.Call.Stderr, 0.2)
	// The call payoff of this case has a standard deviation of about 14.7.
	require.InDelta(t, 14.7/math.Sqrt(640000), large.Call.Stderr, 0.001)
}

func TestChunkInvariance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		params string
		chunks []int
	}{
		{`{"spot":100,"strike":100,"rate":0.05,"volatility":0.2,"maturity":1,"paths":100003,"seed":11}`, []int{1, 7, 64, 4096}},
		{`{"spot":0.001,"strike":100000000,"rate":-0.5,"volatility":1,"maturity":10,"paths":50000,"seed":9223372036854775807}`, []int{1, 7, 64}},
		{`{"spot":100000000,"strike":0.001,"rate":0.5,"volatility":1,"maturity":10,"paths":50000}`, []int{1, 7, 64}},
		{`{"spot":100,"strike":90,"volatility":0.3,"maturity":0.25,"paths":5}`, []int{1, 2, 7, 64}}, // more chunks than paths
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			t.Parallel()
			kerneltest.Invariant(t, pricing.Spec{}, pricing.Runner{}, tt.params, tt.chunks...)
		})
	}
}

func TestSeedsDiffer(t *testing.T) {
	t.Parallel()
	const params = `{"spot":100,"strike":100,"volatility":0.2,"maturity":1,"paths":10000,"seed":`
	a := decode(t, kerneltest.MustRun(t, pricing.Spec{}, pricing.Runner{}, params+`1}`, 0))
	b := decode(t, kerneltest.MustRun(t, pricing.Spec{}, pricing.Runner{}, params+`2}`, 0))
	require.NotEqual(t, a.Call.Price, b.Call.Price)
	require.Equal(t, a.Call.BlackScholes, b.Call.BlackScholes)
}

func TestBlackScholesParity(t *testing.T) {
	t.Parallel()
	for _, c := range [][5]float64{
		{100, 100, 0.05, 0.2, 1}, {42, 40, 0.1, 0.2, 0.5}, {10, 30, -0.02, 0.6, 7}, {1e8, 1e8, 0.5, 1, 10}, {5, 5, 0, 0.001, 0.001},
	} {
		call, put := pricing.BlackScholes(c[0], c[1], c[2], c[3], c[4])
		parity := c[0] - c[1]*math.Exp(-c[2]*c[4]) // call − put = spot − strike·e^(−rT)
		require.InDelta(t, parity, call-put, 1e-12*c[0], "%v", c)
		require.GreaterOrEqual(t, call, 0.0)
		require.GreaterOrEqual(t, put, 0.0)
	}
}

func TestPrepare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		params string
		echo   string
		chunks int
	}{
		{`{"spot":100,"strike":100,"volatility":0.2,"maturity":1}`,
			`{"spot":100,"strike":100,"rate":0,"volatility":0.2,"maturity":1,"paths":1000000,"seed":0}`, 1},
		{`{"seed":5,"paths":1e10,"maturity":10,"volatility":1,"rate":-0.5,"strike":1e8,"spot":0.001}`,
			`{"spot":0.001,"strike":100000000,"rate":-0.5,"volatility":1,"maturity":10,"paths":10000000000,"seed":5}`, 500},
		{"{ \"spot\" : 1e2 ,\n\t\"strike\":100.0, \"volatility\": 0.2 , \"maturity\" :1 }",
			`{"spot":100,"strike":100,"rate":0,"volatility":0.2,"maturity":1,"paths":1000000,"seed":0}`, 1},
		{`{"spot":42,"strike":40,"rate":0.1,"volatility":0.2,"maturity":0.5,"paths":2,"seed":null}`,
			`{"spot":42,"strike":40,"rate":0.1,"volatility":0.2,"maturity":0.5,"paths":2,"seed":0}`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			t.Parallel()
			prep := kerneltest.Prepare(t, pricing.Spec{}, tt.params)
			require.NotNil(t, prep)
			require.Equal(t, tt.echo, string(prep.Params))
			require.Nil(t, prep.Input)
			var p pricing.Params
			require.NoError(t, json.Unmarshal(prep.Params, &p))
			require.Equal(t, p.Paths, prep.Extent)
			require.Equal(t, tt.chunks, prep.DefaultChunks)
		})
	}
}

func TestPrepareValidation(t *testing.T) {
	t.Parallel()
	const ok = `"spot":100,"strike":100,"volatility":0.2,"maturity":1`
	tests := []struct {
		params string
		fields []string
	}{
		{``, []string{"spot", "strike", "volatility", "maturity"}},
		{`{}`, []string{"spot", "strike", "volatility", "maturity"}},
		{`[]`, []string{"", "spot", "strike", "volatility", "maturity"}},
		{`{"spot":0,"strike":100,"volatility":0.2,"maturity":1}`, []string{"spot"}},
		{`{"spot":-5,"strike":100,"volatility":0.2,"maturity":1}`, []string{"spot"}},
		{`{"spot":1e9,"strike":100,"volatility":0.2,"maturity":1}`, []string{"spot"}},
		{`{"spot":"100","strike":100,"volatility":0.2,"maturity":1}`, []string{"spot"}},
		{`{"spot":null,"strike":100,"volatility":0.2,"maturity":1}`, []string{"spot"}},
		{`{"spot":100,"strike":0.0001,"volatility":0.2,"maturity":1}`, []string{"strike"}},
		{`{` + ok + `,"rate":0.6}`, []string{"rate"}},
		{`{` + ok + `,"rate":true}`, []string{"rate"}},
		{`{"spot":100,"strike":100,"volatility":0,"maturity":1}`, []string{"volatility"}},
		{`{"spot":100,"strike":100,"volatility":1.5,"maturity":1}`, []string{"volatility"}},
		{`{"spot":100,"strike":100,"volatility":0.2,"maturity":0}`, []string{"maturity"}},
		{`{"spot":100,"strike":100,"volatility":0.2,"maturity":11}`, []string{"maturity"}},
		{`{` + ok + `,"paths":1}`, []string{"paths"}},
		{`{` + ok + `,"paths":1e11}`, []string{"paths"}},
		{`{` + ok + `,"paths":1000.5}`, []string{"paths"}},
		{`{` + ok + `,"seed":-1}`, []string{"seed"}},
		{`{` + ok + `,"seed":9223372036854775808}`, []string{"seed"}},
		{`{` + ok + `,"sigma":0.2}`, []string{"sigma"}},
		{`{"spot":0,"volatility":2,"maturity":1,"paths":0,"extra":1}`, []string{"spot", "strike", "volatility", "paths", "extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.fields, kerneltest.RefusedFields(t, pricing.Spec{}, tt.params))
		})
	}
}

func TestValidationMessages(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ params, want string }{
		{`{"spot":100,"strike":100,"volatility":2,"maturity":1}`, "volatility: must be a number from 0.001 to 1"},
		{`{"spot":"100","strike":100,"volatility":0.2,"maturity":1}`, "spot: must be a number from 0.001 to 1e+08"},
		{`{"spot":1e999,"strike":100,"volatility":0.2,"maturity":1}`, "spot: must be a number from 0.001 to 1e+08"},
		{`{"spot":100,"volatility":0.2,"maturity":1}`, "strike: is required: a number from 0.001 to 1e+08"},
		{`{"spot":100,"strike":100,"volatility":0.2,"maturity":1,"rate":[0.1]}`, "rate: must be a number from -0.5 to 0.5"},
	} {
		_, err := pricing.Spec{}.Prepare(json.RawMessage(tt.params))
		require.EqualError(t, err, "invalid params: "+tt.want, tt.params)
	}
}

func TestSchema(t *testing.T) {
	t.Parallel()
	spec := pricing.Spec{}
	require.Equal(t, "european-option", spec.Name())
	require.Empty(t, spec.ArtifactType())
	schema := kerneltest.CheckSpec(t, spec, pricing.Runner{},
		[]string{"spot", "strike", "rate", "volatility", "maturity", "paths", "seed"},
		[]string{"spot", "strike", "volatility", "maturity"})
	for name, prop := range schema.Properties {
		require.Contains(t, prop, "minimum", name)
		require.Contains(t, prop, "maximum", name)
	}
	require.EqualValues(t, pricing.MaxPaths, schema.Properties["paths"]["maximum"])
	require.EqualValues(t, pricing.DefaultPaths, schema.Properties["paths"]["default"])
}

func TestStops(t *testing.T) {
	t.Parallel()
	prep := kerneltest.Prepare(t, pricing.Spec{}, `{"spot":100,"strike":100,"volatility":0.2,"maturity":1,"paths":1e10}`)
	chunk := tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: prep.Extent}, Params: prep.Params}
	ctx := kerneltest.Stops(t, pricing.Runner{}, chunk, 2*time.Second, kerneltest.CancelAfter(100*time.Millisecond))
	_, err := pricing.Runner{}.Reduce(ctx, prep.Params, nil, [][]byte{{1}})
	require.ErrorIs(t, err, context.Canceled)
}

func TestRunBadInput(t *testing.T) {
	t.Parallel()
	good := json.RawMessage(`{"spot":100,"strike":100,"rate":0,"volatility":0.2,"maturity":1,"paths":100,"seed":0}`)
	for _, tt := range []struct {
		name   string
		params json.RawMessage
		rng    tasks.Range
	}{
		{"bad json", json.RawMessage(`{`), tasks.Range{Lo: 0, Hi: 1}},
		{"one path", json.RawMessage(`{"spot":100,"strike":100,"rate":0,"volatility":0.2,"maturity":1,"paths":1,"seed":0}`), tasks.Range{Lo: 0, Hi: 1}},
		{"volatility", json.RawMessage(`{"spot":100,"strike":100,"rate":0,"volatility":5,"maturity":1,"paths":100,"seed":0}`), tasks.Range{Lo: 0, Hi: 1}},
		{"negative seed", json.RawMessage(`{"spot":100,"strike":100,"rate":0,"volatility":0.2,"maturity":1,"paths":100,"seed":-1}`), tasks.Range{Lo: 0, Hi: 1}},
		{"range past end", good, tasks.Range{Lo: 50, Hi: 101}},
		{"negative range", good, tasks.Range{Lo: -1, Hi: 5}},
		{"reversed range", good, tasks.Range{Lo: 5, Hi: 4}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := pricing.Runner{}.Run(t.Context(), tasks.Chunk{Total: 1, Range: tt.rng, Params: tt.params})
			require.ErrorIs(t, err, pricing.ErrBadParams)
		})
	}
}

func TestReduceRejectsBadPartials(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	params := json.RawMessage(`{"spot":100,"strike":100,"rate":0,"volatility":0.2,"maturity":1,"paths":10,"seed":0}`)
	good, err := pricing.Runner{}.Run(ctx, tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: 10}, Params: params})
	require.NoError(t, err)
	require.Len(t, good, 89)
	_, err = pricing.Runner{}.Reduce(ctx, params, nil, [][]byte{good})
	require.NoError(t, err)

	edit := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	half := edit(func(b []byte) { b[1] = 5 }) // a partial of 5 paths
	overflow := edit(func(b []byte) {
		b[1] = 5
		for i := 9; i < 9+16; i++ { // Σ units of the call: 2^128 − 1
			b[i] = 0xff
		}
	})
	for name, partials := range map[string][][]byte{
		"none":        nil,
		"empty":       {{}},
		"short":       {good[:88]},
		"long":        {append(append([]byte(nil), good...), 0)},
		"version":     {edit(func(b []byte) { b[0] = 2 })},
		"paths":       {edit(func(b []byte) { b[1] = 9 })},
		"two for one": {good, good},
		"overflow":    {half, overflow},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := pricing.Runner{}.Reduce(ctx, params, nil, partials)
			require.ErrorIs(t, err, pricing.ErrBadPartial)
		})
	}
}

func BenchmarkRunChunk(b *testing.B) {
	const n = 1_000_000
	params := json.RawMessage(`{"spot":100,"strike":100,"rate":0.05,"volatility":0.2,"maturity":1,"paths":1000000,"seed":1}`)
	chunk := tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: n}, Params: params}
	for b.Loop() {
		if _, err := (pricing.Runner{}).Run(b.Context(), chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/(float64(n)*float64(b.N)), "ns/path")
}

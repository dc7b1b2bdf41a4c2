package mandelbrot_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/mandelbrot"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestNames(t *testing.T) {
	t.Parallel()
	require.Equal(t, "mandelbrot", mandelbrot.Spec{}.Name())
	require.Equal(t, "mandelbrot", mandelbrot.Runner{}.Name())
	require.Equal(t, "image/png", mandelbrot.Spec{}.ArtifactType())
	require.NotEmpty(t, mandelbrot.Spec{}.Description())
}

func TestParamsSchema(t *testing.T) {
	t.Parallel()
	require.Equal(t, "image/png", mandelbrot.Spec{}.ArtifactType())
	kerneltest.CheckSpec(t, mandelbrot.Spec{}, mandelbrot.Runner{},
		[]string{"width", "height", "max_iter", "x_min", "x_max", "y_min", "y_max"}, nil)
}

func TestPrepareDefaults(t *testing.T) {
	t.Parallel()
	for _, params := range []string{"", "null", "{}"} {
		var raw json.RawMessage
		if params != "" {
			raw = json.RawMessage(params)
		}
		prep, err := mandelbrot.Spec{}.Prepare(raw)
		require.NoError(t, err)
		require.Equal(t, `{"width":1024,"height":768,"max_iter":256,"x_min":-2.5,"x_max":1,"y_min":-1.25,"y_max":1.25}`, string(prep.Params))
		require.EqualValues(t, 768, prep.Extent)
		require.Nil(t, prep.Input)
		require.Equal(t, 2, prep.DefaultChunks)
	}
}

func TestPrepareEcho(t *testing.T) {
	t.Parallel()
	prep, err := mandelbrot.Spec{}.Prepare(json.RawMessage(`{"y_max":0.5,"x_min":-1e0,"max_iter":1e3,"height":10,"width":2e1}`))
	require.NoError(t, err)
	require.Equal(t, `{"width":20,"height":10,"max_iter":1000,"x_min":-1,"x_max":1,"y_min":-1.25,"y_max":0.5}`, string(prep.Params))
}

func TestDefaultChunks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		params string
		want   int
	}{
		{`{"width":1,"height":1,"max_iter":1}`, 1},
		{`{"width":100,"height":100}`, 1},
		{`{"width":4096,"height":4096,"max_iter":5960}`, 500},
		{`{"width":16777216,"height":1,"max_iter":5960}`, 1},
		{`{"width":2,"height":3,"max_iter":100000}`, 1},
		{`{"width":4000,"height":4000,"max_iter":1000}`, 80},
	} {
		prep, err := mandelbrot.Spec{}.Prepare(json.RawMessage(tc.params))
		require.NoError(t, err, tc.params)
		require.Equal(t, tc.want, prep.DefaultChunks, tc.params)
	}
}

func TestPrepareValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		params string
		fields []string
	}{
		{`[]`, []string{""}},
		{`{"width":0}`, []string{"width"}},
		{`{"width":16777217}`, []string{"width"}},
		{`{"width":1.5}`, []string{"width"}},
		{`{"width":"10"}`, []string{"width"}},
		{`{"height":0}`, []string{"height"}},
		{`{"height":-1}`, []string{"height"}},
		{`{"width":4097,"height":4096}`, []string{"width"}},
		{`{"width":16777216,"height":2}`, []string{"width"}},
		{`{"max_iter":0}`, []string{"max_iter"}},
		{`{"max_iter":100001}`, []string{"max_iter"}},
		{`{"max_iter":true}`, []string{"max_iter"}},
		{`{"width":4096,"height":4096,"max_iter":5961}`, []string{"max_iter"}},
		{`{"width":16777216,"height":1,"max_iter":5961}`, []string{"max_iter"}},
		{`{"x_min":1,"x_max":1}`, []string{"x_max"}},
		{`{"x_min":2}`, []string{"x_max"}},
		{`{"y_min":1.25}`, []string{"y_max"}},
		{`{"y_max":-2}`, []string{"y_max"}},
		{`{"x_min":-1000001}`, []string{"x_min"}},
		{`{"x_max":1e7}`, []string{"x_max"}},
		{`{"y_min":"a"}`, []string{"y_min"}},
		{`{"y_max":1e999}`, []string{"y_max"}},
		{`{"zoom":2}`, []string{"zoom"}},
		{`{"width":0,"max_iter":0,"colour":1}`, []string{"width", "max_iter", "colour"}},
	} {
		t.Run(tc.params, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.fields, kerneltest.RefusedFields(t, mandelbrot.Spec{}, tc.params))
		})
	}
}

func TestPrepareBoundsAccepted(t *testing.T) {
	t.Parallel()
	for _, params := range []string{
		`{"width":1,"height":1,"max_iter":1}`,
		`{"width":4096,"height":4096,"max_iter":5960}`,
		`{"width":1,"height":16777216,"max_iter":5960}`,
		`{"width":1000,"height":1000,"max_iter":100000}`,
		`{"x_min":-1e6,"x_max":1e6,"y_min":-1e6,"y_max":1e6}`,
		`{"x_min":0.1,"x_max":0.10000000000000002}`,
	} {
		_, err := mandelbrot.Spec{}.Prepare(json.RawMessage(params))
		require.NoError(t, err, params)
	}
}

func TestChunkInvariance(t *testing.T) {
	t.Parallel()
	for _, params := range []string{
		`{"width":97,"height":61,"max_iter":300}`,
		`{"width":50,"height":40,"max_iter":1000,"x_min":-0.75,"x_max":-0.74,"y_min":0.1,"y_max":0.11}`,
		`{"width":5,"height":3,"max_iter":20}`,
		`{"width":301,"height":1,"max_iter":200,"y_min":-0.01,"y_max":0.01}`,
	} {
		t.Run(params, func(t *testing.T) {
			t.Parallel()
			kerneltest.Invariant(t, mandelbrot.Spec{}, mandelbrot.Runner{}, params, 1, 2, 3, 7, 64, 100, 0)
		})
	}
}

func TestPNG(t *testing.T) {
	t.Parallel()
	out := kerneltest.MustRun(t, mandelbrot.Spec{}, mandelbrot.Runner{}, `{"width":120,"height":80,"max_iter":100}`, 4)
	cfg, format, err := image.DecodeConfig(bytes.NewReader(out.Artifact))
	require.NoError(t, err)
	require.Equal(t, "png", format)
	require.Equal(t, 120, cfg.Width)
	require.Equal(t, 80, cfg.Height)
	img, err := png.Decode(bytes.NewReader(out.Artifact))
	require.NoError(t, err)
	// The centre of the main cardioid is black, the far corner is not.
	require.Equal(t, uint32(0), gray(img.At(85, 40)))
	require.NotEqual(t, uint32(0), gray(img.At(0, 0)))

	var res struct {
		Width, Height, MaxIter, Inside int64
	}
	dec := json.NewDecoder(bytes.NewReader(out.Result))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&struct {
		Width   *int64 `json:"width"`
		Height  *int64 `json:"height"`
		MaxIter *int64 `json:"max_iter"`
		Inside  *int64 `json:"inside"`
	}{&res.Width, &res.Height, &res.MaxIter, &res.Inside}))
	require.Greater(t, res.Inside, int64(0))
	require.Less(t, res.Inside, int64(120*80))
	require.Regexp(t, `^\{"width":120,"height":80,"max_iter":100,"inside":\d+\}$`, string(out.Result))
}

func gray(c interface{ RGBA() (r, g, b, a uint32) }) uint32 {
	r, g, b, _ := c.RGBA()
	return r + g + b
}

func TestEdgeCases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		params string
		want   string
	}{
		// The single pixel is c = (-0.75, 0): inside the main cardioid's cusp neighbourhood.
		{`{"width":1,"height":1,"max_iter":1}`, `{"width":1,"height":1,"max_iter":1,"inside":1}`},
		{`{"width":1,"height":1,"max_iter":1000}`, `{"width":1,"height":1,"max_iter":1000,"inside":1}`},
		// Far from the set every pixel escapes at the first iteration.
		{`{"width":3,"height":2,"max_iter":1,"x_min":100,"x_max":200}`, `{"width":3,"height":2,"max_iter":1,"inside":0}`},
		// With max_iter 1 only |c| > 2 escapes.
		{`{"width":4,"height":1,"max_iter":1,"x_min":-4,"x_max":4,"y_min":-0.5,"y_max":0.5}`, `{"width":4,"height":1,"max_iter":1,"inside":2}`},
	} {
		out := kerneltest.Invariant(t, mandelbrot.Spec{}, mandelbrot.Runner{}, tc.params, 1, 2, 5)
		require.Equal(t, tc.want, string(out.Result))
		cfg, err := png.DecodeConfig(bytes.NewReader(out.Artifact))
		require.NoError(t, err)
		require.Positive(t, cfg.Width)
	}
}

func TestEmptyChunk(t *testing.T) {
	t.Parallel()
	prep, err := mandelbrot.Spec{}.Prepare(json.RawMessage(`{"width":3,"height":1}`))
	require.NoError(t, err)
	p, err := mandelbrot.Runner{}.Run(t.Context(), tasks.Chunk{Index: 1, Total: 2, Range: tasks.Range{Lo: 1, Hi: 1}, Params: prep.Params})
	require.NoError(t, err)
	require.Len(t, p, 24)
}

func TestRunRejectsBadRange(t *testing.T) {
	t.Parallel()
	prep, err := mandelbrot.Spec{}.Prepare(json.RawMessage(`{"width":3,"height":4}`))
	require.NoError(t, err)
	for _, r := range []tasks.Range{{Lo: -1, Hi: 2}, {Lo: 3, Hi: 2}, {Lo: 0, Hi: 5}} {
		_, err := mandelbrot.Runner{}.Run(t.Context(), tasks.Chunk{Range: r, Params: prep.Params})
		require.Error(t, err, r)
	}
	_, err = mandelbrot.Runner{}.Run(t.Context(), tasks.Chunk{Range: tasks.Range{Lo: 0, Hi: 1}, Params: json.RawMessage(`{"width":0}`)})
	require.Error(t, err)
}

func TestReduceRejectsCorruptPartials(t *testing.T) {
	t.Parallel()
	params := `{"width":4,"height":3,"max_iter":50}`
	prep, err := mandelbrot.Spec{}.Prepare(json.RawMessage(params))
	require.NoError(t, err)
	run := func(lo, hi int64) []byte {
		p, err := mandelbrot.Runner{}.Run(t.Context(), tasks.Chunk{Range: tasks.Range{Lo: lo, Hi: hi}, Params: prep.Params})
		require.NoError(t, err)
		return p
	}
	a, b := run(0, 2), run(2, 3)
	withByte := func(p []byte, i int, v byte) []byte {
		q := bytes.Clone(p)
		q[i] = v
		return q
	}
	badInside := bytes.Clone(b)
	binary.LittleEndian.PutUint64(badInside[16:], 99)
	for name, partials := range map[string][][]byte{
		"none":          nil,
		"missing rows":  {a},
		"out of order":  {b, a},
		"overlap":       {a, run(1, 3)},
		"bad magic":     {withByte(a, 0, 'X'), b},
		"short":         {a[:10], b},
		"truncated":     {a[:len(a)-1], b},
		"extra":         {append(bytes.Clone(a), 1), b},
		"wrong width":   {withByte(a, 12, 5), b},
		"inside count":  {a, badInside},
		"past height":   {a, withByte(b, 8, 4)},
		"hi before lo":  {a, withByte(b, 8, 1)},
		"duplicate end": {a, b, b},
	} {
		_, err := mandelbrot.Runner{}.Reduce(t.Context(), prep.Params, nil, partials)
		require.ErrorIs(t, err, mandelbrot.ErrCorruptPartial, name)
	}
	out, err := mandelbrot.Runner{}.Reduce(t.Context(), prep.Params, nil, [][]byte{a, run(2, 2), b})
	require.NoError(t, err)
	require.Equal(t, kerneltest.MustRun(t, mandelbrot.Spec{}, mandelbrot.Runner{}, params, 1).Artifact, out.Artifact)
}

func TestCancellation(t *testing.T) {
	t.Parallel()
	// 2000×2000 inside the main cardioid at 25000 iterations: minutes of work
	// were it not stopped (cycle detection cannot help on the edge of it).
	prep, err := mandelbrot.Spec{}.Prepare(json.RawMessage(`{"width":2000,"height":2000,"max_iter":25000,"x_min":-0.7501,"x_max":-0.7499,"y_min":-0.0001,"y_max":0.0001}`))
	require.NoError(t, err)
	ch := tasks.Chunk{Range: tasks.Range{Lo: 0, Hi: 2000}, Params: prep.Params}

	// Pieces take about 10 ms; the bound leaves room for a loaded machine
	// and the race detector. Uncancelled, this chunk runs for many minutes.
	ctx := kerneltest.Stops(t, mandelbrot.Runner{}, ch, 10*time.Second, kerneltest.CancelAfter(50*time.Millisecond))

	_, err = mandelbrot.Runner{}.Reduce(ctx, prep.Params, nil, [][]byte{nil})
	require.Error(t, err)
	require.True(t, errors.Is(err, context.Canceled) || errors.Is(err, mandelbrot.ErrCorruptPartial))
}

func FuzzPrepare(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"width":1,"height":1,"max_iter":1}`, `{"width":4096,"height":4096,"max_iter":5960}`,
		`{"x_min":1,"x_max":0}`, `{"width":1e30}`, `{"max_iter":-5}`, `{"y_min":-1e6,"y_max":1e6}`, `{"width":"x"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, params string) {
		prep := kerneltest.Prepare(t, mandelbrot.Spec{}, params)
		if prep == nil {
			return
		}
		require.GreaterOrEqual(t, prep.Extent, int64(1))
		require.LessOrEqual(t, int64(prep.DefaultChunks), prep.Extent)
		require.True(t, json.Valid(prep.Params))
	})
}

func FuzzReduce(f *testing.F) {
	params := json.RawMessage(`{"width":3,"height":2,"max_iter":10}`)
	good, err := mandelbrot.Runner{}.Run(context.Background(), tasks.Chunk{Range: tasks.Range{Lo: 0, Hi: 2}, Params: params})
	require.NoError(f, err)
	f.Add(good)
	f.Add(good[:24])
	f.Add([]byte("MDB1"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, partial []byte) {
		out, err := mandelbrot.Runner{}.Reduce(context.Background(), params, nil, [][]byte{partial})
		if err == nil {
			_, err := png.DecodeConfig(bytes.NewReader(out.Artifact))
			require.NoError(t, err)
		}
	})
}

func BenchmarkRun(b *testing.B) {
	for _, tc := range []struct{ name, params string }{
		{"default", `{}`},
		{"seahorse", `{"width":512,"height":512,"max_iter":2000,"x_min":-0.7470,"x_max":-0.7420,"y_min":0.0980,"y_max":0.1020}`},
		{"cardioid-edge", `{"width":256,"height":256,"max_iter":5000,"x_min":-0.7501,"x_max":-0.7499,"y_min":-0.0001,"y_max":0.0001}`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			prep, err := mandelbrot.Spec{}.Prepare(json.RawMessage(tc.params))
			require.NoError(b, err)
			ch := tasks.Chunk{Range: tasks.Range{Lo: 0, Hi: prep.Extent}, Params: prep.Params}
			var iters float64
			for b.Loop() {
				p, err := mandelbrot.Runner{}.Run(b.Context(), ch)
				require.NoError(b, err)
				iters = float64(len(p))
			}
			// Worst-case work: pixels·max_iter, the figure the bounds use.
			var c struct {
				MaxIter float64 `json:"max_iter"`
			}
			require.NoError(b, json.Unmarshal(prep.Params, &c))
			b.ReportMetric((iters-24)*c.MaxIter*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpixel·iter/s")
		})
	}
}

func BenchmarkReduce(b *testing.B) {
	params := `{"width":2048,"height":2048,"max_iter":64}`
	prep, err := mandelbrot.Spec{}.Prepare(json.RawMessage(params))
	require.NoError(b, err)
	p, err := mandelbrot.Runner{}.Run(b.Context(), tasks.Chunk{Range: tasks.Range{Lo: 0, Hi: prep.Extent}, Params: prep.Params})
	require.NoError(b, err)
	for b.Loop() {
		_, err := mandelbrot.Runner{}.Reduce(b.Context(), prep.Params, nil, [][]byte{p})
		require.NoError(b, err)
	}
	b.ReportMetric(float64(2048*2048)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpixel/s")
}

package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels"
	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
)

// Every kernel, submitted over HTTP and run by two workers, gives the
// known answer, or the answer of a one-chunk in-process run.
func TestEveryKernelEndToEnd(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{workers: 2, concurrency: 2})
	tests := []struct {
		name   string
		kernel string
		params string
		chunks int
		// want are result fields that must match exactly (known answers).
		want map[string]any
	}{
		{name: "primes below 10^8", kernel: "primes", params: `{"to":1e8}`, chunks: 8,
			want: map[string]any{"count": 5761455.0}},
		{name: "sum of primes below 2e6", kernel: "primes", params: `{"to":2000000}`, chunks: 5,
			want: map[string]any{"sum": "142913828922", "first": 2.0, "last": 1999993.0}},
		{name: "empty primes range", kernel: "primes", params: `{"from":24,"to":29}`, chunks: 3,
			want: map[string]any{"count": 0.0, "sum": "0", "first": nil, "last": nil}},
		{name: "pi", kernel: "pi", params: `{"samples":1000000,"seed":7}`, chunks: 5},
		{name: "mandelbrot", kernel: "mandelbrot", params: `{"width":64,"height":48,"max_iter":100}`, chunks: 7},
		{name: "matmul explicit", kernel: "matmul", params: `{"a":[[1,2],[3,4]],"b":[[5,6],[7,8]]}`, chunks: 2,
			want: map[string]any{"rows": 2.0, "cols": 2.0, "checksum": 134.0, "c": []any{[]any{19.0, 22.0}, []any{43.0, 50.0}}}},
		{name: "matmul random", kernel: "matmul", params: `{"n":48,"seed":3}`, chunks: 5},
		{name: "stats cancellation", kernel: "stats", params: `{"values":[1e16,1,-1e16,3.5]}`, chunks: 3,
			want: map[string]any{"count": 4.0, "sum": 4.5}},
		{name: "wordcount", kernel: "wordcount", params: `{"text":"Straße straße STRASSE — naïve Naïve 東京 東京 東京 42 42","top":3}`, chunks: 9,
			want: map[string]any{"total": 10.0, "unique": 5.0}},
	}
	specs := map[string]tasks.Spec{}
	runners := map[string]tasks.Runner{}
	for _, sp := range kernels.Specs() {
		specs[sp.Name()] = sp
	}
	for _, r := range kernels.Runners() {
		runners[r.Name()] = r
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := *s
			s.t = t
			submitted := s.submit(fmt.Sprintf(`{"kernel":%q,"params":%s,"chunks":%d,"metadata":{"case":%q}}`, tt.kernel, tt.params, tt.chunks, tt.name))
			require.Equal(t, tt.chunks, submitted.Chunks.Total)
			j := s.wait(submitted.ID, 2*time.Minute)
			require.Equal(t, "succeeded", j.Status, "error: %+v", j.Error)
			require.Equal(t, tt.chunks, j.Chunks.Done)
			require.Equal(t, 1.0, j.Progress)
			require.JSONEq(t, fmt.Sprintf(`{"case":%q}`, tt.name), string(j.Metadata))

			var got map[string]any
			require.NoError(t, json.Unmarshal(j.Result, &got))
			for k, v := range tt.want {
				require.Equal(t, v, got[k], "result field %s in %s", k, j.Result)
			}
			// The same job in one chunk, in process: identical result.
			ref := kerneltest.MustRun(t, specs[tt.kernel], runners[tt.kernel], tt.params, 1)
			require.JSONEq(t, string(ref.Result), string(j.Result))
			if ref.Artifact != nil {
				r := s.do(http.MethodGet, "/v1/jobs/"+j.ID+"/artifact", nil)
				require.Equal(t, http.StatusOK, r.status)
				require.Equal(t, "image/png", r.header.Get("Content-Type"))
				require.Equal(t, ref.Artifact, r.body, "artifact identical to the one-chunk run")
				img, err := png.Decode(bytes.NewReader(r.body))
				require.NoError(t, err)
				require.Equal(t, 64, img.Bounds().Dx())
			}
			for _, c := range s.chunks(j.ID) {
				require.Equal(t, "succeeded", c.Status)
				require.NotNil(t, c.Worker)
				require.True(t, strings.HasPrefix(*c.Worker, "worker-"), "chunk %d ran on %q", c.Index, *c.Worker)
			}
		})
	}
}

// The chunks of one job spread over every worker replica.
func TestChunksSpreadOverWorkers(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{workers: 3, concurrency: 1})
	j := s.submit(`{"kernel":"primes","params":{"to":1e8},"chunks":24}`)
	j = s.wait(j.ID, 2*time.Minute)
	require.Equal(t, "succeeded", j.Status)
	var res struct{ Count, First, Last int64 }
	require.NoError(t, json.Unmarshal(j.Result, &res))
	require.Equal(t, struct{ Count, First, Last int64 }{5761455, 2, 99999989}, res)
	seen := map[string]int{}
	for _, c := range s.chunks(j.ID) {
		seen[*c.Worker]++
	}
	require.GreaterOrEqual(t, len(seen), 2, "chunks ran on %v", seen)
}

// Results are identical for every chunk count.
func TestChunkCountInvariance(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{workers: 2, concurrency: 2})
	for _, params := range []string{
		`"kernel":"stats","params":{"values":[0.1,0.2,0.3,1e100,-1e100,5e-324,7]}`,
		`"kernel":"wordcount","params":{"text":"a b c ab abc ABC αβγ ΑΒΓ 123 a1 日本語 日本"}`,
		`"kernel":"pi","params":{"samples":99991,"seed":42}`,
	} {
		var first json.RawMessage
		for _, n := range []int{1, 2, 7, 64} {
			j := s.submit(fmt.Sprintf(`{%s,"chunks":%d}`, params, n))
			j = s.wait(j.ID, time.Minute)
			require.Equal(t, "succeeded", j.Status)
			if first == nil {
				first = j.Result
				continue
			}
			require.Equal(t, string(first), string(j.Result), "%s with %d chunks", params, n)
		}
	}
}

package matmul

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/tasks"
)

// TestBlockingDoesNotChangeC cuts the product into row blocks of every size
// and runs it on every path this CPU has, and checks that the partials, C
// included, are the same bytes: the order of each entry's terms does not
// depend on the blocking or the kernel.
func TestBlockingDoesNotChangeC(t *testing.T) {
	t.Parallel()
	a, b := make([][]float64, 200), make([][]float64, 90)
	for i := range a {
		a[i] = make([]float64, 90)
		for l := range a[i] {
			a[i][l] = float64((i*37+l*11)%29-14) / float64(1+l%7)
		}
	}
	for l := range b {
		b[l] = make([]float64, 230)
		for k := range b[l] {
			b[l][k] = float64((l*13+k*5)%31-15) * float64(1+k%5) / 3
		}
	}
	rawA, err := json.Marshal(a)
	require.NoError(t, err)
	rawB, err := json.Marshal(b)
	require.NoError(t, err)
	for _, params := range []string{`{"n":200,"seed":11}`, `{"a":` + string(rawA) + `,"b":` + string(rawB) + `}`} {
		prep, err := Spec{}.Prepare(json.RawMessage(params))
		require.NoError(t, err)
		var input tasks.Input
		if prep.Input != nil {
			input = bytes.NewReader(prep.Input)
		}
		for _, r := range []tasks.Range{{Lo: 3, Hi: 200}, {Lo: 199, Hi: 200}} {
			ch := tasks.Chunk{Range: r, Params: prep.Params, Input: input}
			want, err := run(t.Context(), ch, 1<<40, genericPath)
			require.NoError(t, err)
			for _, p := range paths() {
				budgets := []int64{1, 2 * 64 * 130 * 200, 1 << 22}
				if p.name == genericPath.name {
					budgets = budgets[1:] // slow under the race detector
				}
				for _, budget := range budgets {
					got, err := run(t.Context(), ch, budget, p)
					require.NoError(t, err)
					require.Equal(t, want, got, "range %v budget %d path %s", r, budget, p.name)
				}
			}
		}
	}
}

// TestEveryPathEveryChunking reduces the partials of several chunkings,
// computed on each path this CPU has, and requires the same result bytes as
// the portable path's single chunk.
func TestEveryPathEveryChunking(t *testing.T) {
	t.Parallel()
	for _, params := range []string{`{"n":100,"seed":4}`, `{"n":29,"seed":1}`} {
		prep, err := Spec{}.Prepare(json.RawMessage(params))
		require.NoError(t, err)
		result := func(p path, chunks int) []byte {
			partials := make([][]byte, chunks)
			for i := range chunks {
				ch := tasks.Chunk{Index: i, Total: chunks, Range: tasks.ChunkRange(prep.Extent, chunks, i), Params: prep.Params}
				partials[i], err = run(t.Context(), ch, blockFlops, p)
				require.NoError(t, err)
			}
			out, err := Runner{}.Reduce(t.Context(), prep.Params, nil, partials)
			require.NoError(t, err)
			return out.Result
		}
		want := result(genericPath, 1)
		for _, p := range paths() {
			for _, chunks := range []int{1, 7, 64} {
				require.Equal(t, string(want), string(result(p, chunks)), "%s on %s in %d chunks", params, p.name, chunks)
			}
		}
	}
}

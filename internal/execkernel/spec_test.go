package execkernel

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/tasks"
)

const testSchema = `{"type": "object", "additionalProperties": false, "required": ["to"],
  "properties": {
    "from": {"type": "integer", "minimum": 0, "default": 0},
    "to": {"type": "integer", "minimum": 1, "maximum": 1000000000000},
    "label": {"type": "string", "default": "<none>"},
    "scale": {"type": "number", "default": 2.5e0},
    "points": {"type": "array", "items": {"type": "object", "required": ["x"],
      "properties": {"x": {"type": "number"}}, "additionalProperties": false}},
    "grid": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
    "opts": {"type": "object", "properties": {"mode": {"enum": ["fast", "exact"]}}}
  }}`

func testSpec(t testing.TB) tasks.Spec {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kernels.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"kernels": [{"name": "sumsq", "params_schema": `+testSchema+`, "command": ["x"]}]}`), 0o644))
	m, err := Load(path, nil)
	require.NoError(t, err)
	return m.Specs()[0]
}

func TestPrepareFillsDefaultsAndWritesIntegers(t *testing.T) {
	t.Parallel()
	spec := testSpec(t)
	for _, tc := range []struct{ in, want string }{
		{`{"to": 1e9}`, `{"from":0,"label":"<none>","scale":2.5e0,"to":1000000000}`},
		{`{"to": 10, "from": 2.0, "label": "a<b>&c", "scale": 1.50}`, `{"from":2,"label":"a<b>&c","scale":1.50,"to":10}`},
		{`{"to": 1E+3, "points": [{"x": 1e2}, {"x": 0.5}], "grid": [[1.0e1]]}`,
			`{"from":0,"grid":[[10]],"label":"<none>","points":[{"x":100},{"x":0.5}],"scale":2.5e0,"to":1000}`},
		{` {"to": 5, "opts": {"mode": "fast"}} `, `{"from":0,"label":"<none>","opts":{"mode":"fast"},"scale":2.5e0,"to":5}`},
	} {
		p, err := spec.Prepare(json.RawMessage(tc.in))
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, string(p.Params), tc.in)
		require.Equal(t, int64(tasks.ExtentUnknown), p.Extent)
		require.Zero(t, p.DefaultChunks)
		require.Nil(t, p.Input)
	}
}

func TestPrepareNamesTheBadFields(t *testing.T) {
	t.Parallel()
	spec := testSpec(t)
	for _, tc := range []struct {
		in   string
		want []string // "field: message" prefixes, in order
	}{
		{`{"to": 5, "zzz": 1}`, []string{"zzz: unknown field"}},
		{`{}`, []string{"to: is required"}},
		{``, []string{"to: is required"}},
		{`null`, []string{"to: is required"}},
		{`{"to": 0}`, []string{"to: minimum: got 0, want 1"}},
		{`{"to": 1.5}`, []string{"to: got number, want integer"}},
		{`{"to": "7"}`, []string{"to: got string, want integer"}},
		{`{"to": 5, "points": [{"x": 1}, {"x": 2}, {"x": 3}, {"x": "four"}]}`, []string{"points[3].x: got string, want number"}},
		{`{"to": 5, "points": [{"x": 1}, {}]}`, []string{"points[1].x: is required"}},
		{`{"to": 5, "points": [{"x": 1, "y": 2}]}`, []string{"points[0].y: unknown field"}},
		{`{"to": 5, "grid": [[1], [2, 2.5]]}`, []string{"grid[1][1]: got number, want integer"}},
		{`{"to": 5, "opts": {"mode": "slow"}}`, []string{"opts.mode: value must be one of 'fast', 'exact'"}},
		{`{"to": 1e999999}`, []string{"to: must be a number of at most 400 characters with an exponent from -400 to 400"}},
		{`{"to": 5, "points": [{"x": 1e-401}]}`, []string{"points[0].x: must be a number of at most 400"}},
		{`{"to": 5, "label": "` + strings.Repeat("x", MaxParamsBytesDefault) + `"}`, []string{": must be at most 262144 bytes as JSON for kernel sumsq"}},
		{`[1]`, []string{": must be a JSON object"}},
		{`{"to": 5, "a": 1, "b": 2}`, []string{"a: unknown field", "b: unknown field"}},
	} {
		_, err := spec.Prepare(json.RawMessage(tc.in))
		var verr *tasks.ValidationError
		require.ErrorAs(t, err, &verr, tc.in)
		var got []string
		for _, fe := range verr.Errors {
			got = append(got, fe.Field+": "+fe.Message)
		}
		require.Len(t, got, len(tc.want), "%.100s: %q", tc.in, got)
		for i := range tc.want {
			require.True(t, strings.HasPrefix(got[i], tc.want[i]), "%.100s: got %q, want %q", tc.in, got[i], tc.want[i])
		}
	}
}

func TestPrepareCapsTheErrorsOfAHugeArray(t *testing.T) {
	t.Parallel()
	spec := testSpec(t)
	in := `{"to": 5, "grid": [[` + strings.Repeat(`"x",`, 50000) + `1]]}`
	_, err := spec.Prepare(json.RawMessage(in))
	var verr *tasks.ValidationError
	require.ErrorAs(t, err, &verr)
	require.Len(t, verr.Errors, maxFieldErrors)
	require.Equal(t, "grid[0][0]", verr.Errors[0].Field)
}

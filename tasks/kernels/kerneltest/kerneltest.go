// Package kerneltest runs a kernel in process, the way the worker does, so
// that kernel packages can test known answers and chunk invariance without
// Redis: Prepare, split into chunks, Run each chunk, Reduce in chunk order.
package kerneltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/tasks"
)

// Run prepares params with spec, splits the work into chunks (the kernel's
// default when chunks is 0), runs every chunk with runner and reduces. It
// returns the output, or the first error.
func Run(ctx context.Context, spec tasks.Spec, runner tasks.Runner, params string, chunks int) (*tasks.Output, error) {
	var raw json.RawMessage
	if params != "" {
		raw = json.RawMessage(params)
	}
	prep, err := spec.Prepare(raw)
	if err != nil {
		return nil, err
	}
	if chunks == 0 {
		chunks = prep.DefaultChunks
	}
	var input tasks.Input
	if prep.Input != nil {
		input = bytes.NewReader(prep.Input)
	}
	partials := make([][]byte, chunks)
	for i := range chunks {
		c := tasks.Chunk{
			Index:  i,
			Total:  chunks,
			Range:  tasks.ChunkRange(prep.Extent, chunks, i),
			Params: prep.Params,
			Input:  input,
		}
		partials[i], err = runner.Run(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("chunk %d of %d: %w", i, chunks, err)
		}
	}
	return runner.Reduce(ctx, prep.Params, input, partials)
}

// MustRun is Run that fails the test on error.
func MustRun(t testing.TB, spec tasks.Spec, runner tasks.Runner, params string, chunks int) *tasks.Output {
	t.Helper()
	out, err := Run(t.Context(), spec, runner, params, chunks)
	if err != nil {
		t.Fatalf("run %s %s with %d chunks: %v", spec.Name(), params, chunks, err)
	}
	return out
}

// Invariant runs the job once per chunk count and fails the test unless
// every run gives byte-identical results and artifacts. It returns the
// output of the first run.
func Invariant(t testing.TB, spec tasks.Spec, runner tasks.Runner, params string, chunkCounts ...int) *tasks.Output {
	t.Helper()
	var first *tasks.Output
	for _, n := range chunkCounts {
		out := MustRun(t, spec, runner, params, n)
		if first == nil {
			first = out
			continue
		}
		if !bytes.Equal(first.Result, out.Result) {
			t.Fatalf("%s %s: result with %d chunks\n%s\ndiffers from %d chunks\n%s", spec.Name(), params, n, out.Result, chunkCounts[0], first.Result)
		}
		if !bytes.Equal(first.Artifact, out.Artifact) {
			t.Fatalf("%s %s: artifact with %d chunks differs from %d chunks", spec.Name(), params, n, chunkCounts[0])
		}
	}
	return first
}

// Schema is a kernel's params JSON Schema, decoded for tests.
type Schema struct {
	Schema     string                    `json:"$schema"`
	Type       string                    `json:"type"`
	Properties map[string]map[string]any `json:"properties"`
	Required   []string                  `json:"required"`
	Additional *bool                     `json:"additionalProperties"`
}

// CheckSpec fails the test unless spec and runner meet what every kernel
// owes its users: the same name, a description, and a draft 2020-12 JSON
// Schema of an object that allows no other properties than params (each
// described, each integer one with its minimum and maximum, as the caps
// enforced at submission) and requires exactly required. It returns the
// decoded schema for the kernel's own checks.
func CheckSpec(t testing.TB, spec tasks.Spec, runner tasks.Runner, params, required []string) Schema {
	t.Helper()
	require.Equal(t, spec.Name(), runner.Name())
	require.NotEmpty(t, spec.Description())
	var s Schema
	require.NoError(t, json.Unmarshal(spec.ParamsSchema(), &s))
	require.Equal(t, "https://json-schema.org/draft/2020-12/schema", s.Schema)
	require.Equal(t, "object", s.Type)
	require.NotNil(t, s.Additional, "additionalProperties")
	require.False(t, *s.Additional, "additionalProperties")
	require.ElementsMatch(t, params, slices.Collect(maps.Keys(s.Properties)))
	require.ElementsMatch(t, required, s.Required)
	for name, prop := range s.Properties {
		require.NotEmpty(t, prop["description"], "description of %s", name)
		if prop["type"] == "integer" {
			require.Contains(t, prop, "minimum", name)
			require.Contains(t, prop, "maximum", name)
		}
	}
	return s
}

// Prepare runs spec.Prepare on params as a fuzz target must see it: a
// refusal is a *tasks.ValidationError (Prepare returns nil), an acceptance
// has DefaultChunks in [1, MaxChunks] and a non-negative Extent.
func Prepare(t testing.TB, spec tasks.Spec, params string) *tasks.Prepared {
	t.Helper()
	prep, err := spec.Prepare(json.RawMessage(params))
	if err != nil {
		var verr *tasks.ValidationError
		require.ErrorAs(t, err, &verr)
		return nil
	}
	require.GreaterOrEqual(t, prep.DefaultChunks, 1)
	require.LessOrEqual(t, prep.DefaultChunks, tasks.MaxChunks)
	require.GreaterOrEqual(t, prep.Extent, int64(0))
	return prep
}

// Stops checks that runner.Run stops on cancellation: with
// context.Canceled at once when its context is canceled before it starts,
// and within the given bound when it is canceled while it runs. midRun
// arranges that second cancellation — CancelAfter or CancelOnRead — and
// returns the chunk to run. Stops returns the canceled context, for checks
// of Reduce.
func Stops(t testing.TB, runner tasks.Runner, chunk tasks.Chunk, within time.Duration, midRun func(context.CancelFunc, tasks.Chunk) tasks.Chunk) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := runner.Run(ctx, chunk)
	require.ErrorIs(t, err, context.Canceled, "a chunk whose context is already canceled")

	ctx, cancel = context.WithCancel(t.Context())
	t.Cleanup(cancel)
	running := midRun(cancel, chunk)
	start := time.Now()
	_, err = runner.Run(ctx, running)
	require.ErrorIs(t, err, context.Canceled, "a chunk canceled while it runs")
	require.Less(t, time.Since(start), within, "Run must stop soon after cancellation")
	return ctx
}

// CancelAfter cancels about d after the chunk starts, for kernels that
// compute without reading input.
func CancelAfter(d time.Duration) func(context.CancelFunc, tasks.Chunk) tasks.Chunk {
	return func(cancel context.CancelFunc, chunk tasks.Chunk) tasks.Chunk {
		time.AfterFunc(d, cancel)
		return chunk
	}
}

// CancelOnRead cancels when the chunk first reads its input, for kernels
// whose work is mostly reading it.
func CancelOnRead(cancel context.CancelFunc, chunk tasks.Chunk) tasks.Chunk {
	chunk.Input = cancelOnRead{chunk.Input, cancel}
	return chunk
}

type cancelOnRead struct {
	tasks.Input
	cancel context.CancelFunc
}

func (c cancelOnRead) ReadAt(p []byte, off int64) (int, error) {
	c.cancel()
	return c.Input.ReadAt(p, off)
}

// RefusedFields runs spec.Prepare on params, which it must refuse with a
// *tasks.ValidationError whose every error has a message, and returns the
// fields the errors name, in order.
func RefusedFields(t testing.TB, spec tasks.Spec, params string) []string {
	t.Helper()
	_, err := spec.Prepare(json.RawMessage(params))
	var verr *tasks.ValidationError
	require.ErrorAs(t, err, &verr, "params %s", params)
	fields := make([]string, len(verr.Errors))
	for i, fe := range verr.Errors {
		fields[i] = fe.Field
		require.NotEmpty(t, fe.Message, "the error of %q", fe.Field)
	}
	return fields
}

// Package kerneltest runs a kernel in process, the way the worker does, so
// that kernel packages can test known answers and chunk invariance without
// Redis: Prepare, split into chunks, Run each chunk, Reduce in chunk order.
package kerneltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

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

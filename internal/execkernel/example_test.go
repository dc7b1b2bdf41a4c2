package execkernel_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/crunchjobs/crunch/internal/execkernel"
	"github.com/crunchjobs/crunch/tasks"
)

// A manifest of one kernel: Specs validate params for the API, Runners run
// the kernel's command for workers.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "sumsq.sh"), []byte(`#!/bin/sh
case "$1" in
plan) cat >/dev/null; echo '{"extent": 10, "chunks": 2}';;
esac
`), 0o755)
	manifest := filepath.Join(dir, "kernels.json")
	_ = os.WriteFile(manifest, []byte(`{"kernels": [{
	  "name": "sumsq", "description": "Sum of i*i for from <= i < to.",
	  "params_schema": {"type": "object", "additionalProperties": false, "required": ["to"],
	    "properties": {"from": {"type": "integer", "minimum": 0, "default": 0},
	                   "to": {"type": "integer", "minimum": 1, "maximum": 1000000000000}}},
	  "command": ["./sumsq.sh"]}]}`), 0o644)

	m, err := execkernel.Load(manifest, []string{"primes", "pi"})
	if err != nil {
		fmt.Println(err)
		return
	}
	spec := m.Specs()[0]
	p, _ := spec.Prepare([]byte(`{"to": 1e9}`))
	fmt.Printf("%s extent %d\n", p.Params, p.Extent)

	_, err = spec.Prepare([]byte(`{"from": 3, "zzz": true}`))
	var verr *tasks.ValidationError
	if errors.As(err, &verr) {
		for _, fe := range verr.Errors {
			fmt.Printf("%s: %s\n", fe.Field, fe.Message)
		}
	}

	runners, _ := m.Runners()
	extent, chunks, err := runners[0].(tasks.Planner).Plan(tasks.WithJobID(context.Background(), "job_1"), p.Params)
	fmt.Println(extent, chunks, err)
	// Output:
	// {"from":0,"to":1000000000} extent -1
	// to: is required
	// zzz: unknown field
	// 10 2 <nil>
}

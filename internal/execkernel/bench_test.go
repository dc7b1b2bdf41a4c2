package execkernel

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The cost of starting one step, beside the anchor of starting the same
// program directly with os/exec (no supervisor, no pipes of the protocol):
//
//	go test -run '^$' -bench Step -count 6 ./internal/execkernel/
func BenchmarkStep(b *testing.B) {
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		python = "python3"
	}
	script := filepath.Join(b.TempDir(), "k.py")
	require.NoError(b, os.WriteFile(script, []byte("import json, sys\njson.load(sys.stdin)\nprint(0)\n"), 0o644))
	for _, bc := range []struct {
		name    string
		command []string
	}{
		{"true", []string{"/bin/true"}},
		{"sh", []string{"/bin/sh", "-c", "echo 0"}},
		{"python3", []string{python, script}},
	} {
		b.Run(bc.name+"/direct", func(b *testing.B) {
			for b.Loop() {
				cmd := exec.Command(bc.command[0], append(bc.command[1:], "run")...)
				cmd.Stdin = strings.NewReader(`{"params":{},"index":0,"total":1,"lo":0,"hi":1}`)
				require.NoError(b, cmd.Run())
			}
		})
		if bc.name == "true" {
			continue // prints nothing, so it is no valid step
		}
		b.Run(bc.name+"/step", func(b *testing.B) {
			r := &Runner{k: &kernel{name: "bench"}, argv: bc.command}
			for b.Loop() {
				_, err := r.Run(b.Context(), chunk(`{}`))
				require.NoError(b, err)
			}
		})
	}
	b.Run("true/supervised", func(b *testing.B) {
		// The supervisor alone: a step whose program is /bin/true fails the
		// protocol (empty stdout) but costs what any step costs beyond its
		// program.
		r := &Runner{k: &kernel{name: "bench"}, argv: []string{"/bin/true"}}
		for b.Loop() {
			_, err := r.Run(b.Context(), chunk(`{}`))
			require.ErrorContains(b, err, "stdout is empty")
		}
	})
}

// BenchmarkPrepare validates params of the largest default size (256 KiB)
// against a schema, to show what a request costs the API.
func BenchmarkPrepare(b *testing.B) {
	spec := testSpec(b)
	in := []byte(`{"to": 5, "grid": [[` + strings.Repeat("12345,", (MaxParamsBytesDefault-64)/6) + `1]]}`)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		_, err := spec.Prepare(in)
		require.NoError(b, err)
	}
}

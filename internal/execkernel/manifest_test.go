package execkernel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadRefusesBadFiles(t *testing.T) {
	t.Parallel()
	const schema = `{"type": "object"}`
	entry := func(fields string) string {
		return `{"kernels": [{"name": "ok", "params_schema": {}, "command": ["x"]}, ` + fields + `]}`
	}
	for _, tc := range []struct {
		name, file string
		want       string // the error contains it
	}{
		{"not JSON", `{"kernels": [`, "invalid kernels file: unexpected EOF"},
		{"trailing data", `{"kernels": []} {}`, "data after the JSON value"},
		{"not an object", `[]`, "invalid kernels file: json: cannot unmarshal array"},
		{"no kernels", `{}`, "kernels: is required"},
		{"unknown top-level field", `{"kernels": [], "kernel": []}`, `unknown field "kernel"`},
		{"unknown entry field", entry(`{"name": "k", "comand": ["x"]}`), `kernels[1] ("k"): comand: json: unknown field "comand"`},
		{"entry not an object", entry(`7`), `kernels[1]: (entry):`},
		{"name missing", entry(`{"params_schema": {}, "command": ["x"]}`), "kernels[1]: name: is required"},
		{"name not a string", entry(`{"name": 7, "params_schema": {}, "command": ["x"]}`), "kernels[1]: name: json: cannot unmarshal number"},
		{"name upper case", entry(`{"name": "Sumsq", "params_schema": {}, "command": ["x"]}`), `kernels[1] ("Sumsq"): name: must match ^[a-z][a-z0-9_-]{0,62}$`},
		{"name too long", entry(`{"name": "` + strings.Repeat("a", 64) + `", "params_schema": {}, "command": ["x"]}`), "name: must match"},
		{"name of a built-in", entry(`{"name": "primes", "params_schema": {}, "command": ["x"]}`), `kernels[1] ("primes"): name: is the name of a built-in kernel`},
		{"name twice", entry(`{"name": "ok", "params_schema": {}, "command": ["x"]}`), `kernels[1] ("ok"): name: is also the name of kernels[0]`},
		{"command missing", entry(`{"name": "k", "params_schema": {}}`), `kernels[1] ("k"): command: is required`},
		{"command a string", entry(`{"name": "k", "params_schema": {}, "command": "./k.sh"}`), `kernels[1] ("k"): command: must be a non-empty array of strings`},
		{"command empty", entry(`{"name": "k", "params_schema": {}, "command": []}`), `command: must be a non-empty array`},
		{"program empty", entry(`{"name": "k", "params_schema": {}, "command": [""]}`), `kernels[1] ("k"): command[0]: must name a program`},
		{"schema missing", entry(`{"name": "k", "command": ["x"]}`), `kernels[1] ("k"): params_schema: is required`},
		{"schema not an object", entry(`{"name": "k", "params_schema": true, "command": ["x"]}`), `params_schema: must be a JSON Schema object`},
		{"schema invalid", entry(`{"name": "k", "params_schema": {"type": "integr"}, "command": ["x"]}`), `kernels[1] ("k"): params_schema: `},
		{"schema with a remote $ref", entry(`{"name": "k", "params_schema": {"$ref": "https://example.com/s.json"}, "command": ["x"]}`), `params_schema: `},
		{"bad artifact type", entry(`{"name": "k", "params_schema": {}, "command": ["x"], "artifact_type": "png"}`), `kernels[1] ("k"): artifact_type: must be a MIME type`},
		{"bad max_params_bytes", entry(`{"name": "k", "params_schema": {}, "command": ["x"], "max_params_bytes": 0}`), `kernels[1] ("k"): max_params_bytes: must be from 2 to`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "kernels.json")
			require.NoError(t, os.WriteFile(path, []byte(tc.file), 0o644))
			_, err := Load(path, []string{"primes", "pi"})
			require.ErrorIs(t, err, ErrManifest)
			require.ErrorContains(t, err, "kernels file "+path+": ")
			require.ErrorContains(t, err, tc.want)
		})
	}
	_ = schema
}

func TestLoadRefusesAMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "nope.json"), nil)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, "kernels file: open ")
}

func TestLoadEnvIsOptional(t *testing.T) {
	t.Parallel()
	m, err := LoadEnv(func(string) string { return "" }, nil)
	require.NoError(t, err)
	require.Nil(t, m)
	require.Empty(t, m.Specs())
	runners, err := m.Runners()
	require.NoError(t, err)
	require.Empty(t, runners)
}

func TestRunnersResolvePrograms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bin", "k.sh"), []byte("#!/bin/sh\n"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.txt"), []byte("x"), 0o644))
	write := func(command string) string {
		path := filepath.Join(dir, "kernels.json")
		require.NoError(t, os.WriteFile(path, []byte(`{"kernels": [{"name": "k", "params_schema": {}, "command": `+command+`}]}`), 0o644))
		return path
	}
	for _, tc := range []struct {
		command, program, err string
	}{
		{`["./bin/k.sh", "--flag"]`, filepath.Join(dir, "bin", "k.sh"), ""},
		{`["bin/k.sh"]`, filepath.Join(dir, "bin", "k.sh"), ""},
		{`["sh", "-c", "exit 0"]`, "/", ""}, // through PATH: wherever sh is
		{`["./missing.sh"]`, "", `kernels[0] ("k"): command[0]: cannot run ` + filepath.Join(dir, "missing.sh")},
		{`["./data.txt"]`, "", `command[0]: cannot run ` + filepath.Join(dir, "data.txt") + `: permission denied`},
		{`["no-such-program-crunch"]`, "", `command[0]: cannot run no-such-program-crunch: executable file not found in $PATH`},
	} {
		m, err := Load(write(tc.command), nil)
		require.NoError(t, err, tc.command)
		runners, err := m.Runners()
		if tc.err != "" {
			require.ErrorIs(t, err, ErrManifest)
			require.ErrorContains(t, err, tc.err)
			continue
		}
		require.NoError(t, err, tc.command)
		argv := runners[0].(*Runner).argv
		require.True(t, filepath.IsAbs(argv[0]), argv[0])
		require.True(t, strings.HasPrefix(argv[0], tc.program), "%s resolves to %s", tc.command, argv[0])
	}
}

func TestSpecsDescribeTheKernels(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kernels.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"kernels": [
		{"name": "a", "description": "A.", "params_schema": {"type": "object",
		  "properties": {"n": {"type": "integer"}}}, "command": ["x"], "artifact_type": "image/png"},
		{"name": "b-2", "params_schema": {}, "command": ["y"]}]}`), 0o644))
	m, err := Load(path, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b-2"}, m.Names())
	specs := m.Specs()
	require.Equal(t, "a", specs[0].Name())
	require.Equal(t, "A.", specs[0].Description())
	require.Equal(t, "image/png", specs[0].ArtifactType())
	require.JSONEq(t, `{"type": "object", "properties": {"n": {"type": "integer"}}}`, string(specs[0].ParamsSchema()))
	require.Equal(t, "", specs[1].ArtifactType())
}

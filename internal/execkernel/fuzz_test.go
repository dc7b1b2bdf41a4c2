package execkernel

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/crunchjobs/crunch/tasks"
)

// FuzzParseManifest holds the manifest decoder to: no panic, and either a
// manifest whose every kernel is valid or an error wrapping ErrManifest.
func FuzzParseManifest(f *testing.F) {
	for _, seed := range []string{
		`{"kernels": []}`,
		`{"kernels": [{"name": "sumsq", "description": "d", "params_schema": {"type": "object", "properties": {"to": {"type": "integer", "default": 1e3}}}, "command": ["./sumsq.py"], "artifact_type": ""}]}`,
		`{"kernels": [{"name": "a", "params_schema": {}, "command": ["python3", "-c", "x"], "artifact_type": "image/png", "max_params_bytes": 100}]}`,
		`{"kernels": [{"name": "a", "params_schema": {"$ref": "#/$defs/x", "$defs": {"x": {"type": "object"}}}, "command": ["/bin/x"]}]}`,
		`{"kernels": [{"name": "Bad", "params_schema": {}, "command": []}]}`,
		`{"kernels": [{"name": "a", "params_schema": {"type": 7}, "command": ["x"]}]}`,
		`{"kernels": [7, null, "x"]}`,
		`{"kernels": null}`,
		`{"kernels": [{"name": "a", "name": "b", "params_schema": {}, "command": ["x"]}]}`,
		`[`, ``, `{}`, `{"kernels": [{}]} x`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parse(b, "/manifests", []string{"primes"})
		if err != nil {
			if !errors.Is(err, ErrManifest) {
				t.Fatalf("error %v does not wrap ErrManifest", err)
			}
			return
		}
		for _, k := range m.kernels {
			if !nameRE.MatchString(k.name) || k.name == "primes" || len(k.command) == 0 || k.command[0] == "" || k.schema == nil {
				t.Fatalf("invalid kernel accepted: %+v", k)
			}
			if strings.Contains(k.command[0], "/") && !strings.HasPrefix(k.command[0], "/") {
				t.Fatalf("relative program %q not resolved", k.command[0])
			}
			// Whatever the schema, Prepare of empty params must not panic,
			// and what it accepts is a JSON object.
			if p, err := (&Spec{k: k}).Prepare(nil); err == nil && !json.Valid(p.Params) {
				t.Fatalf("Prepare gave invalid JSON %q", p.Params)
			}
		}
	})
}

// FuzzDecodeStdout holds the step output decoders to: no panic; what they
// accept is valid JSON, and within the protocol's bounds.
func FuzzDecodeStdout(f *testing.F) {
	for _, seed := range []string{
		`{"extent": 1000, "chunks": 4}`, `{"extent": 1e3, "chunks": 4.0, "x": 1}`, `{"extent": -1, "chunks": 1}`,
		`{"extent": 9223372036854775808, "chunks": 1}`, `{"extent": 1e999999, "chunks": 1}`,
		`{"result": {"sum": "1"}}`, `{"result": null}`, `{"result": 1, "artifact_base64": "aGk="}`,
		` [1, 2] `, `1 2`, `"x"`, ``, `{`, `{"result": 1}{}`, "\xff",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if extent, chunks, err := decodePlan(b); err == nil {
			if extent < 0 || chunks < 1 || chunks > tasks.MaxChunks || !json.Valid(b) {
				t.Fatalf("bad plan accepted: %q → %d, %d", b, extent, chunks)
			}
		}
		if p, err := decodeRun(b); err == nil && !json.Valid(p) {
			t.Fatalf("run gave invalid JSON %q for %q", p, b)
		}
		for _, artifact := range []bool{false, true} {
			o, err := decodeReduce(b, artifact)
			if err != nil {
				continue
			}
			if !json.Valid(o.Result) || string(o.Result) == "null" {
				t.Fatalf("reduce gave result %q for %q", o.Result, b)
			}
			if artifact != (o.Artifact != nil) {
				t.Fatalf("artifact %v but got %q", artifact, o.Artifact)
			}
		}
	})
}

// FuzzPrepare holds params validation to: no panic; what it accepts is a
// JSON object whose integral numbers are integers; what it refuses is a
// *tasks.ValidationError.
func FuzzPrepare(f *testing.F) {
	spec := testSpec(f)
	for _, seed := range []string{`{"to": 1e9}`, `{"to": 5, "zzz": 1}`, `{"to": 5, "points": [{"x": 1}, {"x": "y"}]}`,
		`{"to": 1e400}`, `{"to": 5, "grid": [[1.0, 2e1]]}`, `[]`, `null`, `{"to": 5, "label": "\u003c"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := spec.Prepare(b)
		if err != nil {
			var verr *tasks.ValidationError
			if !errors.As(err, &verr) || len(verr.Errors) == 0 {
				t.Fatalf("error %v is not a ValidationError", err)
			}
			return
		}
		var obj map[string]any
		if err := json.Unmarshal(p.Params, &obj); err != nil {
			t.Fatalf("params %q are not an object: %v", p.Params, err)
		}
		if again, err := spec.Prepare(p.Params); err != nil || string(again.Params) != string(p.Params) {
			t.Fatalf("Prepare is not idempotent: %q → %q, %v", p.Params, again.Params, err)
		}
	})
}

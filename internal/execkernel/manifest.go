package execkernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/crunchjobs/crunch/tasks"
)

// EnvFile names the environment variable that points the api and worker
// binaries at a manifest. Unset: no exec kernels.
const EnvFile = "CRUNCH_KERNELS_FILE"

// Limits of a manifest and of a kernel's params.
const (
	// maxManifestBytes caps the manifest file, which is read whole.
	maxManifestBytes = 16 << 20
	// MaxParamsBytesDefault is the largest params object, as JSON, that a
	// kernel accepts unless its entry sets max_params_bytes. Params are
	// stored with the job, echoed in every Job and written to every step's
	// stdin, so they are meant for parameters, not bulk data.
	MaxParamsBytesDefault = 256 << 10
	// maxParamsBytesMax is the largest max_params_bytes. Validation
	// allocates about 85 bytes per byte of params (BenchmarkPrepare), so
	// this keeps one request's validation within a few hundred MB.
	maxParamsBytesMax = 4 << 20
)

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// Errors.
var (
	// ErrManifest is wrapped by every error about a manifest's content.
	ErrManifest = errors.New("invalid kernels file")
)

// Manifest is a loaded, validated kernels file.
type Manifest struct {
	path    string
	kernels []*kernel
}

// entry is one kernel of the file, as written.
type entry struct {
	Name           string          `json:"name"`
	Description    string          `json:"description"`
	ParamsSchema   json.RawMessage `json:"params_schema"`
	Command        json.RawMessage `json:"command"`
	ArtifactType   string          `json:"artifact_type"`
	MaxParamsBytes *int64          `json:"max_params_bytes"`
}

// kernel is a validated entry.
type kernel struct {
	name, description, artifactType string
	schemaJSON                      json.RawMessage
	schema                          *jsonschema.Schema
	// defaults are the default values of the schema's top-level properties.
	defaults       map[string]json.RawMessage
	command        []string // command[0] resolved against the manifest's directory when relative
	maxParamsBytes int64
}

// Load reads and validates the manifest at path. reserved are names no
// kernel of the file may take (the built-in kernels'). An error names the
// file, the entry and the field, and wraps ErrManifest when the content
// is at fault.
//
// Load does not look for the programs: the API never runs them and may
// not have them; [Manifest.Runners] does.
func Load(path string, reserved []string) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kernels file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("kernels file %s: %w", path, err)
	}
	if len(b) > maxManifestBytes {
		return nil, fmt.Errorf("kernels file %s: %w: larger than %d bytes", path, ErrManifest, maxManifestBytes)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("kernels file %s: %w", path, err)
	}
	m, err := parse(b, filepath.Dir(abs), reserved)
	if err != nil {
		return nil, fmt.Errorf("kernels file %s: %w", path, err)
	}
	m.path = abs
	return m, nil
}

// LoadEnv loads the manifest named by CRUNCH_KERNELS_FILE as getenv sees
// it; nil, and no error, when it is unset or empty.
func LoadEnv(getenv func(string) string, reserved []string) (*Manifest, error) {
	path := getenv(EnvFile)
	if path == "" {
		return nil, nil
	}
	return Load(path, reserved)
}

// manifestError is an error about one field of one entry.
func manifestError(i int, name, field, format string, args ...any) error {
	where := fmt.Sprintf("kernels[%d]", i)
	if name != "" {
		where += fmt.Sprintf(" (%q)", name)
	}
	return fmt.Errorf("%w: %s: %s: %s", ErrManifest, where, field, fmt.Sprintf(format, args...))
}

// parse decodes and validates a manifest; dir resolves relative programs.
func parse(b []byte, dir string, reserved []string) (*Manifest, error) {
	var file struct {
		Kernels []json.RawMessage `json:"kernels"`
	}
	if err := decodeStrict(b, &file); err != nil {
		return nil, fmt.Errorf("%w: %v; want {\"kernels\": [{\"name\", \"description\", \"params_schema\", \"command\", \"artifact_type\"}, …]}", ErrManifest, err)
	}
	if file.Kernels == nil {
		return nil, fmt.Errorf("%w: kernels: is required (an array of kernels)", ErrManifest)
	}
	m := &Manifest{}
	seen := map[string]int{}
	for i, raw := range file.Kernels {
		var e entry
		if err := decodeStrict(raw, &e); err != nil {
			return nil, manifestError(i, peekName(raw), fieldOf(err), "%v", err)
		}
		k, err := e.validate(i, dir, reserved)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[k.name]; dup {
			return nil, manifestError(i, k.name, "name", "is also the name of kernels[%d]", j)
		}
		seen[k.name] = i
		m.kernels = append(m.kernels, k)
	}
	return m, nil
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown
// fields.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}

// fieldOf names the field a decoding error is about, when it says.
func fieldOf(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field
	}
	if s, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return strings.Trim(s, `"`)
	}
	return "(entry)"
}

// peekName returns the entry's name when it has a string one, to name the
// entry in an error about another field.
func peekName(raw json.RawMessage) string {
	var e struct {
		Name any `json:"name"`
	}
	_ = json.Unmarshal(raw, &e)
	s, _ := e.Name.(string)
	return s
}

func (e *entry) validate(i int, dir string, reserved []string) (*kernel, error) {
	fail := func(field, format string, args ...any) error {
		return manifestError(i, e.Name, field, format, args...)
	}
	switch {
	case e.Name == "":
		return nil, fail("name", "is required")
	case !nameRE.MatchString(e.Name):
		return nil, fail("name", "must match %s", nameRE)
	case slices.Contains(reserved, e.Name):
		return nil, fail("name", "is the name of a built-in kernel")
	}
	k := &kernel{name: e.Name, description: e.Description, artifactType: e.ArtifactType, maxParamsBytes: MaxParamsBytesDefault}
	if e.ArtifactType != "" {
		mt, _, err := mime.ParseMediaType(e.ArtifactType)
		if typ, sub, ok := strings.Cut(mt, "/"); err != nil || !ok || typ == "" || sub == "" {
			return nil, fail("artifact_type", "must be a MIME type such as image/png, or \"\" for none")
		}
	}
	if e.MaxParamsBytes != nil {
		if *e.MaxParamsBytes < 2 || *e.MaxParamsBytes > maxParamsBytesMax {
			return nil, fail("max_params_bytes", "must be from 2 to %d", maxParamsBytesMax)
		}
		k.maxParamsBytes = *e.MaxParamsBytes
	}
	if len(e.Command) == 0 || string(e.Command) == "null" {
		return nil, fail("command", "is required: an array of strings, the program first")
	}
	if err := json.Unmarshal(e.Command, &k.command); err != nil || len(k.command) == 0 {
		return nil, fail("command", "must be a non-empty array of strings, the program first")
	}
	for j, arg := range k.command {
		if strings.IndexByte(arg, 0) >= 0 {
			return nil, fail(fmt.Sprintf("command[%d]", j), "must not contain a NUL byte")
		}
	}
	switch prog := k.command[0]; {
	case prog == "":
		return nil, fail("command[0]", "must name a program")
	case filepath.IsAbs(prog):
	case strings.Contains(prog, "/"):
		k.command[0] = filepath.Join(dir, prog)
	}
	if err := k.compileSchema(e.ParamsSchema); err != nil {
		return nil, fail("params_schema", "%v", err)
	}
	return k, nil
}

// compileSchema compiles the params schema as JSON Schema 2020-12 (unless
// it names another draft with $schema), with no access to files or the
// network, and collects the defaults of its top-level properties.
func (k *kernel) compileSchema(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return errors.New("is required: a JSON Schema object")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return errors.New("must be a JSON Schema object")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{})
	loc := "urn:crunch:kernel:" + k.name + ":params"
	if err := c.AddResource(loc, doc); err != nil {
		return err
	}
	if k.schema, err = c.Compile(loc); err != nil {
		return err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return err
	}
	k.schemaJSON = compact.Bytes()
	props, _ := obj["properties"].(map[string]any)
	for name, p := range props {
		sub, _ := p.(map[string]any)
		if def, ok := sub["default"]; ok {
			b, err := marshalValue(def)
			if err != nil {
				return fmt.Errorf("properties.%s.default: %w", name, err)
			}
			if k.defaults == nil {
				k.defaults = map[string]json.RawMessage{}
			}
			k.defaults[name] = b
		}
	}
	return nil
}

// noLoader refuses to load any schema by URL: a params schema must be
// self-contained (its $refs point into itself or at a JSON Schema
// metaschema, which the library has built in).
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("$ref %s: a params_schema may only refer to itself or to a JSON Schema metaschema", url)
}

// Names returns the names of the manifest's kernels, in file order.
func (m *Manifest) Names() []string {
	if m == nil {
		return nil
	}
	names := make([]string, len(m.kernels))
	for i, k := range m.kernels {
		names[i] = k.name
	}
	return names
}

// Specs returns a tasks.Spec for each kernel, in file order; none for a
// nil Manifest.
func (m *Manifest) Specs() []tasks.Spec {
	if m == nil {
		return nil
	}
	specs := make([]tasks.Spec, len(m.kernels))
	for i, k := range m.kernels {
		specs[i] = &Spec{k: k}
	}
	return specs
}

// Runners returns a tasks.Runner for each kernel, in file order; none for
// a nil Manifest. It checks that every program exists and is executable,
// looking a bare name up in PATH now, so that a worker that cannot run a
// kernel refuses to start.
func (m *Manifest) Runners() ([]tasks.Runner, error) {
	if m == nil {
		return nil, nil
	}
	runners := make([]tasks.Runner, len(m.kernels))
	for i, k := range m.kernels {
		prog, err := exec.LookPath(k.command[0])
		if err != nil {
			return nil, fmt.Errorf("kernels file %s: %w", m.path, manifestError(i, k.name, "command[0]", "cannot run %s: %v", k.command[0], errors.Unwrap(err)))
		}
		if prog, err = filepath.Abs(prog); err != nil {
			return nil, fmt.Errorf("kernels file %s: %w", m.path, err)
		}
		runners[i] = &Runner{k: k, argv: append([]string{prog}, k.command[1:]...)}
	}
	return runners, nil
}

package execkernel

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"

	"github.com/crunchjobs/crunch/internal/execkernel/supervisor"
	"github.com/crunchjobs/crunch/tasks"
)

// The steps of the protocol, given to the command as its last argument.
const (
	StepPlan   = "plan"
	StepRun    = "run"
	StepReduce = "reduce"
)

// MaxStdout is the most a step may write to its stdout.
const MaxStdout = 16 << 20

// StderrTail is how much of a failed step's stderr its error keeps: the
// last 4 KiB.
const StderrTail = 4 << 10

// Runner is the tasks.Runner (and tasks.Planner) of an exec kernel: each
// call runs the kernel's command as a child process.
type Runner struct {
	k    *kernel
	argv []string // the resolved program, its arguments
}

var (
	_ tasks.Runner  = (*Runner)(nil)
	_ tasks.Planner = (*Runner)(nil)
)

// Name is the kernel's name.
func (r *Runner) Name() string { return r.k.name }

// Plan runs the plan step: {"params": P} in, {"extent": N, "chunks": K}
// out.
func (r *Runner) Plan(ctx context.Context, params json.RawMessage) (int64, int, error) {
	in := concat(`{"params":`, params, `}`)
	out, err := r.step(ctx, StepPlan, in)
	if err != nil {
		return 0, 0, err
	}
	extent, chunks, err := decodePlan(out.stdout)
	if err != nil {
		return 0, 0, r.failure(StepPlan, out, err.Error())
	}
	return extent, chunks, nil
}

// Run runs the run step of one chunk: {"params": P, "index": i, "total":
// n, "lo": lo, "hi": hi} in, the partial (any JSON value) out.
func (r *Runner) Run(ctx context.Context, c tasks.Chunk) ([]byte, error) {
	in := concat(`{"params":`, c.Params, fmt.Sprintf(`,"index":%d,"total":%d,"lo":%d,"hi":%d}`, c.Index, c.Total, c.Range.Lo, c.Range.Hi))
	out, err := r.step(ctx, StepRun, in)
	if err != nil {
		return nil, err
	}
	partial, err := decodeRun(out.stdout)
	if err != nil {
		return nil, r.failure(StepRun, out, err.Error())
	}
	return partial, nil
}

// Reduce runs the reduce step: {"params": P, "partials": [...]} in,
// {"result": R} out, plus "artifact_base64" for a kernel with an
// artifact_type.
func (r *Runner) Reduce(ctx context.Context, params json.RawMessage, _ tasks.Input, partials [][]byte) (*tasks.Output, error) {
	parts := make([][]byte, 0, 2*len(partials)+3)
	parts = append(parts, []byte(`{"params":`), params, []byte(`,"partials":[`))
	for i, p := range partials {
		if i > 0 {
			parts = append(parts, []byte(","))
		}
		parts = append(parts, p)
	}
	parts = append(parts, []byte("]}"))
	out, err := r.step(ctx, StepReduce, parts)
	if err != nil {
		return nil, err
	}
	o, err := decodeReduce(out.stdout, r.k.artifactType != "")
	if err != nil {
		return nil, r.failure(StepReduce, out, err.Error())
	}
	return o, nil
}

func concat(prefix string, middle []byte, suffix string) [][]byte {
	return [][]byte{[]byte(prefix), middle, []byte(suffix)}
}

// decodePlan reads a plan step's stdout: an object with an integer extent
// of at least 0 and an integer chunks from 1 to tasks.MaxChunks; other
// fields are ignored.
func decodePlan(stdout []byte) (int64, int, error) {
	obj, err := decodeObject(stdout, "{\"extent\": N, \"chunks\": K}")
	if err != nil {
		return 0, 0, err
	}
	extent, err := integer(obj, "extent", 0, math.MaxInt64)
	if err != nil {
		return 0, 0, err
	}
	chunks, err := integer(obj, "chunks", 1, tasks.MaxChunks)
	if err != nil {
		return 0, 0, err
	}
	return extent, int(chunks), nil
}

// decodeRun reads a run step's stdout: exactly one JSON value, returned
// compacted.
func decodeRun(stdout []byte) ([]byte, error) {
	if err := oneValue(stdout); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(stdout))
	if err := json.Compact(&buf, stdout); err != nil {
		return nil, fmt.Errorf("stdout is not one JSON value: %v", err)
	}
	return buf.Bytes(), nil
}

// decodeReduce reads a reduce step's stdout: an object with a result (any
// JSON value) and, when artifact is set, an artifact_base64 string.
func decodeReduce(stdout []byte, artifact bool) (*tasks.Output, error) {
	want := `{"result": R}`
	if artifact {
		want = `{"result": R, "artifact_base64": "…"}`
	}
	obj, err := decodeObject(stdout, want)
	if err != nil {
		return nil, err
	}
	res, ok := obj["result"]
	if !ok {
		return nil, fmt.Errorf("stdout has no \"result\"; want %s", want)
	}
	if string(res) == "null" { // a succeeded job's result is set
		return nil, fmt.Errorf("\"result\" is null; want any other JSON value")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, res); err != nil {
		return nil, fmt.Errorf("result: %v", err)
	}
	out := &tasks.Output{Result: buf.Bytes()}
	if !artifact {
		return out, nil
	}
	raw, ok := obj["artifact_base64"]
	var s string
	if !ok || json.Unmarshal(raw, &s) != nil {
		return nil, fmt.Errorf("stdout has no \"artifact_base64\" string; want %s", want)
	}
	if out.Artifact, err = base64.StdEncoding.DecodeString(s); err != nil {
		return nil, fmt.Errorf("artifact_base64 is not standard base64: %v", err)
	}
	return out, nil
}

func oneValue(stdout []byte) error {
	if len(bytes.TrimSpace(stdout)) == 0 {
		return errors.New("stdout is empty; want one JSON value")
	}
	if json.Valid(stdout) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(stdout))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("stdout is not one JSON value: %v", err)
	}
	return fmt.Errorf("stdout is not one JSON value: data after the value at byte %d", dec.InputOffset())
}

func decodeObject(stdout []byte, want string) (map[string]json.RawMessage, error) {
	if err := oneValue(stdout); err != nil {
		return nil, fmt.Errorf("%w; want %s", err, want)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(stdout, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("stdout is not a JSON object; want %s", want)
	}
	return obj, nil
}

// integer reads obj[name] as an integral number (1e9 and 7.0 included)
// from lo to hi.
func integer(obj map[string]json.RawMessage, name string, lo, hi int64) (int64, error) {
	raw, ok := obj[name]
	msg := fmt.Errorf("%q must be an integer from %d to %d, got %.40s", name, lo, hi, raw)
	if !ok {
		return 0, fmt.Errorf("stdout has no %q, which must be an integer from %d to %d", name, lo, hi)
	}
	s := string(raw)
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) || !numberOK(s) {
		return 0, msg
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, msg
	}
	v := r.Num().Int64()
	if v < lo || v > hi {
		return 0, msg
	}
	return v, nil
}

// stepOutput is what a finished step left.
type stepOutput struct {
	stdout []byte
	// status says how the process ended: "exited with status 0".
	status string
	// stderr is the last 4 KiB of the step's stderr.
	stderr []byte
}

// StepError is a step that failed: it ended badly, or its stdout was not
// what the protocol wants. Its message names the kernel, the step and
// what went wrong, and ends with the last 4 KiB of the step's stderr.
type StepError struct {
	Kernel, Step string
	// Reason says what went wrong: "exited with status 3", "was killed by
	// signal SIGSEGV", "exited with status 0, but stdout is empty…".
	Reason string
	// Stderr is the tail of the step's stderr.
	Stderr []byte
}

// Unwrap marks a failed step as permanent: the same step with the same
// input fails again, so a failed reduce fails its job at once.
func (e *StepError) Unwrap() error { return tasks.ErrPermanent }

func (e *StepError) Error() string {
	return fmt.Sprintf("kernel %s, %s step: %s; stderr:\n%s", e.Kernel, e.Step, e.Reason, e.Stderr)
}

// failure is the error of a step that ended with status 0 but whose
// stdout is wrong.
func (r *Runner) failure(step string, out *stepOutput, reason string) error {
	return &StepError{Kernel: r.k.name, Step: step, Reason: out.status + ", but " + reason, Stderr: out.stderr}
}

// env is the environment of a step: the worker's, without the variables
// the protocol sets, plus those.
func stepEnv(base []string, jobID, kernel, step string) []string {
	env := make([]string, 0, len(base)+3)
	for _, kv := range base {
		name, _, _ := bytes.Cut([]byte(kv), []byte("="))
		switch string(name) {
		case "CRUNCH_JOB_ID", "CRUNCH_KERNEL", "CRUNCH_STEP", supervisor.Env:
			continue
		}
		env = append(env, kv)
	}
	return append(env, "CRUNCH_JOB_ID="+jobID, "CRUNCH_KERNEL="+kernel, "CRUNCH_STEP="+step)
}

// writeAll writes parts to w; a step that exits without reading its whole
// stdin is not an error by itself.
func writeAll(w io.WriteCloser, parts [][]byte) {
	defer w.Close()
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return
		}
	}
}

package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"io"
)

// MaxChunks is the largest number of chunks a job may be split into.
const MaxChunks = 4096

// Spec describes a kernel to the API: its parameters and how its work is
// split. Implementations must be cheap and must not compute the result.
type Spec interface {
	// Name is the kernel's name in requests, e.g. "primes".
	Name() string
	// Description is one sentence for GET /v1/kernels.
	Description() string
	// ParamsSchema is a JSON Schema object describing the params.
	ParamsSchema() json.RawMessage
	// ArtifactType is the MIME type of the file a job produces, or "" when
	// the kernel produces none.
	ArtifactType() string
	// Prepare validates params (a JSON object, or nil when absent) and fills
	// defaults. A bad parameter is reported as a *ValidationError whose
	// fields are relative to params ("to", "values[3]").
	Prepare(params json.RawMessage) (*Prepared, error)
}

// Prepared is a validated job, ready to be stored and split.
type Prepared struct {
	// Params are the params with defaults filled in, without bulk inputs.
	// They are echoed in the Job and given to the Runner.
	Params json.RawMessage
	// Input is the bulk input, stored once with the job and read by chunks
	// through [Input]; nil when the kernel has none.
	Input []byte
	// Extent is the size of the work, split into chunks by [ChunkRange];
	// [ExtentUnknown] when only the runner's [Planner] can tell.
	Extent int64
	// DefaultChunks is the number of chunks used when the request does not
	// say; between 1 and MaxChunks, or 0 when Extent is ExtentUnknown (the
	// Planner then gives it).
	DefaultChunks int
}

// Input is a job's bulk input as a chunk sees it. Chunks read only the
// bytes they need.
type Input interface {
	io.ReaderAt
	Size() int64
}

// Chunk is one piece of a job's work, handed to [Runner.Run].
type Chunk struct {
	Index  int
	Total  int
	Range  Range
	Params json.RawMessage
	// Input is the job's bulk input; nil when the kernel has none.
	Input Input
}

// Output is the merged result of a job.
type Output struct {
	// Result is the job's result object.
	Result json.RawMessage
	// Artifact is the file the job produced, of the Spec's ArtifactType;
	// nil when the kernel produces none.
	Artifact []byte
}

// Runner computes a kernel. Only workers link runners.
type Runner interface {
	// Name is the kernel's name; it matches the Spec's.
	Name() string
	// Run computes the partial result of one chunk. It uses all the cores
	// it is given and checks ctx often enough to stop within a few hundred
	// milliseconds of cancellation. A chunk with an empty Range still
	// returns a valid (empty) partial.
	Run(ctx context.Context, c Chunk) ([]byte, error)
	// Reduce merges the partials of every chunk, given in chunk order, into
	// the job's result. It must return the same result for every chunking.
	Reduce(ctx context.Context, params json.RawMessage, input Input, partials [][]byte) (*Output, error)
}

// ErrPermanent marks a kernel failure that running again cannot fix (a
// program that exited non-zero, output of the wrong shape). A Runner's
// error that wraps it fails the job at once when it comes from Reduce;
// other errors of Reduce (an input that could not be read) are retried a
// few times first. Errors of Run are retried per the job's max_retries
// either way.
var ErrPermanent = errors.New("permanent kernel failure")

// ExtentUnknown is the Extent of a Prepared job whose size only running
// code can tell (a kernel of the exec protocol, whose plan step is a
// program). The API stores such a job with its DefaultChunks of 0; before
// splitting it, a worker asks the runner's [Planner] for the extent and
// the default chunk count.
const ExtentUnknown = -1

// Planner is implemented by runners whose work size only running code can
// know: their Spec's Prepare returns Extent [ExtentUnknown], and the
// worker calls Plan once, before the job's chunks are released. Plan
// returns the extent (at least 0) and the default number of chunks
// (1 to [MaxChunks]), which a request's own chunks count overrides. An
// error fails the job.
type Planner interface {
	Plan(ctx context.Context, params json.RawMessage) (extent int64, chunks int, err error)
}

type jobIDKey struct{}

// WithJobID returns ctx carrying the id of the job whose step runs in it.
// The worker sets it on the context of every plan, Run and Reduce call.
func WithJobID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, jobIDKey{}, id)
}

// JobID returns the job id set by [WithJobID], or "" when there is none
// (a kernel called outside a worker, as in tests).
func JobID(ctx context.Context) string {
	id, _ := ctx.Value(jobIDKey{}).(string)
	return id
}

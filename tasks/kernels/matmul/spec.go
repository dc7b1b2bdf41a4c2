package matmul

import (
	"encoding/binary"
	"encoding/json"
	"math"

	"github.com/crunchjobs/crunch/tasks"
)

// Bounds of the params.
const (
	// MaxDim bounds the rows and columns of explicit a and b.
	MaxDim = 512
	// MaxAbs bounds the absolute value of an explicit entry.
	MaxAbs = 1e50
	// MaxN bounds n of the random form.
	MaxN = 4096
	// MaxSeed bounds seed of the random form.
	MaxSeed = math.MaxInt64
	// MaxCEntries is the largest rows·cols for which the result lists C.
	MaxCEntries = 65536
)

// flopsPerChunk is the work of a default chunk: 2^31 floating-point
// operations, 1–2 GFLOP, a fraction of a second on a worker (n = 4096 gives
// 64 chunks).
const flopsPerChunk = 1 << 31

// Spec is the API half of the matmul kernel.
type Spec struct{}

var _ tasks.Spec = Spec{}

// Name implements [tasks.Spec].
func (Spec) Name() string { return "matmul" }

// Description implements [tasks.Spec].
func (Spec) Description() string {
	return "Multiplies two matrices, given or random, and returns the exact checksum and Frobenius norm of the product (and the product itself when small)."
}

// ArtifactType implements [tasks.Spec]: matmul produces no file.
func (Spec) ArtifactType() string { return "" }

// ParamsSchema implements [tasks.Spec].
func (Spec) ParamsSchema() json.RawMessage { return json.RawMessage(schema) }

const schema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "matmul params",
  "description": "C = A·B, with A and B given explicitly (a and b) or generated from n and seed; exactly one of the two forms.",
  "type": "object",
  "properties": {
    "a": {
      "type": "array", "minItems": 1, "maxItems": 512,
      "items": {"type": "array", "minItems": 1, "maxItems": 512, "items": {"type": "number", "minimum": -1e50, "maximum": 1e50}},
      "description": "Matrix A as an array of rows, all of one length; entries finite with |x| ≤ 10^50. Requires b; not echoed."
    },
    "b": {
      "type": "array", "minItems": 1, "maxItems": 512,
      "items": {"type": "array", "minItems": 1, "maxItems": 512, "items": {"type": "number", "minimum": -1e50, "maximum": 1e50}},
      "description": "Matrix B as an array of rows, all of one length; as many rows as A has columns. Requires a; not echoed."
    },
    "n": {"type": "integer", "minimum": 1, "maximum": 4096, "description": "Size of random n×n matrices A and B with entries in [-1, 1); not with a and b."},
    "seed": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807, "default": 0, "description": "Seed of the random entries; only with n."}
  },
  "oneOf": [{"required": ["a", "b"]}, {"required": ["n"]}],
  "additionalProperties": false
}`

// randomParams are the echoed params of the random form, in contract order.
type randomParams struct {
	N    int64 `json:"n"`
	Seed int64 `json:"seed"`
}

// Prepare implements [tasks.Spec].
func (Spec) Prepare(raw json.RawMessage) (*tasks.Prepared, error) {
	p := tasks.NewParams(raw)
	explicit := p.Has("a") || p.Has("b")
	if explicit {
		return prepareExplicit(p)
	}
	rp := randomParams{N: p.Int("n", 0, 1, MaxN), Seed: p.Int("seed", 0, 0, MaxSeed)}
	if !p.Has("n") {
		p.Fail("n", "is required unless a and b are given")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	echo, err := json.Marshal(rp)
	if err != nil {
		return nil, err
	}
	return &tasks.Prepared{
		Params:        echo,
		Extent:        rp.N,
		DefaultChunks: defaultChunks(rp.N, rp.N, rp.N),
	}, nil
}

// prepareExplicit validates a and b, which it stores as the job's input.
func prepareExplicit(p *tasks.Params) (*tasks.Prepared, error) {
	hasA, hasB := p.Has("a"), p.Has("b")
	a := p.Matrix("a", MaxAbs, MaxDim, MaxDim)
	b := p.Matrix("b", MaxAbs, MaxDim, MaxDim)
	switch {
	case !hasA:
		p.Fail("a", "is required with b")
	case !hasB:
		p.Fail("b", "is required with a")
	case a != nil && b != nil && len(a[0]) != len(b):
		p.Fail("b", "must have as many rows as a has columns (%d), got %d", len(a[0]), len(b))
	}
	// n and seed are read (a null is allowed) but must not be given.
	p.Int("n", 0, 1, MaxN)
	if p.Has("n") && !p.Failed("n") {
		p.Fail("n", "cannot be given together with a and b")
	}
	p.Int("seed", 0, 0, MaxSeed)
	if p.Has("seed") && !p.Failed("seed") {
		p.Fail("seed", "applies only to random matrices (n)")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	d := dims{rows: len(a), inner: len(b), cols: len(b[0])}
	return &tasks.Prepared{
		Params:        json.RawMessage(`{}`),
		Input:         encodeInput(d, a, b),
		Extent:        int64(d.rows),
		DefaultChunks: defaultChunks(int64(d.rows), int64(d.inner), int64(d.cols)),
	}, nil
}

// defaultChunks gives about flopsPerChunk of work to a chunk, at most one
// chunk per row of C.
func defaultChunks(rows, inner, cols int64) int {
	return int(min(int64(tasks.ChunksFor(2*rows*inner*cols, flopsPerChunk)), rows))
}

// dims are the dimensions of C = A·B: A is rows×inner, B inner×cols.
type dims struct {
	rows, inner, cols int
}

// The explicit input: a header, then A and B row by row.
const (
	inputMagic     = "MMI1"
	inputHeaderLen = 16
)

// encodeInput lays out a and b as the job's input:
//
//	bytes 0–3    "MMI1"
//	bytes 4–15   rows, inner, cols: uint32 little-endian
//	then         A's rows·inner entries, then B's inner·cols entries, row by
//	             row, each a little-endian IEEE 754 binary64
func encodeInput(d dims, a, b [][]float64) []byte {
	buf := make([]byte, inputHeaderLen, inputHeaderLen+8*(d.rows*d.inner+d.inner*d.cols))
	copy(buf, inputMagic)
	binary.LittleEndian.PutUint32(buf[4:], uint32(d.rows))
	binary.LittleEndian.PutUint32(buf[8:], uint32(d.inner))
	binary.LittleEndian.PutUint32(buf[12:], uint32(d.cols))
	for _, m := range [][][]float64{a, b} {
		for _, row := range m {
			for _, x := range row {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
			}
		}
	}
	return buf
}

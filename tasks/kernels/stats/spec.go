package stats

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"

	"github.com/crunchjobs/crunch/tasks"
)

const (
	// MaxAbs is the largest allowed magnitude of a value: its square stays
	// finite.
	MaxAbs = 1e150
	// valuesPerChunk is the default number of values per chunk; a body of
	// at most 32 MiB holds fewer than 2^24 values, so at most 16 chunks.
	valuesPerChunk = 1 << 20
	// valueSize is the size of a value in the input.
	valueSize = 8
)

// Spec is the API half of the stats kernel.
type Spec struct{}

var _ tasks.Spec = Spec{}

// Name implements tasks.Spec.
func (Spec) Name() string { return "stats" }

// Description implements tasks.Spec.
func (Spec) Description() string {
	return "Count, sum, mean, min, max, population variance and standard deviation of numbers, computed exactly and rounded once."
}

// ArtifactType implements tasks.Spec: stats produces no file.
func (Spec) ArtifactType() string { return "" }

// ParamsSchema implements tasks.Spec.
func (Spec) ParamsSchema() json.RawMessage {
	return json.RawMessage(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "stats params",
  "description": "Descriptive statistics of a list of numbers, computed exactly over their float64 values and rounded once.",
  "type": "object",
  "properties": {
    "values": {
      "type": "array",
      "minItems": 1,
      "items": {"type": "number", "minimum": -1e150, "maximum": 1e150},
      "description": "The numbers, each finite with absolute value at most 1e150. Not echoed in the job's params."
    }
  },
  "required": ["values"],
  "additionalProperties": false
}`)
}

// Prepare implements tasks.Spec. The values become the job's input, 8
// little-endian bytes each.
func (Spec) Prepare(raw json.RawMessage) (*tasks.Prepared, error) {
	input, ok := fastInput(raw)
	if !ok {
		var err error
		if input, err = slowInput(raw); err != nil {
			return nil, err
		}
	}
	n := int64(len(input) / valueSize)
	return &tasks.Prepared{
		Params:        json.RawMessage(`{}`),
		Input:         input,
		Extent:        n,
		DefaultChunks: tasks.ChunksFor(n, valuesPerChunk),
	}, nil
}

// slowInput reads the params with tasks.Params, which reports every problem
// with its field path.
func slowInput(raw json.RawMessage) ([]byte, error) {
	p := tasks.NewParams(raw)
	if !p.Has("values") {
		p.Fail("values", "is required")
	}
	values := p.Floats("values", MaxAbs)
	if err := p.Err(); err != nil {
		return nil, err
	}
	input := make([]byte, valueSize*len(values))
	for i, x := range values {
		binary.LittleEndian.PutUint64(input[valueSize*i:], math.Float64bits(x))
	}
	if len(values) == 0 { // Floats reports an empty or absent array; never reached
		return nil, errors.New("stats: no values")
	}
	return input, nil
}

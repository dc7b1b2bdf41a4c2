package primes

//go:generate go run genwheel.go

import (
	"encoding/json"
	"fmt"

	"github.com/crunchjobs/crunch/tasks"
)

// Bounds of the params, from the contract.
const (
	// MaxTo is the largest allowed to (exclusive upper end).
	MaxTo = 1_000_000_000_000
	// MaxSpan is the largest allowed to − from.
	MaxSpan = 100_000_000_000
	// perChunk is the default number of integers per chunk: measured
	// 0.2 s (below 10^9) to 0.4 s (near 10^12) of sieving on one core.
	// The largest span makes 100 chunks, π(10^10) 10.
	perChunk = 1_000_000_000
)

// Spec is the API half of the primes kernel.
type Spec struct{}

var _ tasks.Spec = Spec{}

// params are the validated params, in contract order.
type params struct {
	From int64 `json:"from"`
	To   int64 `json:"to"`
}

// Name implements tasks.Spec.
func (Spec) Name() string { return "primes" }

// Description implements tasks.Spec.
func (Spec) Description() string {
	return "Counts and sums the primes p with from <= p < to (segmented sieve of Eratosthenes)."
}

// ArtifactType implements tasks.Spec: primes produces no file.
func (Spec) ArtifactType() string { return "" }

// ParamsSchema implements tasks.Spec.
func (Spec) ParamsSchema() json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "primes params",
  "description": "Primes p with from <= p < to. to - from must be at most %[3]d.",
  "type": "object",
  "properties": {
    "from": {"type": "integer", "minimum": 0, "maximum": %[1]d, "default": 0, "description": "Inclusive lower end of the range."},
    "to": {"type": "integer", "minimum": 1, "maximum": %[2]d, "description": "Exclusive upper end of the range; greater than from, and to - from at most %[3]d."}
  },
  "required": ["to"],
  "additionalProperties": false
}`, MaxTo-1, MaxTo, MaxSpan))
}

// Prepare implements tasks.Spec.
func (Spec) Prepare(raw json.RawMessage) (*tasks.Prepared, error) {
	p := tasks.NewParams(raw)
	from := p.Int("from", 0, 0, MaxTo-1)
	to := p.RequiredInt("to", 1, MaxTo)
	if !p.Failed("from") && !p.Failed("to") {
		switch {
		case to <= from:
			p.Fail("to", "must be greater than from (%d)", from)
		case to-from > MaxSpan:
			p.Fail("to", "to - from must be at most %d", int64(MaxSpan))
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	echo, err := json.Marshal(params{From: from, To: to})
	if err != nil {
		return nil, fmt.Errorf("primes: encode params: %w", err)
	}
	extent := to - from
	return &tasks.Prepared{
		Params:        echo,
		Extent:        extent,
		DefaultChunks: tasks.ChunksFor(extent, perChunk),
	}, nil
}

package wordcount

import (
	"encoding/json"
	"fmt"

	"github.com/crunchjobs/crunch/tasks"
)

const (
	// DefaultTop is the default length of the top list.
	DefaultTop = 10
	// MaxTop is the longest allowed top list.
	MaxTop = 1000
	// bytesPerChunk is the default amount of text per chunk.
	bytesPerChunk = 4 << 20
)

// Spec is the API half of the wordcount kernel.
type Spec struct{}

var _ tasks.Spec = Spec{}

// params are the validated params without the text, in contract order.
type params struct {
	Top int64 `json:"top"`
}

// Name implements tasks.Spec.
func (Spec) Name() string { return "wordcount" }

// Description implements tasks.Spec.
func (Spec) Description() string {
	return "Counts the words of a text (runs of Unicode letters and digits, lower-cased) and lists the most frequent."
}

// ArtifactType implements tasks.Spec: wordcount produces no file.
func (Spec) ArtifactType() string { return "" }

// ParamsSchema implements tasks.Spec.
func (Spec) ParamsSchema() json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "wordcount params",
  "description": "Word frequencies of a text. A word is a maximal run of Unicode letters (category L) or decimal digits (Nd), lower-cased code point by code point.",
  "type": "object",
  "properties": {
    "text": {"type": "string", "description": "The text; may be empty. Not echoed in the job's params."},
    "top": {"type": "integer", "minimum": 1, "maximum": %d, "default": %d, "description": "How many of the most frequent words to list, by count descending then word ascending by code point."}
  },
  "required": ["text"],
  "additionalProperties": false
}`, MaxTop, DefaultTop))
}

// Prepare implements tasks.Spec. The text becomes the job's input.
func (Spec) Prepare(raw json.RawMessage) (*tasks.Prepared, error) {
	p := tasks.NewParams(raw)
	if !p.Has("text") {
		p.Fail("text", "is required")
	}
	text, _ := p.String("text")
	top := p.Int("top", DefaultTop, 1, MaxTop)
	if err := p.Err(); err != nil {
		return nil, err
	}
	echo, err := json.Marshal(params{Top: top})
	if err != nil {
		return nil, fmt.Errorf("wordcount: encode params: %w", err)
	}
	n := int64(len(text))
	return &tasks.Prepared{
		Params:        echo,
		Input:         []byte(text), // never nil, even for ""
		Extent:        n,
		DefaultChunks: tasks.ChunksFor(n, bytesPerChunk),
	}, nil
}

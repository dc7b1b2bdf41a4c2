package mandelbrot

import (
	"encoding/json"

	"github.com/crunchjobs/crunch/tasks"
)

// Bounds of the params.
const (
	// MaxPixels bounds width·height.
	MaxPixels = 1 << 24
	// MaxIter bounds max_iter.
	MaxIter = 100000
	// MaxCost bounds width·height·max_iter, the worst-case iteration count.
	MaxCost = 100_000_000_000
	// MaxCoord bounds the absolute value of x_min, x_max, y_min and y_max.
	MaxCoord = 1e6
)

// Defaults of the params.
const (
	DefaultWidth   = 1024
	DefaultHeight  = 768
	DefaultMaxIter = 256
	DefaultXMin    = -2.5
	DefaultXMax    = 1.0
	DefaultYMin    = -1.25
	DefaultYMax    = 1.25
)

// iterPerChunk is the worst-case number of iterations of a default chunk,
// about a second of one core.
const iterPerChunk = 200_000_000

// Spec is the API half of the mandelbrot kernel.
type Spec struct{}

var _ tasks.Spec = Spec{}

// Name implements [tasks.Spec].
func (Spec) Name() string { return "mandelbrot" }

// Description implements [tasks.Spec].
func (Spec) Description() string {
	return "Renders the Mandelbrot set over a rectangle of the complex plane as a PNG and counts the pixels inside it."
}

// ArtifactType implements [tasks.Spec].
func (Spec) ArtifactType() string { return "image/png" }

// ParamsSchema implements [tasks.Spec].
func (Spec) ParamsSchema() json.RawMessage { return json.RawMessage(schema) }

const schema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "mandelbrot params",
  "description": "Renders pixels (px, py) at cx = x_min + ((px+0.5)·(x_max−x_min))/width, cy = y_max − ((py+0.5)·(y_max−y_min))/height in IEEE binary64 without fused multiply-add. width·height must be at most 16777216 and width·height·max_iter at most 10^11.",
  "type": "object",
  "properties": {
    "width": {"type": "integer", "minimum": 1, "maximum": 16777216, "default": 1024, "description": "Image width in pixels; width·height ≤ 16777216 (reported on width)."},
    "height": {"type": "integer", "minimum": 1, "maximum": 16777216, "default": 768, "description": "Image height in pixels; also the extent split into chunks (rows)."},
    "max_iter": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 256, "description": "Iterations after which a pixel that has not escaped is inside; width·height·max_iter ≤ 10^11 (reported on max_iter)."},
    "x_min": {"type": "number", "minimum": -1000000, "maximum": 1000000, "default": -2.5, "description": "Real part of the left edge; less than x_max."},
    "x_max": {"type": "number", "minimum": -1000000, "maximum": 1000000, "default": 1.0, "description": "Real part of the right edge; greater than x_min."},
    "y_min": {"type": "number", "minimum": -1000000, "maximum": 1000000, "default": -1.25, "description": "Imaginary part of the bottom edge; less than y_max."},
    "y_max": {"type": "number", "minimum": -1000000, "maximum": 1000000, "default": 1.25, "description": "Imaginary part of the top edge; greater than y_min."}
  },
  "additionalProperties": false
}`

// config is a validated job. Its JSON form is the echoed params, fields in
// contract order.
type config struct {
	Width   int64   `json:"width"`
	Height  int64   `json:"height"`
	MaxIter int64   `json:"max_iter"`
	XMin    float64 `json:"x_min"`
	XMax    float64 `json:"x_max"`
	YMin    float64 `json:"y_min"`
	YMax    float64 `json:"y_max"`
}

// parse validates params and fills defaults. Both halves use it: the
// Runner re-validates the echoed params so that a corrupt payload is an
// error, never a huge allocation.
func parse(raw json.RawMessage) (config, error) {
	p := tasks.NewParams(raw)
	c := config{
		Width:   p.Int("width", DefaultWidth, 1, MaxPixels),
		Height:  p.Int("height", DefaultHeight, 1, MaxPixels),
		MaxIter: p.Int("max_iter", DefaultMaxIter, 1, MaxIter),
		XMin:    p.Float("x_min", DefaultXMin, MaxCoord),
		XMax:    p.Float("x_max", DefaultXMax, MaxCoord),
		YMin:    p.Float("y_min", DefaultYMin, MaxCoord),
		YMax:    p.Float("y_max", DefaultYMax, MaxCoord),
	}
	pixelsOK := !p.Failed("width") && !p.Failed("height")
	if pixelsOK && c.Width*c.Height > MaxPixels {
		p.Fail("width", "width·height must be at most %d, got %d·%d", MaxPixels, c.Width, c.Height)
		pixelsOK = false
	}
	if pixelsOK && !p.Failed("max_iter") && c.Width*c.Height*c.MaxIter > MaxCost {
		p.Fail("max_iter", "width·height·max_iter must be at most 10^11, got %d·%d·%d", c.Width, c.Height, c.MaxIter)
	}
	if !p.Failed("x_min") && !p.Failed("x_max") && !(c.XMin < c.XMax) {
		p.Fail("x_max", "must be greater than x_min")
	}
	if !p.Failed("y_min") && !p.Failed("y_max") && !(c.YMin < c.YMax) {
		p.Fail("y_max", "must be greater than y_min")
	}
	return c, p.Err()
}

// Prepare implements [tasks.Spec].
func (Spec) Prepare(raw json.RawMessage) (*tasks.Prepared, error) {
	c, err := parse(raw)
	if err != nil {
		return nil, err
	}
	echo, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	chunks := tasks.ChunksFor(c.Width*c.Height*c.MaxIter, iterPerChunk)
	return &tasks.Prepared{
		Params:        echo,
		Extent:        c.Height,
		DefaultChunks: int(min(int64(chunks), c.Height)),
	}, nil
}

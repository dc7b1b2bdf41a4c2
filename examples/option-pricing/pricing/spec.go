package pricing

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/crunchjobs/crunch/tasks"
)

// Name is the kernel's name in requests.
const Name = "european-option"

// Bounds of the params. They keep every path's payoff, counted in units of
// Resolution, below 2^63 (see the package documentation), and a job of
// MaxPaths within minutes on a few workers.
const (
	MinPrice      = 0.001 // smallest spot and strike
	MaxPrice      = 1e8   // largest spot and strike
	MaxRate       = 0.5   // largest |rate|, continuously compounded per year
	MinVolatility = 0.001 // smallest volatility, per √year
	MaxVolatility = 1.0   // largest volatility (100 %)
	MinMaturity   = 0.001 // shortest maturity, in years (about 9 hours)
	MaxMaturity   = 10.0  // longest maturity, in years
	MinPaths      = 2     // fewest paths: a standard error needs two
	MaxPaths      = 10_000_000_000
	DefaultPaths  = 1_000_000
	MaxSeed       = math.MaxInt64
	// perChunk is the default number of paths per chunk: about two seconds
	// of one core (70 to 110 ns of CPU per path, measured), so that 10^10
	// paths make 500 chunks to spread over workers.
	perChunk = 20_000_000
)

// Params are a job's validated params with defaults filled in, as Spec
// echoes them and Runner reads them.
type Params struct {
	Spot       float64 `json:"spot"`
	Strike     float64 `json:"strike"`
	Rate       float64 `json:"rate"`
	Volatility float64 `json:"volatility"`
	Maturity   float64 `json:"maturity"`
	Paths      int64   `json:"paths"`
	Seed       int64   `json:"seed"`
}

// Spec is the API half of the kernel: it validates params and sizes the
// work. It computes nothing, so the API program links no pricing code.
type Spec struct{}

var _ tasks.Spec = Spec{}

// Name implements tasks.Spec.
func (Spec) Name() string { return Name }

// Description implements tasks.Spec.
func (Spec) Description() string {
	return "Prices a European call and put by Monte Carlo under Black–Scholes, beside the closed form; the same paths and seed give the same result for any chunking."
}

// ArtifactType implements tasks.Spec: the kernel produces no file.
func (Spec) ArtifactType() string { return "" }

// ParamsSchema implements tasks.Spec.
func (Spec) ParamsSchema() json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "%[1]s params",
  "description": "A European option on a stock following geometric Brownian motion. The same paths and seed give the same result for any chunking.",
  "type": "object",
  "properties": {
    "spot": {"type": "number", "minimum": %[2]g, "maximum": %[3]g, "description": "Price of the underlying today."},
    "strike": {"type": "number", "minimum": %[2]g, "maximum": %[3]g, "description": "Strike price."},
    "rate": {"type": "number", "minimum": -%[4]g, "maximum": %[4]g, "default": 0, "description": "Risk-free rate, continuously compounded, per year (0.05 is 5 %%)."},
    "volatility": {"type": "number", "minimum": %[5]g, "maximum": %[6]g, "description": "Volatility of the underlying per square root of a year (0.2 is 20 %%)."},
    "maturity": {"type": "number", "minimum": %[7]g, "maximum": %[8]g, "description": "Time to expiry, in years."},
    "paths": {"type": "integer", "minimum": %[9]d, "maximum": %[10]d, "default": %[11]d, "description": "Number of simulated paths."},
    "seed": {"type": "integer", "minimum": 0, "maximum": %[12]d, "default": 0, "description": "Seed of the SplitMix64 stream; path i is a pure function of (seed, i)."}
  },
  "required": ["spot", "strike", "volatility", "maturity"],
  "additionalProperties": false
}`, Name, MinPrice, MaxPrice, MaxRate, MinVolatility, MaxVolatility, MinMaturity, MaxMaturity,
		MinPaths, int64(MaxPaths), DefaultPaths, int64(MaxSeed)))
}

// Prepare implements tasks.Spec: every bad field is reported, by name.
func (Spec) Prepare(raw json.RawMessage) (*tasks.Prepared, error) {
	p := tasks.NewParams(raw)
	params := Params{
		Spot:       number(p, "spot", true, 0, MinPrice, MaxPrice),
		Strike:     number(p, "strike", true, 0, MinPrice, MaxPrice),
		Rate:       number(p, "rate", false, 0, -MaxRate, MaxRate),
		Volatility: number(p, "volatility", true, 0, MinVolatility, MaxVolatility),
		Maturity:   number(p, "maturity", true, 0, MinMaturity, MaxMaturity),
		Paths:      p.Int("paths", DefaultPaths, MinPaths, MaxPaths),
		Seed:       p.Int("seed", 0, 0, MaxSeed),
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	echo, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("%s: encode params: %w", Name, err)
	}
	return &tasks.Prepared{
		Params:        echo,
		Extent:        params.Paths,
		DefaultChunks: tasks.ChunksFor(params.Paths, perChunk),
	}, nil
}

// number reads a number in [lo, hi]; def when it is absent and not
// required. Every way of being wrong (a string, out of range, missing) gets
// one message naming the range.
func number(p *tasks.Params, name string, required bool, def, lo, hi float64) float64 {
	raw, ok := p.Raw(name)
	if !ok {
		if required {
			p.Fail(name, "is required: a number from %g to %g", lo, hi)
		}
		return def
	}
	// raw is a JSON value: ParseFloat accepts exactly its numbers (and
	// refuses 1e999, out of float64's range).
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || v < lo || v > hi {
		p.Fail(name, "must be a number from %g to %g", lo, hi)
		return def
	}
	return v
}

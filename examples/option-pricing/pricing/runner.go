package pricing

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/crunchjobs/crunch/tasks"
)

// Runner is the worker half of the kernel: it simulates the paths of a
// chunk and merges the chunks' sums into prices.
type Runner struct{}

var _ tasks.Runner = Runner{}

var (
	// ErrBadParams reports params that Spec.Prepare would not have made.
	ErrBadParams = errors.New("pricing: bad params")
	// ErrBadPartial reports a partial that Run would not have made.
	ErrBadPartial = errors.New("pricing: bad partial")
)

// ResolutionBits is the number of binary digits a payoff keeps below one
// unit of spot: payoffs are whole multiples of spot·2^−24.
const ResolutionBits = 24

// block is how many paths one goroutine simulates between checks of its
// context: about a millisecond.
const block = 1 << 15

// Name implements tasks.Runner.
func (Runner) Name() string { return Name }

// decodeParams reads the params that Prepare echoed, and refuses any that
// it would not have made.
func decodeParams(raw json.RawMessage) (Params, error) {
	var p Params
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("%w: %w", ErrBadParams, err)
	}
	ok := p.Spot >= MinPrice && p.Spot <= MaxPrice && p.Strike >= MinPrice && p.Strike <= MaxPrice &&
		math.Abs(p.Rate) <= MaxRate && p.Volatility >= MinVolatility && p.Volatility <= MaxVolatility &&
		p.Maturity >= MinMaturity && p.Maturity <= MaxMaturity &&
		p.Paths >= MinPaths && p.Paths <= MaxPaths && p.Seed >= 0
	if !ok {
		return p, fmt.Errorf("%w: %+v", ErrBadParams, p)
	}
	return p, nil
}

// model is what every path of a job shares, computed once.
type model struct {
	seed  uint64
	drift float64 // (rate − volatility²/2)·maturity
	vol   float64 // volatility·√maturity
	k     float64 // strike/spot
}

func newModel(p Params) model {
	return model{
		seed:  uint64(p.Seed),
		drift: float64(p.Rate-float64(float64(p.Volatility*p.Volatility)/2)) * p.Maturity,
		vol:   float64(p.Volatility * math.Sqrt(p.Maturity)),
		k:     p.Strike / p.Spot,
	}
}

// SplitMix64 constants (Steele, Lea and Flood, 2014), as in the pi kernel.
const (
	golden = 0x9E3779B97F4A7C15
	mul1   = 0xBF58476D1CE4E5B9
	mul2   = 0x94D049BB133111EB
)

// Uniform returns the uniform draw of path i of the stream of seed: the
// (i+1)-th output z of SplitMix64 seeded with seed, as (⌊z/2^12⌋ + ½)/2^52,
// so it lies in [2^−53, 1 − 2^−53], exactly representable.
func Uniform(seed, i uint64) float64 {
	z := seed + (i+1)*golden
	z = (z ^ z>>30) * mul1
	z = (z ^ z>>27) * mul2
	z ^= z >> 31
	return (float64(z>>12) + 0.5) * 0x1p-52 // exact
}

// path returns the call and put payoffs of path i in units of
// spot·2^−ResolutionBits.
func (m model) path(i uint64) (call, put uint64) {
	z := normInv(Uniform(m.seed, i))
	x := exp(m.drift + float64(m.vol*z))               // S_T/spot
	d := math.Round((x - m.k) * (1 << ResolutionBits)) // the product is exact
	if !(math.Abs(d) < maxUnits) {
		return maxUnits, maxUnits // out of range (see simulate), before a conversion would wrap
	}
	if d >= 0 {
		return uint64(d), 0
	}
	return 0, uint64(-d)
}

// maxUnits is the bound that Params' bounds guarantee for path's units;
// Run checks it anyway, so that a mistake in that reasoning fails loudly
// instead of wrapping around.
const maxUnits = 1 << 63

// simulate adds the payoffs of paths [lo, hi) to call and put.
func (m model) simulate(lo, hi uint64, call, put *sums) error {
	for i := lo; i < hi; i++ {
		c, p := m.path(i)
		if c >= maxUnits || p >= maxUnits {
			return fmt.Errorf("pricing: path %d: payoff of %d or %d units is out of range", i, c, p)
		}
		call.add(c)
		put.add(p)
	}
	return nil
}

// Run implements tasks.Runner: it simulates the chunk's paths, in pieces
// run on every core, and returns their exact sums.
func (Runner) Run(ctx context.Context, c tasks.Chunk) ([]byte, error) {
	p, err := decodeParams(c.Params)
	if err != nil {
		return nil, err
	}
	if c.Range.Lo < 0 || c.Range.Hi < c.Range.Lo || c.Range.Hi > p.Paths {
		return nil, fmt.Errorf("%w: range %v outside [0,%d)", ErrBadParams, c.Range, p.Paths)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := newModel(p)
	lo, hi := uint64(c.Range.Lo), uint64(c.Range.Hi)
	procs := runtime.GOMAXPROCS(0)
	span := max((hi-lo+uint64(4*procs)-1)/uint64(4*procs), block)
	pieces := make([][2]sums, (hi-lo+span-1)/span)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(procs)
	for k := range pieces {
		g.Go(func() error {
			a := lo + uint64(k)*span
			b := min(a+span, hi)
			for ; a < b; a += block {
				if err := gctx.Err(); err != nil {
					return err
				}
				if err := m.simulate(a, min(a+block, b), &pieces[k][0], &pieces[k][1]); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("pricing: chunk %d: %w", c.Index, err)
	}
	var call, put sums
	for _, s := range pieces {
		call.merge(s[0])
		put.merge(s[1])
	}
	return encodePartial(hi-lo, call, put), nil
}

// A partial is a version byte (1), the chunk's number of paths as a
// little-endian uint64, then the call's and the put's sums, each as five
// little-endian uint64 words: Σ units (2 words, low first) and Σ units²
// (3 words, low first). 89 bytes.
const (
	partialVersion = 1
	partialSize    = 1 + 8 + 2*sumsSize
)

func encodePartial(paths uint64, call, put sums) []byte {
	b := make([]byte, 1, partialSize)
	b[0] = partialVersion
	b = binary.LittleEndian.AppendUint64(b, paths)
	return put.append(call.append(b))
}

func decodePartial(b []byte, paths uint64) (call, put sums, err error) {
	if len(b) != partialSize || b[0] != partialVersion {
		return call, put, fmt.Errorf("%w: %d bytes", ErrBadPartial, len(b))
	}
	if n := binary.LittleEndian.Uint64(b[1:]); n != paths {
		return call, put, fmt.Errorf("%w: %d paths, the chunk has %d", ErrBadPartial, n, paths)
	}
	call.decode(b[9:])
	put.decode(b[9+sumsSize:])
	return call, put, nil
}

// Option is the result for one option.
type Option struct {
	// Price is the Monte Carlo price: the mean discounted payoff.
	Price float64 `json:"price"`
	// Stderr is its standard error: the sample standard deviation of the
	// discounted payoffs over √paths.
	Stderr float64 `json:"stderr"`
	// Interval95 is the 95 % confidence interval, Price ∓ 1.96·Stderr.
	Interval95 [2]float64 `json:"interval95"`
	// BlackScholes is the closed-form price, for comparison.
	BlackScholes float64 `json:"black_scholes"`
}

// Result is a job's result.
type Result struct {
	Paths int64  `json:"paths"`
	Call  Option `json:"call"`
	Put   Option `json:"put"`
	// Resolution is the grid of the payoffs before discounting:
	// spot·2^−24.
	Resolution float64 `json:"resolution"`
}

// z975 is the 97.5 % quantile of the standard normal distribution.
const z975 = 1.959963984540054

// Reduce implements tasks.Runner: it adds the chunks' sums, exactly, and
// turns them into prices.
func (Runner) Reduce(ctx context.Context, raw json.RawMessage, _ tasks.Input, partials [][]byte) (*tasks.Output, error) {
	p, err := decodeParams(raw)
	if err != nil {
		return nil, err
	}
	if len(partials) == 0 || len(partials) > tasks.MaxChunks {
		return nil, fmt.Errorf("%w: %d partials", ErrBadPartial, len(partials))
	}
	var call, put sums
	for k, b := range partials {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("pricing: reduce: %w", err)
		}
		c, q, err := decodePartial(b, uint64(tasks.ChunkRange(p.Paths, len(partials), k).Len()))
		if err != nil {
			return nil, fmt.Errorf("chunk %d: %w", k, err)
		}
		if !call.merge(c) || !put.merge(q) {
			return nil, fmt.Errorf("chunk %d: %w: the sums overflow", k, ErrBadPartial)
		}
	}
	bsCall, bsPut := BlackScholes(p.Spot, p.Strike, p.Rate, p.Volatility, p.Maturity)
	// One unit of the sums is worth spot·2^−24 at expiry, discounted to today.
	unit := math.Ldexp(float64(p.Spot*exp(float64(-p.Rate*p.Maturity))), -ResolutionBits)
	res := Result{
		Paths:      p.Paths,
		Call:       option(call, p.Paths, unit, bsCall),
		Put:        option(put, p.Paths, unit, bsPut),
		Resolution: math.Ldexp(p.Spot, -ResolutionBits),
	}
	out, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("pricing: encode result: %w", err)
	}
	return &tasks.Output{Result: out}, nil
}

// option computes the price and standard error from the exact sums over n
// paths, each rounded to float64 once from an exact rational, then scaled
// by unit:
//
//	mean     = Σv / n
//	variance = (n·Σv² − (Σv)²) / (n·(n−1))     (the sample variance)
//	stderr   = √(variance/n)
func option(s sums, n int64, unit, closedForm float64) Option {
	sum, sq := s.big()
	bn := big.NewInt(n)
	mean, _ := new(big.Rat).SetFrac(sum, bn).Float64()
	num := new(big.Int).Sub(new(big.Int).Mul(bn, sq), new(big.Int).Mul(sum, sum))
	den := new(big.Int).Mul(new(big.Int).Mul(bn, bn), big.NewInt(n-1))
	v, _ := new(big.Rat).SetFrac(num, den).Float64()
	price, se := float64(mean*unit), float64(math.Sqrt(v)*unit)
	return Option{
		Price:        price,
		Stderr:       se,
		Interval95:   [2]float64{price - float64(z975*se), price + float64(z975*se)},
		BlackScholes: closedForm,
	}
}

// BlackScholes returns the closed-form prices of the European call and
// put under the model the kernel simulates:
//
//	d1 = (ln(spot/strike) + (rate + volatility²/2)·maturity) / (volatility·√maturity)
//	d2 = d1 − volatility·√maturity
//	call = spot·Φ(d1) − strike·e^(−rate·maturity)·Φ(d2)
//	put  = strike·e^(−rate·maturity)·Φ(−d2) − spot·Φ(−d1)
func BlackScholes(spot, strike, rate, volatility, maturity float64) (call, put float64) {
	sd := float64(volatility * math.Sqrt(maturity))
	d1 := (log(spot/strike) + float64(float64(rate+float64(float64(volatility*volatility)/2))*maturity)) / sd
	d2 := d1 - sd
	pv := float64(strike * exp(float64(-rate*maturity)))
	call = float64(spot*normCDF(d1)) - float64(pv*normCDF(d2))
	put = float64(pv*normCDF(-d2)) - float64(spot*normCDF(-d1))
	return max(call, 0), max(put, 0)
}

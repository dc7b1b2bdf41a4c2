package pi

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/crunchjobs/crunch/tasks"
)

// Runner is the worker half of the pi kernel.
type Runner struct{}

var _ tasks.Runner = Runner{}

var (
	// ErrBadParams reports params that Prepare would not have produced.
	ErrBadParams = errors.New("pi: bad params")
	// ErrBadPartial reports a partial result that Run did not produce.
	ErrBadPartial = errors.New("pi: bad partial")
)

// SplitMix64 constants (Steele, Lea and Flood, 2014).
const (
	golden = 0x9E3779B97F4A7C15
	mul1   = 0xBF58476D1CE4E5B9
	mul2   = 0x94D049BB133111EB
)

// block is how many samples a goroutine draws between checks of ctx:
// a few milliseconds of work.
const block = 1 << 21

// Name implements tasks.Runner.
func (Runner) Name() string { return "pi" }

// decodeParams reads the params that Prepare echoed.
func decodeParams(raw json.RawMessage) (params, error) {
	var p params
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("%w: %w", ErrBadParams, err)
	}
	if p.Samples < 1 || p.Samples > MaxSamples || p.Seed < 0 {
		return p, fmt.Errorf("%w: samples %d, seed %d", ErrBadParams, p.Samples, p.Seed)
	}
	return p, nil
}

// Point returns sample i of the stream of seed: the coordinates x, y in
// [0, 2^32) and whether the point is inside, x² + y² < 2^64. It is the
// reference definition that Run computes in bulk.
func Point(seed, i uint64) (x, y uint64, inside bool) {
	z := mix(seed + (i+1)*golden)
	x, y = z>>32, z&0xFFFFFFFF
	_, carry := bits.Add64(x*x, y*y, 0)
	return x, y, carry == 0
}

// mix is SplitMix64's output function.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * mul1
	z = (z ^ z>>27) * mul2
	return z ^ z>>31
}

// countInside returns how many of the samples [lo, hi) of seed are inside.
// It is Point unrolled four times, for instruction-level parallelism.
func countInside(seed, lo, hi uint64) uint64 {
	s := seed + lo*golden // the state before sample lo
	var outside uint64
	n := hi - lo
	const g2, g3, g4 = golden * 2 % (1 << 64), golden * 3 % (1 << 64), golden * 4 % (1 << 64)
	for range n / 4 {
		outside += outside1(s+golden) + outside1(s+g2) + outside1(s+g3) + outside1(s+g4)
		s += g4
	}
	for range n % 4 {
		s += golden
		outside += outside1(s)
	}
	return n - outside
}

// outside1 returns 1 if the point of SplitMix64 state s is outside, else 0.
func outside1(s uint64) uint64 {
	z := (s ^ s>>30) * mul1
	z = (z ^ z>>27) * mul2
	z ^= z >> 31
	x, y := z>>32, uint64(uint32(z))
	_, carry := bits.Add64(x*x, y*y, 0)
	return carry
}

// Run implements tasks.Runner: it draws the samples of the chunk's range,
// split into pieces drawn in parallel.
func (Runner) Run(ctx context.Context, c tasks.Chunk) ([]byte, error) {
	p, err := decodeParams(c.Params)
	if err != nil {
		return nil, err
	}
	if c.Range.Lo < 0 || c.Range.Hi < c.Range.Lo || c.Range.Hi > p.Samples {
		return nil, fmt.Errorf("%w: range %v outside [0,%d)", ErrBadParams, c.Range, p.Samples)
	}
	in, err := draw(ctx, uint64(p.Seed), uint64(c.Range.Lo), uint64(c.Range.Hi))
	if err != nil {
		return nil, fmt.Errorf("pi: chunk %d: %w", c.Index, err)
	}
	return encodePartial(uint64(c.Range.Len()), in), nil
}

// draw counts the inside samples of [lo, hi) using every core.
func draw(ctx context.Context, seed, lo, hi uint64) (uint64, error) {
	procs := runtime.GOMAXPROCS(0)
	n := uint64(4 * procs)
	span := max((hi-lo+n-1)/n, block)
	counts := make([]uint64, (hi-lo+span-1)/span)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(procs)
	for k := range counts {
		g.Go(func() error {
			a := lo + uint64(k)*span
			b := min(a+span, hi)
			for ; a < b; a += block {
				if err := gctx.Err(); err != nil {
					return err
				}
				counts[k] += countFast(seed, a, min(a+block, b))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var in uint64
	for _, c := range counts {
		in += c
	}
	return in, nil
}

// Partial encoding: a version byte, then the number of samples of the
// chunk and how many were inside, each a little-endian uint64.
const (
	partialVersion = 1
	partialSize    = 1 + 2*8
)

func encodePartial(samples, inside uint64) []byte {
	b := make([]byte, 1, partialSize)
	b[0] = partialVersion
	b = binary.LittleEndian.AppendUint64(b, samples)
	return binary.LittleEndian.AppendUint64(b, inside)
}

// decodePartial decodes the partial of a chunk of n samples.
func decodePartial(data []byte, n uint64) (uint64, error) {
	if len(data) != partialSize || data[0] != partialVersion {
		return 0, fmt.Errorf("%w: %d bytes", ErrBadPartial, len(data))
	}
	samples := binary.LittleEndian.Uint64(data[1:])
	inside := binary.LittleEndian.Uint64(data[9:])
	if samples != n || inside > samples {
		return 0, fmt.Errorf("%w: %d of %d samples inside, chunk has %d", ErrBadPartial, inside, samples, n)
	}
	return inside, nil
}

// result is the job's result, in contract order.
type result struct {
	Samples  int64   `json:"samples"`
	Inside   uint64  `json:"inside"`
	Estimate float64 `json:"estimate"`
	Stderr   float64 `json:"stderr"`
}

// Reduce implements tasks.Runner: it adds the inside counts of the chunks.
func (Runner) Reduce(ctx context.Context, raw json.RawMessage, _ tasks.Input, partials [][]byte) (*tasks.Output, error) {
	p, err := decodeParams(raw)
	if err != nil {
		return nil, err
	}
	if len(partials) == 0 {
		return nil, fmt.Errorf("%w: no partials", ErrBadPartial)
	}
	var inside uint64
	for k, data := range partials {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("pi: reduce: %w", err)
		}
		in, err := decodePartial(data, uint64(tasks.ChunkRange(p.Samples, len(partials), k).Len()))
		if err != nil {
			return nil, fmt.Errorf("chunk %d: %w", k, err)
		}
		inside += in
	}
	est, se := estimate(inside, uint64(p.Samples))
	out, err := json.Marshal(result{Samples: p.Samples, Inside: inside, Estimate: est, Stderr: se})
	if err != nil {
		return nil, fmt.Errorf("pi: encode result: %w", err)
	}
	return &tasks.Output{Result: out}, nil
}

// estimate returns 4·inside/samples and 4·√(p(1−p)/samples) with
// p = inside/samples, each operation rounded to float64 in this order:
// n = float64(samples), k = float64(inside) (both exact, below 2^53),
// estimate = (4·k)/n, p = k/n, q = 1−p, v = (p·q)/n, stderr = 4·√v.
func estimate(inside, samples uint64) (est, stderr float64) {
	n, k := float64(samples), float64(inside)
	est = float64(4*k) / n
	p := k / n
	q := float64(1 - p)
	v := float64(p*q) / n
	return est, float64(4 * math.Sqrt(v))
}

package stats

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

	"github.com/crunchjobs/crunch/internal/exact"
	"github.com/crunchjobs/crunch/tasks"
)

// blockValues is how many values a goroutine reads and sums between two
// looks at its context: 256 KiB, well under a millisecond of work.
const blockValues = 1 << 15

var (
	// ErrBadInput is returned for a chunk whose input is missing, too
	// short, or holds a value outside the contract's bounds.
	ErrBadInput = errors.New("stats: bad input")
	// ErrBadPartial is returned by Reduce for a partial that is not the
	// encoding of one written by Run, or partials that do not add up.
	ErrBadPartial = errors.New("stats: bad partial")
)

// Runner is the worker half of the stats kernel.
type Runner struct{}

var _ tasks.Runner = Runner{}

// Name implements tasks.Runner.
func (Runner) Name() string { return "stats" }

// partial is the summary of some values.
type partial struct {
	count    uint64
	min, max float64 // in the total order; meaningless when count is 0
	s1, s2   exact.Sum
}

// merge adds o's values to p's.
func (p *partial) merge(o *partial) {
	if o.count == 0 {
		return
	}
	if p.count == 0 || less(o.min, p.min) {
		p.min = o.min
	}
	if p.count == 0 || less(p.max, o.max) {
		p.max = o.max
	}
	p.count += o.count
	p.s1.Merge(&o.s1)
	p.s2.Merge(&o.s2)
}

// key maps a float64 to an int64 with the same IEEE total order
// (−0 < +0); finite values only.
func key(x float64) int64 {
	k := int64(math.Float64bits(x))
	return k ^ (k>>63)&math.MaxInt64
}

func less(a, b float64) bool { return key(a) < key(b) }

// Run implements tasks.Runner: it summarises the values of the chunk's
// range, split over the cores.
func (Runner) Run(ctx context.Context, c tasks.Chunk) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	if c.Input == nil {
		return nil, fmt.Errorf("%w: no input", ErrBadInput)
	}
	n := c.Input.Size() / valueSize
	if c.Range.Lo < 0 || c.Range.Lo > c.Range.Hi || c.Range.Hi > n {
		return nil, fmt.Errorf("%w: range %v outside the %d values", ErrBadInput, c.Range, n)
	}
	workers := int(min(int64(runtime.GOMAXPROCS(0)), (c.Range.Len()+blockValues-1)/blockValues))
	parts := make([]partial, max(workers, 1))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(len(parts))
	for w := range workers {
		sub := tasks.ChunkRange(c.Range.Len(), workers, w)
		g.Go(func() error {
			return summarise(gctx, c.Input, c.Range.Lo+sub.Lo, c.Range.Lo+sub.Hi, &parts[w])
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i := 1; i < len(parts); i++ {
		parts[0].merge(&parts[i])
	}
	return parts[0].marshal()
}

// summarise reads the values [lo, hi) of in block by block into p.
func summarise(ctx context.Context, in tasks.Input, lo, hi int64, p *partial) error {
	buf := make([]byte, valueSize*min(blockValues, hi-lo))
	kmin, kmax := int64(math.MaxInt64), int64(math.MinInt64)
	for at := lo; at < hi; at += blockValues {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		b := buf[:valueSize*min(blockValues, hi-at)]
		// ReadAt may report io.EOF along with a full read at the end.
		if n, err := in.ReadAt(b, valueSize*at); n < len(b) {
			return fmt.Errorf("%w: read values at %d: %w", ErrBadInput, at, err)
		}
		for i := 0; i < len(b); i += valueSize {
			x := math.Float64frombits(binary.LittleEndian.Uint64(b[i:]))
			if !(math.Abs(x) <= MaxAbs) { // also NaN
				return fmt.Errorf("%w: value %d is %v", ErrBadInput, at+int64(i/valueSize), x)
			}
			p.s1.Add(x)
			p.s2.AddSquare(x)
			k := key(x)
			kmin, kmax = min(kmin, k), max(kmax, k)
		}
	}
	p.count = uint64(hi - lo)
	if p.count > 0 {
		p.min, p.max = fromKey(kmin), fromKey(kmax)
	}
	return nil
}

// fromKey inverts key.
func fromKey(k int64) float64 {
	return math.Float64frombits(uint64(k ^ (k>>63)&math.MaxInt64))
}

func (p *partial) marshal() ([]byte, error) {
	s1, err := p.s1.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("stats: encode sum: %w", err)
	}
	s2, err := p.s2.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("stats: encode sum of squares: %w", err)
	}
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+16+len(s1)+len(s2))
	b = append(b, 1)
	b = binary.AppendUvarint(b, p.count)
	if p.count > 0 {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.min))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.max))
	}
	b = binary.AppendUvarint(b, uint64(len(s1)))
	b = append(b, s1...)
	return append(b, s2...), nil
}

// unmarshalPartial decodes a partial strictly.
func unmarshalPartial(b []byte) (*partial, error) {
	bad := func(what string) (*partial, error) { return nil, fmt.Errorf("%w: %s", ErrBadPartial, what) }
	if len(b) == 0 || b[0] != 1 {
		return bad("unknown version")
	}
	b = b[1:]
	var p partial
	count, k := binary.Uvarint(b)
	if k <= 0 || count > math.MaxInt64 {
		return bad("bad count")
	}
	p.count, b = count, b[k:]
	if count > 0 {
		if len(b) < 16 {
			return bad("truncated min and max")
		}
		p.min = math.Float64frombits(binary.LittleEndian.Uint64(b))
		p.max = math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))
		if !(math.Abs(p.min) <= MaxAbs) || !(math.Abs(p.max) <= MaxAbs) || less(p.max, p.min) {
			return bad("bad min or max")
		}
		b = b[16:]
	}
	n1, k := binary.Uvarint(b)
	if k <= 0 || n1 > uint64(len(b)-k) {
		return bad("bad sum length")
	}
	b = b[k:]
	if p.s1.UnmarshalBinary(b[:n1]) != nil || p.s2.UnmarshalBinary(b[n1:]) != nil {
		return bad("bad sums")
	}
	if count == 0 && (p.s1.Rat().Sign() != 0 || p.s2.Rat().Sign() != 0) {
		return bad("sums of no values")
	}
	return &p, nil
}

// result is the job's result, in contract order.
type result struct {
	Count    uint64  `json:"count"`
	Sum      float64 `json:"sum"`
	Mean     float64 `json:"mean"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Variance float64 `json:"variance"`
	Stddev   float64 `json:"stddev"`
}

// Reduce implements tasks.Runner.
func (Runner) Reduce(ctx context.Context, _ json.RawMessage, input tasks.Input, partials [][]byte) (*tasks.Output, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	var all partial
	for i, b := range partials {
		p, err := unmarshalPartial(b)
		if err != nil {
			return nil, fmt.Errorf("partial %d: %w", i, err)
		}
		if all.count+p.count < all.count {
			return nil, fmt.Errorf("%w: counts overflow", ErrBadPartial)
		}
		all.merge(p)
	}
	if input != nil && all.count != uint64(input.Size()/valueSize) {
		return nil, fmt.Errorf("%w: partials count %d values, the input has %d", ErrBadPartial, all.count, input.Size()/valueSize)
	}
	if all.count == 0 {
		return nil, fmt.Errorf("%w: no values", ErrBadPartial)
	}
	res, err := finish(&all)
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("stats: encode result: %w", err)
	}
	return &tasks.Output{Result: out}, nil
}

// finish rounds the exact sums into the result. It rejects sums that no
// values could have produced, which also keeps every result finite.
func finish(p *partial) (result, error) {
	s1, s2 := p.s1.Rat(), p.s2.Rat()
	n := new(big.Rat).SetInt(new(big.Int).SetUint64(p.count))
	lo := new(big.Rat).Mul(n, new(big.Rat).SetFloat64(p.min))
	hi := new(big.Rat).Mul(n, new(big.Rat).SetFloat64(p.max))
	if s1.Cmp(lo) < 0 || s1.Cmp(hi) > 0 {
		return result{}, fmt.Errorf("%w: sum outside count·[min, max]", ErrBadPartial)
	}
	// variance = (n·S2 − S1²)/n², never negative for real values
	v := new(big.Rat).Mul(n, s2)
	v.Sub(v, new(big.Rat).Mul(s1, s1))
	if v.Sign() < 0 {
		return result{}, fmt.Errorf("%w: sum of squares too small for the sum", ErrBadPartial)
	}
	bound := new(big.Rat).SetFloat64(max(math.Abs(p.min), math.Abs(p.max)))
	if s2.Cmp(bound.Mul(n, bound.Mul(bound, bound))) > 0 {
		return result{}, fmt.Errorf("%w: sum of squares above count·max²", ErrBadPartial)
	}
	v.Quo(v, new(big.Rat).Mul(n, n))
	variance, _ := v.Float64()
	sum, _ := s1.Float64()
	mean, _ := new(big.Rat).Quo(s1, n).Float64()
	return result{
		Count:    p.count,
		Sum:      sum,
		Mean:     mean,
		Min:      p.min,
		Max:      p.max,
		Variance: variance,
		Stddev:   math.Sqrt(variance),
	}, nil
}

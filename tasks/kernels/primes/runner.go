package primes

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"runtime"

	"golang.org/x/sync/errgroup"

	"github.com/crunchjobs/crunch/tasks"
)

// Runner is the worker half of the primes kernel.
type Runner struct{}

var _ tasks.Runner = Runner{}

var (
	// ErrBadParams reports params that Prepare would not have produced.
	ErrBadParams = errors.New("primes: bad params")
	// ErrBadPartial reports a partial result that Run did not produce.
	ErrBadPartial = errors.New("primes: bad partial")
)

// Name implements tasks.Runner.
func (Runner) Name() string { return "primes" }

// decodeParams reads the params that Prepare echoed.
func decodeParams(raw json.RawMessage) (params, error) {
	var p params
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("%w: %w", ErrBadParams, err)
	}
	if p.From < 0 || p.To <= p.From || p.To > MaxTo || p.To-p.From > MaxSpan {
		return p, fmt.Errorf("%w: from %d, to %d", ErrBadParams, p.From, p.To)
	}
	return p, nil
}

// Run implements tasks.Runner: it sieves the integers
// [from+Range.Lo, from+Range.Hi), split into pieces sieved in parallel.
func (Runner) Run(ctx context.Context, c tasks.Chunk) ([]byte, error) {
	p, err := decodeParams(c.Params)
	if err != nil {
		return nil, err
	}
	if c.Range.Lo < 0 || c.Range.Hi < c.Range.Lo || c.Range.Hi > p.To-p.From {
		return nil, fmt.Errorf("%w: range %v outside [0,%d)", ErrBadParams, c.Range, p.To-p.From)
	}
	t, err := count(ctx, uint64(p.From+c.Range.Lo), uint64(p.From+c.Range.Hi))
	if err != nil {
		return nil, fmt.Errorf("primes: chunk %d: %w", c.Index, err)
	}
	return encodePartial(t), nil
}

// count counts and sums the primes in [a, b), using every core.
func count(ctx context.Context, a, b uint64) (tally, error) {
	var t tally
	if a >= b {
		return t, ctx.Err()
	}
	for _, p := range []uint64{2, 3, 5} { // the primes the wheel leaves out
		if a <= p && p < b {
			t.add(tally{count: 1, sumLo: p, first: p, last: p})
		}
	}
	// The numbers coprime to 30 in [a, b) have the bit indices [iLo, iHi).
	iLo, iHi := bitIndex(a), bitIndex(b)
	if iLo >= iHi {
		return t, ctx.Err()
	}
	base := sievingPrimes()
	procs := runtime.GOMAXPROCS(0)
	pieces := splitPieces(iLo, iHi, procs)
	results := make([]tally, len(pieces)-1)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(procs)
	for k := range results {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			r, err := sieveRange(gctx, pieces[k], pieces[k+1], base)
			results[k] = r
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return tally{}, err
	}
	if err := ctx.Err(); err != nil {
		return tally{}, err
	}
	for _, r := range results {
		t.add(r)
	}
	return t, nil
}

// splitPieces splits the bit range [iLo, iHi) into about four pieces per
// core, each at most maxPieceBits long, cut at multiples of the piece span
// (a whole number of blocks, counted from global word 0). It returns the
// boundaries, iLo first and iHi last.
func splitPieces(iLo, iHi uint64, procs int) []uint64 {
	n := uint64(4 * procs)
	span := (iHi - iLo + n - 1) / n
	span = min(max((span+blockBits-1)/blockBits*blockBits, blockBits), maxPieceBits/blockBits*blockBits)
	cuts := []uint64{iLo}
	for c := (iLo/span + 1) * span; c < iHi; c += span {
		cuts = append(cuts, c)
	}
	return append(cuts, iHi)
}

// Partial encoding: a version byte, then count, sum (high and low 64 bits),
// first and last, each little-endian uint64. first = last = 0 when count
// is 0.
const (
	partialVersion = 1
	partialSize    = 1 + 5*8
)

func encodePartial(t tally) []byte {
	b := make([]byte, 1, partialSize)
	b[0] = partialVersion
	for _, v := range [5]uint64{t.count, t.sumHi, t.sumLo, t.first, t.last} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

// decodePartial decodes a partial and checks that it is consistent with
// the numbers [a, b) of its chunk.
func decodePartial(data []byte, a, b uint64) (tally, error) {
	if len(data) != partialSize || data[0] != partialVersion {
		return tally{}, fmt.Errorf("%w: %d bytes", ErrBadPartial, len(data))
	}
	u := func(k int) uint64 { return binary.LittleEndian.Uint64(data[1+8*k:]) }
	t := tally{count: u(0), sumHi: u(1), sumLo: u(2), first: u(3), last: u(4)}
	var ok bool
	switch {
	case t.count == 0:
		ok = t.sumHi == 0 && t.sumLo == 0 && t.first == 0 && t.last == 0
	case t.count == 1:
		ok = t.first == t.last && t.sumHi == 0 && t.sumLo == t.first
	default:
		// At most 2 and the odd numbers of [first, last].
		candidates := (t.last+1)/2 - t.first/2
		if t.first == 2 {
			candidates++
		}
		ok = t.first < t.last && t.count <= candidates
	}
	if !ok || t.count > 0 && (t.first < a || t.last >= b) {
		return tally{}, fmt.Errorf("%w: inconsistent (count %d, first %d, last %d, chunk [%d,%d))", ErrBadPartial, t.count, t.first, t.last, a, b)
	}
	return t, nil
}

// result is the job's result, in contract order.
type result struct {
	Count uint64  `json:"count"`
	Sum   string  `json:"sum"`
	First *uint64 `json:"first"`
	Last  *uint64 `json:"last"`
}

// Reduce implements tasks.Runner: it adds the partials in chunk order.
func (Runner) Reduce(ctx context.Context, raw json.RawMessage, _ tasks.Input, partials [][]byte) (*tasks.Output, error) {
	p, err := decodeParams(raw)
	if err != nil {
		return nil, err
	}
	if len(partials) == 0 {
		return nil, fmt.Errorf("%w: no partials", ErrBadPartial)
	}
	var t tally
	extent := p.To - p.From
	for k, data := range partials {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("primes: reduce: %w", err)
		}
		r := tasks.ChunkRange(extent, len(partials), k)
		pt, err := decodePartial(data, uint64(p.From+r.Lo), uint64(p.From+r.Hi))
		if err != nil {
			return nil, fmt.Errorf("chunk %d: %w", k, err)
		}
		t.add(pt)
	}
	res := result{Count: t.count, Sum: sum128(t.sumHi, t.sumLo)}
	if t.count > 0 {
		res.First, res.Last = &t.first, &t.last
	}
	out, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("primes: encode result: %w", err)
	}
	return &tasks.Output{Result: out}, nil
}

// sum128 formats the 128-bit integer hi·2^64 + lo in decimal.
func sum128(hi, lo uint64) string {
	s := new(big.Int).SetUint64(hi)
	s.Lsh(s, 64)
	s.Or(s, new(big.Int).SetUint64(lo))
	return s.String()
}

package wordcount

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/crunchjobs/crunch/tasks"
)

// minSplit is the least text worth a goroutine of its own.
const minSplit = 256 << 10

var (
	// ErrBadInput is returned for a chunk whose input is missing or
	// shorter than its range.
	ErrBadInput = errors.New("wordcount: bad input")
	// ErrBadPartial is returned by Reduce for a partial that is not the
	// encoding of one written by Run.
	ErrBadPartial = errors.New("wordcount: bad partial")
	// ErrBadParams is returned by Reduce for params Prepare did not write.
	ErrBadParams = errors.New("wordcount: bad params")
)

// Runner is the worker half of the wordcount kernel.
type Runner struct{}

var _ tasks.Runner = Runner{}

// Name implements tasks.Runner.
func (Runner) Name() string { return "wordcount" }

// Run implements tasks.Runner: it counts the words that start in the
// chunk's range, split over the cores by the same ownership rule, and
// returns every word with its count.
func (Runner) Run(ctx context.Context, c tasks.Chunk) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wordcount: %w", err)
	}
	var size int64
	if c.Input != nil {
		size = c.Input.Size()
	} else if c.Range.Len() != 0 {
		return nil, fmt.Errorf("%w: no input", ErrBadInput)
	}
	if c.Range.Lo < 0 || c.Range.Lo > c.Range.Hi || c.Range.Hi > size {
		return nil, fmt.Errorf("%w: range %v outside the %d bytes of text", ErrBadInput, c.Range, size)
	}
	parts := int(min(int64(runtime.GOMAXPROCS(0)), max(1, c.Range.Len()/minSplit)))
	counters := make([]*counter, parts)
	g, gctx := errgroup.WithContext(ctx)
	for i := range parts {
		sub := tasks.ChunkRange(c.Range.Len(), parts, i)
		counters[i] = newCounter()
		g.Go(func() error {
			return countRange(gctx, c.Input, size, c.Range.Lo+sub.Lo, c.Range.Lo+sub.Hi, counters[i])
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return encodePartial(counters), nil
}

type entry struct {
	word  string
	count uint64
}

// encodePartial writes the words of all counters, merged and sorted.
func encodePartial(counters []*counter) []byte {
	all := counters[0]
	for _, o := range counters[1:] {
		for w, i := range o.index {
			if j, ok := all.index[w]; ok {
				all.counts[j] += o.counts[i]
			} else {
				all.index[w] = len(all.counts)
				all.counts = append(all.counts, o.counts[i])
			}
		}
	}
	entries := make([]entry, 0, len(all.index))
	size := 1 + 10
	for w, i := range all.index {
		entries = append(entries, entry{w, all.counts[i]})
		size += len(w) + 4
	}
	slices.SortFunc(entries, func(a, b entry) int { return cmpString(a.word, b.word) })
	b := make([]byte, 0, size)
	b = append(b, partialVersion)
	b = appendUvarint(b, uint64(len(entries)))
	for _, e := range entries {
		b = appendUvarint(b, uint64(len(e.word)))
		b = append(b, e.word...)
		b = appendUvarint(b, e.count)
	}
	return b
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// wordCount is one line of the top list.
type wordCount struct {
	Word  string `json:"word"`
	Count uint64 `json:"count"`
}

// result is the job's result, in contract order.
type result struct {
	Total  uint64      `json:"total"`
	Unique uint64      `json:"unique"`
	Top    []wordCount `json:"top"`
}

// Reduce implements tasks.Runner: it merges the sorted partials and keeps
// the top words.
func (Runner) Reduce(ctx context.Context, raw json.RawMessage, _ tasks.Input, partials [][]byte) (*tasks.Output, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wordcount: %w", err)
	}
	var p params
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.Top < 1 || p.Top > MaxTop {
		return nil, fmt.Errorf("%w: %s", ErrBadParams, raw)
	}
	res, err := merge(ctx, partials, int(p.Top))
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("wordcount: encode result: %w", err)
	}
	return &tasks.Output{Result: out}, nil
}

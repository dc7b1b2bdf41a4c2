package wordcount

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"unicode"
	"unicode/utf8"
)

const partialVersion = 1

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// cursor walks the words of one partial in order, checking them.
type cursor struct {
	index int // of the partial
	b     []byte
	left  uint64 // words not yet read
	word  []byte
	count uint64
}

func newCursor(index int, b []byte) (*cursor, error) {
	if len(b) == 0 || b[0] != partialVersion {
		return nil, fmt.Errorf("%w: partial %d: unknown version", ErrBadPartial, index)
	}
	n, k := binary.Uvarint(b[1:])
	if k <= 0 || n > uint64(len(b)) { // every word takes at least 3 bytes
		return nil, fmt.Errorf("%w: partial %d: bad word count", ErrBadPartial, index)
	}
	return &cursor{index: index, b: b[1+k:], left: n}, nil
}

// next reads the next word; false at the end.
func (c *cursor) next() (bool, error) {
	bad := func(what string) (bool, error) {
		return false, fmt.Errorf("%w: partial %d: %s", ErrBadPartial, c.index, what)
	}
	if c.left == 0 {
		if len(c.b) != 0 {
			return bad("trailing bytes")
		}
		return false, nil
	}
	c.left--
	n, k := binary.Uvarint(c.b)
	if k <= 0 || n == 0 || n > uint64(len(c.b)-k) {
		return bad("bad word length")
	}
	word := c.b[k : k+int(n)]
	c.b = c.b[k+int(n):]
	count, k := binary.Uvarint(c.b)
	if k <= 0 || count == 0 {
		return bad("bad count")
	}
	c.b = c.b[k:]
	if c.word != nil && bytes.Compare(c.word, word) >= 0 {
		return bad("words out of order")
	}
	if !isLowerWord(word) {
		return bad("not a word")
	}
	c.word, c.count = word, count
	return true, nil
}

// isLowerWord reports whether w is valid UTF-8 of word runes that
// unicode.ToLower leaves as they are.
func isLowerWord(w []byte) bool {
	for len(w) > 0 {
		r, n := utf8.DecodeRune(w)
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsDigit(r)) || unicode.ToLower(r) != r {
			return false
		}
		w = w[n:]
	}
	return true
}

// cursors is a min-heap of cursors by current word.
type cursors []*cursor

func (h cursors) Len() int           { return len(h) }
func (h cursors) Less(i, j int) bool { return bytes.Compare(h[i].word, h[j].word) < 0 }
func (h cursors) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *cursors) Push(x any)        { *h = append(*h, x.(*cursor)) }
func (h *cursors) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

type ranked struct {
	word  []byte
	count uint64
}

// before reports whether a ranks before b: higher count, then lower word.
func before(a, b ranked) bool {
	if a.count != b.count {
		return a.count > b.count
	}
	return bytes.Compare(a.word, b.word) < 0
}

// topHeap keeps the k best words, the worst on top.
type topHeap []ranked

func (h topHeap) Len() int           { return len(h) }
func (h topHeap) Less(i, j int) bool { return before(h[j], h[i]) }
func (h topHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *topHeap) Push(x any)        { *h = append(*h, x.(ranked)) }
func (h *topHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}

// merge adds up the partials' counts word by word, in a k-way merge of the
// sorted partials, and keeps the top k.
func merge(ctx context.Context, partials [][]byte, k int) (*result, error) {
	h := make(cursors, 0, len(partials))
	for i, b := range partials {
		c, err := newCursor(i, b)
		if err != nil {
			return nil, err
		}
		ok, err := c.next()
		if err != nil {
			return nil, err
		}
		if ok {
			h = append(h, c)
		}
	}
	heap.Init(&h)
	res := &result{Top: []wordCount{}}
	top := make(topHeap, 0, k)
	for steps := 0; len(h) > 0; steps++ {
		if steps%(1<<16) == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("wordcount: %w", err)
			}
		}
		w := ranked{word: h[0].word}
		for len(h) > 0 && bytes.Equal(h[0].word, w.word) {
			c := h[0]
			var carry uint64
			if w.count, carry = bits.Add64(w.count, c.count, 0); carry != 0 {
				return nil, fmt.Errorf("%w: counts overflow", ErrBadPartial)
			}
			ok, err := c.next()
			switch {
			case err != nil:
				return nil, err
			case ok:
				heap.Fix(&h, 0)
			default:
				heap.Pop(&h)
			}
		}
		if res.Total > math.MaxUint64-w.count {
			return nil, fmt.Errorf("%w: counts overflow", ErrBadPartial)
		}
		res.Total += w.count
		res.Unique++
		switch {
		case len(top) < k:
			heap.Push(&top, w)
		case before(w, top[0]):
			top[0] = w
			heap.Fix(&top, 0)
		}
	}
	slices.SortFunc(top, func(a, b ranked) int {
		if before(a, b) {
			return -1
		}
		return 1
	})
	for _, r := range top {
		res.Top = append(res.Top, wordCount{Word: string(r.word), Count: r.count})
	}
	return res, nil
}

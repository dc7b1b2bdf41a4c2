package wordcount

import (
	"context"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/crunchjobs/crunch/tasks"
)

// blockSize is how much text a scanner reads at a time; it looks at its
// context before each read.
const blockSize = 64 << 10

// counter counts words; a word's count is at counts[index[word]], so a
// word seen before costs no allocation.
type counter struct {
	index  map[string]int
	counts []uint64
}

func newCounter() *counter { return &counter{index: map[string]int{}} }

func (c *counter) add(word []byte) {
	if i, ok := c.index[string(word)]; ok {
		c.counts[i]++
		return
	}
	c.index[string(word)] = len(c.counts)
	c.counts = append(c.counts, 1)
}

// reader serves the input from offset off on, a block at a time.
type reader struct {
	ctx   context.Context
	in    tasks.Input
	size  int64
	off   int64  // offset of buf[0]
	buf   []byte // the input bytes [off, off+len(buf))
	store []byte
}

func newReader(ctx context.Context, in tasks.Input, size, off int64) *reader {
	return &reader{ctx: ctx, in: in, size: size, off: off, store: make([]byte, min(blockSize, size-off)+utf8.UTFMax)}
}

// at returns the input from pos on: at least utf8.UTFMax bytes unless the
// input ends sooner, and nothing at the end. off ≤ pos ≤ off+len(buf).
func (r *reader) at(pos int64) ([]byte, error) {
	end := r.off + int64(len(r.buf))
	if pos+utf8.UTFMax <= end || end == r.size {
		return r.buf[pos-r.off:], nil
	}
	if err := r.ctx.Err(); err != nil {
		return nil, fmt.Errorf("wordcount: %w", err)
	}
	kept := copy(r.store, r.buf[pos-r.off:])
	want := int(min(int64(len(r.store)-kept), r.size-end))
	b := r.store[kept : kept+want]
	// ReadAt may report io.EOF along with a full read at the end.
	if n, err := r.in.ReadAt(b, end); n < len(b) {
		return nil, fmt.Errorf("%w: read text at %d: %w", ErrBadInput, end, err)
	}
	r.off, r.buf = pos, r.store[:kept+want]
	return r.buf, nil
}

// decode returns the rune at the start of b, its width, and whether it is
// a word rune, with a fast path for ASCII.
func decode(b []byte) (r rune, width int, word bool) {
	if c := b[0]; c < utf8.RuneSelf {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			return rune(c), 1, true
		case 'A' <= c && c <= 'Z':
			return rune(c), 1, true
		}
		return rune(c), 1, false
	}
	r, width = utf8.DecodeRune(b)
	return r, width, unicode.IsLetter(r) || unicode.IsDigit(r)
}

func lower(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	return unicode.ToLower(r)
}

func isContinuation(c byte) bool { return c&0xC0 == 0x80 }

// countRange adds to c the words whose first byte lies in [lo, hi) of the
// input of the given size (see the package documentation for the rule).
func countRange(ctx context.Context, in tasks.Input, size, lo, hi int64, c *counter) error {
	if lo >= hi {
		return nil
	}
	r := newReader(ctx, in, size, lo)
	// p: the first byte at or after lo that is not a continuation byte;
	// every such byte starts a rune of the whole text's decoding.
	p := lo
	for {
		b, err := r.at(p)
		if err != nil {
			return err
		}
		if len(b) == 0 || !isContinuation(b[0]) {
			break
		}
		if p++; p >= hi {
			return nil // no rune, hence no word, starts in [lo, hi)
		}
	}
	// The rune ending at p, decoded as in the whole text: when it is a
	// word rune, the word going on at p started before lo.
	inWord := false
	if p > 0 {
		back := make([]byte, min(p, utf8.UTFMax))
		if n, err := in.ReadAt(back, p-int64(len(back))); n < len(back) {
			return fmt.Errorf("%w: read text at %d: %w", ErrBadInput, p-int64(len(back)), err)
		}
		prev, _ := utf8.DecodeLastRune(back)
		inWord = unicode.IsLetter(prev) || unicode.IsDigit(prev)
	}
	owned := false // whether the current word is ours
	word := make([]byte, 0, 64)
	for pos := p; ; {
		if pos >= hi && !owned {
			return nil // any word from here on starts at or after hi
		}
		b, err := r.at(pos)
		if err != nil {
			return err
		}
		if len(b) == 0 {
			break
		}
		ch, width, isWord := decode(b)
		switch {
		case isWord && !inWord: // a word starts at pos < hi
			inWord, owned = true, true
			word = utf8.AppendRune(word[:0], lower(ch))
		case isWord && owned:
			word = utf8.AppendRune(word, lower(ch))
		case !isWord && inWord:
			if owned {
				c.add(word)
			}
			inWord, owned = false, false
		}
		pos += int64(width)
	}
	if owned {
		c.add(word)
	}
	return nil
}

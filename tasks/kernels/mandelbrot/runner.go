package mandelbrot

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/crunchjobs/crunch/tasks"
)

// pieceIter bounds the worst-case iterations of one piece of work inside a
// chunk (about 10 ms of one core), so that cancellation is prompt and even
// a single row spreads over every core.
const pieceIter = 10_000_000

// partialMagic starts every partial; headerLen is the length of its header.
const (
	partialMagic = "MDB2"
	headerLen    = 24
)

// Segment kinds of a partial: raw palette indices, or one deflated block.
const (
	segRaw  = 'R'
	segZlib = 'Z'
)

// ErrCorruptPartial is returned by Reduce for a partial it cannot decode or
// that does not fit the job.
var ErrCorruptPartial = errors.New("mandelbrot: corrupt partial")

// Runner is the worker half of the mandelbrot kernel.
type Runner struct{}

var _ tasks.Runner = Runner{}

// Name implements [tasks.Runner].
func (Runner) Name() string { return "mandelbrot" }

// result is the job's result, fields in contract order.
type result struct {
	Width   int64 `json:"width"`
	Height  int64 `json:"height"`
	MaxIter int64 `json:"max_iter"`
	Inside  int64 `json:"inside"`
}

// Run implements [tasks.Runner]: it renders rows [lo, hi) into palette
// indices and deflates the PNG row blocks that lie wholly inside them.
func (Runner) Run(ctx context.Context, ch tasks.Chunk) ([]byte, error) {
	c, err := parse(ch.Params)
	if err != nil {
		return nil, fmt.Errorf("mandelbrot: params: %w", err)
	}
	lo, hi := ch.Range.Lo, ch.Range.Hi
	if lo < 0 || hi < lo || hi > c.Height {
		return nil, fmt.Errorf("mandelbrot: range %v outside [0,%d)", ch.Range, c.Height)
	}
	pix := make([]byte, (hi-lo)*c.Width)
	inside, err := render(ctx, &c, lo, hi, pix)
	if err != nil {
		return nil, err
	}
	out := make([]byte, headerLen, headerLen+len(pix)/4)
	copy(out, partialMagic)
	binary.LittleEndian.PutUint32(out[4:], uint32(lo))
	binary.LittleEndian.PutUint32(out[8:], uint32(hi))
	binary.LittleEndian.PutUint32(out[12:], uint32(c.Width))
	binary.LittleEndian.PutUint64(out[16:], uint64(inside))

	// The blocks wholly inside [lo, hi) are [k0, k1); the rows before and
	// after them go raw.
	r := blockRows(c.Width)
	nBlocks := (c.Height + r - 1) / r
	k0 := (lo + r - 1) / r
	k1 := hi / r
	if hi == c.Height {
		k1 = nBlocks
	}
	if k1 <= k0 {
		return appendRaw(out, pix, c.Width), nil
	}
	rowsOf := func(k int64) (int64, int64) { return k * r, min((k+1)*r, c.Height) }
	first, _ := rowsOf(k0)
	_, end := rowsOf(k1 - 1)
	out = appendRaw(out, pix[:(first-lo)*c.Width], c.Width)

	zs := make([][]byte, k1-k0)
	adlers := make([]uint32, k1-k0)
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range min(int64(runtime.GOMAXPROCS(0)), k1-k0) {
		g.Go(func() error {
			for {
				i := next.Add(1) - 1
				if i >= k1-k0 {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return fmt.Errorf("mandelbrot: %w", err)
				}
				a, b := rowsOf(k0 + i)
				z, adler, err := compressBlock(nil, pix[(a-lo)*c.Width:(b-lo)*c.Width], c.Width, k0+i == nBlocks-1)
				if err != nil {
					return err
				}
				zs[i], adlers[i] = z, adler
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, z := range zs {
		a, b := rowsOf(k0 + int64(i))
		block := pix[(a-lo)*c.Width : (b-lo)*c.Width]
		out = append(out, segZlib)
		out = binary.LittleEndian.AppendUint32(out, uint32(b-a))
		out = binary.LittleEndian.AppendUint64(out, uint64(bytes.Count(block, []byte{0})))
		out = binary.LittleEndian.AppendUint32(out, adlers[i])
		out = binary.LittleEndian.AppendUint32(out, uint32(len(z)))
		out = append(out, z...)
	}
	return appendRaw(out, pix[(end-lo)*c.Width:], c.Width), nil
}

// appendRaw appends the rows of pix as a raw segment, if there are any.
func appendRaw(out, pix []byte, width int64) []byte {
	if len(pix) == 0 {
		return out
	}
	out = append(out, segRaw)
	out = binary.LittleEndian.AppendUint32(out, uint32(int64(len(pix))/width))
	out = binary.LittleEndian.AppendUint64(out, uint64(bytes.Count(pix, []byte{0})))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(pix)))
	return append(out, pix...)
}

// render writes the palette indices of rows [lo, hi) into pix and returns
// the number of inside pixels. The rows' pixels, taken in order, are cut
// into pieces of at most pieceIter worst-case iterations (and maxPiece
// pixels); all cores take pieces in turn and check the context before each.
func render(ctx context.Context, c *config, lo, hi int64, pix []byte) (int64, error) {
	maxIter := int(c.MaxIter)
	table := indexTable(maxIter)
	total := (hi - lo) * c.Width
	pieceLen := max(1, min(maxPiece, pieceIter/c.MaxIter))
	pieces := (total + pieceLen - 1) / pieceLen

	var next, inside atomic.Int64
	workers := int(min(int64(runtime.GOMAXPROCS(0)), max(pieces, 1)))
	g, ctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			var count int64
			defer func() { inside.Add(count) }()
			cxBuf := make([]float64, pieceLen)
			for {
				i := next.Add(1) - 1
				if i >= pieces {
					return nil
				}
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("mandelbrot: %w", err)
				}
				// Pixels [p0, p1) of the chunk, row by row.
				p0, p1 := i*pieceLen, min((i+1)*pieceLen, total)
				for p := p0; p < p1; {
					row, x0 := p/c.Width, p%c.Width
					x1 := min(c.Width, x0+p1-p)
					cxs := cxBuf[:x1-x0]
					for k := range cxs {
						cxs[k] = c.pointX(x0 + int64(k))
					}
					count += span(cxs, c.pointY(lo+row), maxIter, table, pix[p:p+x1-x0])
					p += x1 - x0
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return inside.Load(), nil
}

// Reduce implements [tasks.Runner]: it checks that the partials tile the
// image and writes the PNG from their blocks, deflating only the blocks
// that chunk boundaries split.
func (Runner) Reduce(ctx context.Context, params json.RawMessage, _ tasks.Input, partials [][]byte) (*tasks.Output, error) {
	c, err := parse(params)
	if err != nil {
		return nil, fmt.Errorf("mandelbrot: params: %w", err)
	}
	r := blockRows(c.Width)
	nBlocks := (c.Height + r - 1) / r
	size := 0
	for _, p := range partials {
		size += len(p)
	}
	w := newPNGWriter(c.Width, c.Height, size+int(nBlocks)*16+1024)
	var rows, inside int64
	var pend []byte // raw rows from row w.blocks·r on
	for i, p := range partials {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("mandelbrot: %w", err)
		}
		segs, n, err := decodePartial(p, &c, rows)
		if err != nil {
			return nil, fmt.Errorf("partial %d: %w", i, err)
		}
		for _, s := range segs {
			k := w.blocks
			a, b := k*r, min((k+1)*r, c.Height)
			if s.kind == segZlib {
				if len(pend) != 0 || rows != a || s.rows != b-a {
					return nil, fmt.Errorf("%w: partial %d: deflated rows [%d,%d) are not block %d", ErrCorruptPartial, i, rows, rows+s.rows, k)
				}
				w.block(s.data, s.adler, (b-a)*(c.Width+1), k == nBlocks-1)
				rows += s.rows
				continue
			}
			pend = append(pend, s.data...)
			rows += s.rows
			for k := w.blocks; k < nBlocks; k = w.blocks {
				a, b := k*r, min((k+1)*r, c.Height)
				if int64(len(pend)) < (b-a)*c.Width {
					break
				}
				z, adler, err := compressBlock(nil, pend[:(b-a)*c.Width], c.Width, k == nBlocks-1)
				if err != nil {
					return nil, err
				}
				w.block(z, adler, (b-a)*(c.Width+1), k == nBlocks-1)
				pend = pend[(b-a)*c.Width:]
			}
		}
		inside += n
	}
	if rows != c.Height || w.blocks != nBlocks {
		return nil, fmt.Errorf("%w: partials cover rows [0,%d), want [0,%d)", ErrCorruptPartial, rows, c.Height)
	}
	res, err := json.Marshal(result{Width: c.Width, Height: c.Height, MaxIter: c.MaxIter, Inside: inside})
	if err != nil {
		return nil, err
	}
	return &tasks.Output{Result: res, Artifact: w.finish()}, nil
}

// segment is one segment of a partial.
type segment struct {
	kind  byte
	rows  int64
	adler uint32 // of the filtered data, for segZlib
	data  []byte // palette indices (segRaw) or deflated bytes (segZlib)
}

// decodePartial checks a partial that must start at row lo and returns its
// segments and inside count.
func decodePartial(p []byte, c *config, lo int64) ([]segment, int64, error) {
	if len(p) < headerLen || string(p[:4]) != partialMagic {
		return nil, 0, fmt.Errorf("%w: bad header", ErrCorruptPartial)
	}
	plo := int64(binary.LittleEndian.Uint32(p[4:]))
	phi := int64(binary.LittleEndian.Uint32(p[8:]))
	width := int64(binary.LittleEndian.Uint32(p[12:]))
	inside := binary.LittleEndian.Uint64(p[16:])
	switch {
	case plo != lo:
		return nil, 0, fmt.Errorf("%w: starts at row %d, want %d", ErrCorruptPartial, plo, lo)
	case phi < plo || phi > c.Height:
		return nil, 0, fmt.Errorf("%w: rows [%d,%d) outside [0,%d)", ErrCorruptPartial, plo, phi, c.Height)
	case width != c.Width:
		return nil, 0, fmt.Errorf("%w: width %d, want %d", ErrCorruptPartial, width, c.Width)
	}
	var segs []segment
	var rows int64
	var segInside uint64
	rest := p[headerLen:]
	for len(rest) > 0 {
		s := segment{kind: rest[0]}
		head := 17
		if s.kind == segZlib {
			head = 21
		} else if s.kind != segRaw {
			return nil, 0, fmt.Errorf("%w: segment kind %q", ErrCorruptPartial, s.kind)
		}
		if len(rest) < head {
			return nil, 0, fmt.Errorf("%w: truncated segment", ErrCorruptPartial)
		}
		s.rows = int64(binary.LittleEndian.Uint32(rest[1:]))
		n := binary.LittleEndian.Uint64(rest[5:])
		if s.kind == segZlib {
			s.adler = binary.LittleEndian.Uint32(rest[13:])
		}
		size := int64(binary.LittleEndian.Uint32(rest[head-4:]))
		rest = rest[head:]
		if size > int64(len(rest)) || s.rows == 0 || s.rows > phi-plo-rows || n > uint64(s.rows*width) {
			return nil, 0, fmt.Errorf("%w: bad segment (%d rows, %d bytes)", ErrCorruptPartial, s.rows, size)
		}
		s.data, rest = rest[:size], rest[size:]
		if s.kind == segRaw {
			if size != s.rows*width {
				return nil, 0, fmt.Errorf("%w: %d pixel bytes for %d rows", ErrCorruptPartial, size, s.rows)
			}
			if zeros := uint64(bytes.Count(s.data, []byte{0})); zeros != n {
				return nil, 0, fmt.Errorf("%w: inside count %d, but %d black pixels", ErrCorruptPartial, n, zeros)
			}
		}
		rows += s.rows
		segInside += n
		segs = append(segs, s)
	}
	if rows != phi-plo {
		return nil, 0, fmt.Errorf("%w: segments cover %d rows of [%d,%d)", ErrCorruptPartial, rows, plo, phi)
	}
	if segInside != inside {
		return nil, 0, fmt.Errorf("%w: inside count %d, but segments count %d", ErrCorruptPartial, inside, segInside)
	}
	return segs, int64(inside), nil
}

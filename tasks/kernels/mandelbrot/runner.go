package mandelbrot

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
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
	partialMagic = "MDB1"
	headerLen    = 24
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
// indices.
func (Runner) Run(ctx context.Context, ch tasks.Chunk) ([]byte, error) {
	c, err := parse(ch.Params)
	if err != nil {
		return nil, fmt.Errorf("mandelbrot: params: %w", err)
	}
	lo, hi := ch.Range.Lo, ch.Range.Hi
	if lo < 0 || hi < lo || hi > c.Height {
		return nil, fmt.Errorf("mandelbrot: range %v outside [0,%d)", ch.Range, c.Height)
	}
	out := make([]byte, headerLen+(hi-lo)*c.Width)
	copy(out, partialMagic)
	binary.LittleEndian.PutUint32(out[4:], uint32(lo))
	binary.LittleEndian.PutUint32(out[8:], uint32(hi))
	binary.LittleEndian.PutUint32(out[12:], uint32(c.Width))
	inside, err := render(ctx, &c, lo, hi, out[headerLen:])
	if err != nil {
		return nil, err
	}
	binary.LittleEndian.PutUint64(out[16:], uint64(inside))
	return out, nil
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
// image, assembles it and encodes the PNG.
func (Runner) Reduce(ctx context.Context, params json.RawMessage, _ tasks.Input, partials [][]byte) (*tasks.Output, error) {
	c, err := parse(params)
	if err != nil {
		return nil, fmt.Errorf("mandelbrot: params: %w", err)
	}
	img := &image.Paletted{
		Pix:     make([]byte, 0, c.Width*c.Height),
		Stride:  int(c.Width),
		Rect:    image.Rect(0, 0, int(c.Width), int(c.Height)),
		Palette: palette,
	}
	var rows, inside int64
	for i, p := range partials {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("mandelbrot: %w", err)
		}
		pix, n, err := decodePartial(p, &c, rows)
		if err != nil {
			return nil, fmt.Errorf("partial %d: %w", i, err)
		}
		img.Pix = append(img.Pix, pix...)
		rows += int64(len(pix)) / c.Width
		inside += n
	}
	if rows != c.Height {
		return nil, fmt.Errorf("%w: partials cover rows [0,%d), want [0,%d)", ErrCorruptPartial, rows, c.Height)
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("mandelbrot: encode png: %w", err)
	}
	res, err := json.Marshal(result{Width: c.Width, Height: c.Height, MaxIter: c.MaxIter, Inside: inside})
	if err != nil {
		return nil, err
	}
	return &tasks.Output{Result: res, Artifact: buf.Bytes()}, nil
}

// decodePartial checks a partial that must start at row lo and returns its
// pixels and inside count.
func decodePartial(p []byte, c *config, lo int64) ([]byte, int64, error) {
	if len(p) < headerLen || string(p[:4]) != partialMagic {
		return nil, 0, fmt.Errorf("%w: bad header", ErrCorruptPartial)
	}
	plo := int64(binary.LittleEndian.Uint32(p[4:]))
	phi := int64(binary.LittleEndian.Uint32(p[8:]))
	width := int64(binary.LittleEndian.Uint32(p[12:]))
	inside := binary.LittleEndian.Uint64(p[16:])
	pix := p[headerLen:]
	switch {
	case plo != lo:
		return nil, 0, fmt.Errorf("%w: starts at row %d, want %d", ErrCorruptPartial, plo, lo)
	case phi < plo || phi > c.Height:
		return nil, 0, fmt.Errorf("%w: rows [%d,%d) outside [0,%d)", ErrCorruptPartial, plo, phi, c.Height)
	case width != c.Width:
		return nil, 0, fmt.Errorf("%w: width %d, want %d", ErrCorruptPartial, width, c.Width)
	case int64(len(pix)) != (phi-plo)*width:
		return nil, 0, fmt.Errorf("%w: %d pixel bytes for rows [%d,%d)", ErrCorruptPartial, len(pix), plo, phi)
	}
	if zeros := uint64(bytes.Count(pix, []byte{0})); zeros != inside {
		return nil, 0, fmt.Errorf("%w: inside count %d, but %d black pixels", ErrCorruptPartial, inside, zeros)
	}
	return pix, int64(inside), nil
}

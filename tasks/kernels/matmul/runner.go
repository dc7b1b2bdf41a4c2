package matmul

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/crunchjobs/crunch/internal/exact"
	"github.com/crunchjobs/crunch/tasks"
)

// blockFlops bounds the work of one row block of a chunk (2^33
// operations: 256 rows of C for n = 4096), and so the memory its rows of A
// and C take; the context is checked far more often, inside gemm.
const blockFlops = 1 << 33

var (
	// ErrCorruptPartial is returned by Reduce for a partial it cannot
	// decode or that does not fit the job.
	ErrCorruptPartial = errors.New("matmul: corrupt partial")
	// ErrCorruptInput is returned for an explicit input that is not what
	// Prepare stores.
	ErrCorruptInput = errors.New("matmul: corrupt input")
)

// Runner is the worker half of the matmul kernel.
type Runner struct{}

var _ tasks.Runner = Runner{}

// Name implements [tasks.Runner].
func (Runner) Name() string { return "matmul" }

// job is a job as a Runner sees it: its dimensions and where A and B come
// from.
type job struct {
	dims
	random bool
	seed   int64
	input  tasks.Input // the explicit form's a and b
}

// keepC reports whether the result lists C.
func (j *job) keepC() bool { return j.rows*j.cols <= MaxCEntries }

// load reads the echoed params and, for the explicit form, the input's
// header.
func load(params json.RawMessage, input tasks.Input) (*job, error) {
	p := tasks.NewParams(params)
	if p.Has("n") {
		n := p.Int("n", 1, 1, MaxN)
		seed := p.Int("seed", 0, 0, MaxSeed)
		if err := p.Err(); err != nil {
			return nil, fmt.Errorf("matmul: params: %w", err)
		}
		return &job{dims: dims{rows: int(n), inner: int(n), cols: int(n)}, random: true, seed: seed}, nil
	}
	if err := p.Err(); err != nil {
		return nil, fmt.Errorf("matmul: params: %w", err)
	}
	if input == nil {
		return nil, fmt.Errorf("%w: explicit matrices without input", ErrCorruptInput)
	}
	var h [inputHeaderLen]byte
	if _, err := input.ReadAt(h[:], 0); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrCorruptInput, err)
	}
	d := dims{
		rows:  int(binary.LittleEndian.Uint32(h[4:])),
		inner: int(binary.LittleEndian.Uint32(h[8:])),
		cols:  int(binary.LittleEndian.Uint32(h[12:])),
	}
	switch {
	case string(h[:4]) != inputMagic:
		return nil, fmt.Errorf("%w: bad magic", ErrCorruptInput)
	case d.rows < 1 || d.rows > MaxDim || d.inner < 1 || d.inner > MaxDim || d.cols < 1 || d.cols > MaxDim:
		return nil, fmt.Errorf("%w: dimensions %d×%d·%d×%d", ErrCorruptInput, d.rows, d.inner, d.inner, d.cols)
	case input.Size() != int64(inputHeaderLen+8*(d.rows*d.inner+d.inner*d.cols)):
		return nil, fmt.Errorf("%w: %d bytes for %d×%d·%d×%d", ErrCorruptInput, input.Size(), d.rows, d.inner, d.inner, d.cols)
	}
	return &job{dims: d, input: input}, nil
}

// readEntries reads len(dst) entries starting at entry index off of the
// explicit input (A's entries first, then B's) and checks each one.
func (j *job) readEntries(off int, dst []float64) error {
	buf := make([]byte, 8*len(dst))
	// io.ReaderAt may report io.EOF with a full read at the end of the input.
	if n, err := j.input.ReadAt(buf, int64(inputHeaderLen+8*off)); n < len(buf) || err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %w", ErrCorruptInput, err)
	}
	for i := range dst {
		x := math.Float64frombits(binary.LittleEndian.Uint64(buf[8*i:]))
		if !(math.Abs(x) <= MaxAbs) {
			return fmt.Errorf("%w: entry %v", ErrCorruptInput, x)
		}
		dst[i] = x
	}
	return nil
}

// rowsA fills dst with rows [lo, hi) of A, row-major.
func (j *job) rowsA(lo, hi int, dst []float64) error {
	if !j.random {
		return j.readEntries(lo*j.inner, dst)
	}
	for i := lo; i < hi; i++ {
		randomRow(j.seed, matA, i, dst[(i-lo)*j.inner:(i-lo+1)*j.inner])
	}
	return nil
}

// blockPool recycles the row blocks of A and C (up to 16 MiB each) from
// one Run to the next: touching freshly mapped memory costs a page fault
// per page.
var blockPool sync.Pool

// getBlock returns a buffer of n entries from blockPool, or a new one;
// its contents are arbitrary.
func getBlock(n int) []float64 {
	if p, ok := blockPool.Get().(*[]float64); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]float64, n)
}

// matrixB returns all of B packed for path p, generating (or reading) its
// rows on every core straight into the packed layout, in buf when it is
// large enough.
func (j *job) matrixB(ctx context.Context, p path, buf []float64) (packedB, error) {
	b := newPackedB(buf, j.inner, j.cols, p.nr) // every entry is overwritten below
	if !j.random {
		row := make([]float64, j.cols)
		for k := range j.inner {
			if err := j.readEntries(j.rows*j.inner+k*j.cols, row); err != nil {
				return b, err
			}
			b.setRow(k, row)
		}
		return b, nil
	}
	procs := runtime.GOMAXPROCS(0)
	pieces := min(j.inner, 8*procs)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(procs)
	for piece := range pieces {
		lo, hi := piece*j.inner/pieces, (piece+1)*j.inner/pieces
		g.Go(func() error {
			row := make([]float64, j.cols)
			for k := lo; k < hi; k++ {
				if err := ctx.Err(); err != nil {
					return fmt.Errorf("matmul: %w", err)
				}
				randomRow(j.seed, matB, k, row)
				b.setRow(k, row)
			}
			return nil
		})
	}
	return b, g.Wait()
}

// Run implements [tasks.Runner]: it computes rows [lo, hi) of C.
func (Runner) Run(ctx context.Context, ch tasks.Chunk) ([]byte, error) {
	return run(ctx, ch, blockFlops, bestPath)
}

// run is Run with row blocks of about budget operations, on path p.
func run(ctx context.Context, ch tasks.Chunk, budget int64, p path) ([]byte, error) {
	j, err := load(ch.Params, ch.Input)
	if err != nil {
		return nil, err
	}
	lo, hi := ch.Range.Lo, ch.Range.Hi
	if lo < 0 || hi < lo || hi > int64(j.rows) {
		return nil, fmt.Errorf("matmul: range %v outside [0,%d)", ch.Range, j.rows)
	}
	part := partial{lo: int(lo), hi: int(hi), cols: j.cols}
	if lo == hi {
		return part.marshal()
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("matmul: %w", err)
	}
	var b packedB
	if j.random {
		var done func()
		b, done, err = bCache.get(ctx, bKey{seed: j.seed, n: j.inner, nr: p.nr}, func(ctx context.Context, buf []float64) (packedB, error) {
			return j.matrixB(ctx, p, buf)
		})
		if err != nil {
			return nil, err
		}
		defer done()
	} else if b, err = j.matrixB(ctx, p, nil); err != nil {
		return nil, err
	}
	if j.keepC() {
		part.c = make([]float64, 0, (hi-lo)*int64(j.cols))
	}
	// The chunk's rows go through the product in blocks of about budget
	// operations (all its rows when the matrices are small), which bounds
	// the memory held for rows of A and C.
	rows := int(hi - lo)
	block := int(min(int64(rows), max(1, budget/(2*int64(j.inner)*int64(j.cols)))))
	a, c := getBlock(block*j.inner), getBlock(block*j.cols)
	defer blockPool.Put(&a)
	defer blockPool.Put(&c)
	procs := runtime.GOMAXPROCS(0)
	for r := int(lo); r < int(hi); r += block {
		m := min(block, int(hi)-r)
		if err := j.rowsA(r, r+m, a[:m*j.inner]); err != nil {
			return nil, err
		}
		if err := gemm(ctx, p, procs, a, m, &b, c); err != nil {
			return nil, err
		}
		addSums(&part.sum, &part.squares, c[:m*j.cols], procs)
		if part.c != nil {
			part.c = append(part.c, c[:m*j.cols]...)
		}
	}
	return part.marshal()
}

// result is the job's result, fields in contract order.
type result struct {
	Rows      int         `json:"rows"`
	Cols      int         `json:"cols"`
	Checksum  float64     `json:"checksum"`
	Frobenius float64     `json:"frobenius"`
	C         [][]float64 `json:"c,omitempty"`
}

// Reduce implements [tasks.Runner]: it merges the chunks' exact sums and
// rows of C.
func (Runner) Reduce(ctx context.Context, params json.RawMessage, input tasks.Input, partials [][]byte) (*tasks.Output, error) {
	j, err := load(params, input)
	if err != nil {
		return nil, err
	}
	var sum, squares exact.Sum
	res := result{Rows: j.rows, Cols: j.cols}
	if j.keepC() {
		res.C = make([][]float64, 0, j.rows)
	}
	row := 0
	for i, raw := range partials {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("matmul: %w", err)
		}
		p, err := unmarshalPartial(raw, j, row)
		if err != nil {
			return nil, fmt.Errorf("partial %d: %w", i, err)
		}
		sum.Merge(&p.sum)
		squares.Merge(&p.squares)
		if res.C != nil {
			for r := range p.hi - p.lo {
				res.C = append(res.C, p.c[r*j.cols:(r+1)*j.cols:(r+1)*j.cols])
			}
		}
		row = p.hi
	}
	if row != j.rows {
		return nil, fmt.Errorf("%w: partials cover rows [0,%d), want [0,%d)", ErrCorruptPartial, row, j.rows)
	}
	res.Checksum = sum.Float64()
	res.Frobenius = math.Sqrt(squares.Float64())
	out, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("matmul: result: %w", err)
	}
	return &tasks.Output{Result: out}, nil
}

// addSums adds the entries of c, and their squares, to sum and squares,
// on up to procs goroutines, each with its own exact sums merged at the
// end: exact sums do not depend on the grouping.
func addSums(sum, squares *exact.Sum, c []float64, procs int) {
	pieces := max(1, min(procs, len(c)/(1<<14)))
	sums := make([][2]exact.Sum, pieces)
	var wg sync.WaitGroup
	for p := range pieces {
		wg.Go(func() {
			s := &sums[p]
			for _, x := range c[p*len(c)/pieces : (p+1)*len(c)/pieces] {
				s[0].Add(x)
				s[1].AddSquare(x)
			}
		})
	}
	wg.Wait()
	for p := range sums {
		sum.Merge(&sums[p][0])
		squares.Merge(&sums[p][1])
	}
}

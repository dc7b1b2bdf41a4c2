package matmul

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/crunchjobs/crunch/internal/exact"
)

// partial is a chunk's share of the result: rows [lo, hi) of C.
type partial struct {
	lo, hi, cols int
	sum          exact.Sum // of C's entries
	squares      exact.Sum // of their squares
	c            []float64 // the rows of C, when the result lists C; else nil
}

const (
	partialMagic     = "MMP1"
	partialHeaderLen = 16
)

// marshal encodes a partial:
//
//	bytes 0–3    "MMP1"
//	bytes 4–15   lo, hi, cols: uint32 little-endian
//	then         the sum of entries and the sum of squares, each as a
//	             uint32 little-endian length and exact.Sum's encoding
//	then         (hi−lo)·cols entries of C, little-endian binary64, row by
//	             row, only when the result lists C
func (p *partial) marshal() ([]byte, error) {
	buf := make([]byte, partialHeaderLen, partialHeaderLen+1024+8*len(p.c))
	copy(buf, partialMagic)
	binary.LittleEndian.PutUint32(buf[4:], uint32(p.lo))
	binary.LittleEndian.PutUint32(buf[8:], uint32(p.hi))
	binary.LittleEndian.PutUint32(buf[12:], uint32(p.cols))
	for _, s := range []*exact.Sum{&p.sum, &p.squares} {
		enc, err := s.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("matmul: encode sum: %w", err)
		}
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(enc)))
		buf = append(buf, enc...)
	}
	for _, x := range p.c {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
	}
	return buf, nil
}

// unmarshalPartial decodes a partial of job j that must start at row lo.
func unmarshalPartial(b []byte, j *job, lo int) (*partial, error) {
	if len(b) < partialHeaderLen || string(b[:4]) != partialMagic {
		return nil, fmt.Errorf("%w: bad header", ErrCorruptPartial)
	}
	p := &partial{
		lo:   int(binary.LittleEndian.Uint32(b[4:])),
		hi:   int(binary.LittleEndian.Uint32(b[8:])),
		cols: int(binary.LittleEndian.Uint32(b[12:])),
	}
	switch {
	case p.lo != lo:
		return nil, fmt.Errorf("%w: starts at row %d, want %d", ErrCorruptPartial, p.lo, lo)
	case p.hi < p.lo || p.hi > j.rows:
		return nil, fmt.Errorf("%w: rows [%d,%d) outside [0,%d)", ErrCorruptPartial, p.lo, p.hi, j.rows)
	case p.cols != j.cols:
		return nil, fmt.Errorf("%w: %d columns, want %d", ErrCorruptPartial, p.cols, j.cols)
	}
	rest := b[partialHeaderLen:]
	for _, s := range []*exact.Sum{&p.sum, &p.squares} {
		if len(rest) < 4 {
			return nil, fmt.Errorf("%w: truncated sum", ErrCorruptPartial)
		}
		n := binary.LittleEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return nil, fmt.Errorf("%w: truncated sum", ErrCorruptPartial)
		}
		if err := s.UnmarshalBinary(rest[:n]); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCorruptPartial, err)
		}
		rest = rest[n:]
	}
	want := 0
	if j.keepC() {
		want = (p.hi - p.lo) * p.cols
	}
	if len(rest) != 8*want {
		return nil, fmt.Errorf("%w: %d bytes of entries, want %d", ErrCorruptPartial, len(rest), 8*want)
	}
	if want > 0 {
		p.c = make([]float64, want)
		for i := range p.c {
			x := math.Float64frombits(binary.LittleEndian.Uint64(rest[8*i:]))
			if math.IsInf(x, 0) || math.IsNaN(x) {
				return nil, fmt.Errorf("%w: entry %v", ErrCorruptPartial, x)
			}
			p.c[i] = x
		}
	}
	return p, nil
}

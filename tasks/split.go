package tasks

import "fmt"

// Range is the half-open interval [Lo, Hi) of a job's work.
type Range struct {
	Lo int64 `json:"lo"`
	Hi int64 `json:"hi"`
}

// Len is the number of units of work in r.
func (r Range) Len() int64 { return r.Hi - r.Lo }

func (r Range) String() string { return fmt.Sprintf("[%d,%d)", r.Lo, r.Hi) }

// ChunkRange returns the range of chunk index out of chunks over [0, extent).
// Ranges are contiguous, cover the extent exactly, and differ in length by at
// most one; when chunks > extent some ranges are empty.
func ChunkRange(extent int64, chunks, index int) Range {
	n, i := int64(chunks), int64(index)
	q, r := extent/n, extent%n
	lo := q*i + min(i, r)
	hi := lo + q
	if i < r {
		hi++
	}
	return Range{Lo: lo, Hi: hi}
}

// ChunksFor is a default chunk count: one chunk per perChunk units of work,
// at least 1 and at most MaxChunks.
func ChunksFor(extent, perChunk int64) int {
	if extent <= 0 || perChunk <= 0 {
		return 1
	}
	n := (extent + perChunk - 1) / perChunk
	return int(max(1, min(n, MaxChunks)))
}

package matmul

import (
	"context"
	"fmt"
	"math"
	"sync"

	"golang.org/x/sync/errgroup"
)

// A path is one way to run the product's innermost loop: a micro-kernel
// that computes an mr×nr tile of C, and the tile's shape, which fixes how A
// and B are packed for it. Every path computes every entry of C as the same
// chain of fused multiply-adds (see the package doc), so all paths give the
// same bits; they differ only in speed.
type path struct {
	name   string
	mr, nr int
	// kernel computes C[0:mr][0:nr] (row stride ldc) from kc steps of a
	// packed sliver of A (mr entries per step) and of B (nr entries per
	// step), starting from C's contents when load is 1, from +0 when 0.
	kernel func(kc int, a, b, c *float64, ldc int, load int)
}

// genericPath is the portable kernel, in Go with math.FMA: the reference
// the assembly paths are tested against, and the path of CPUs without
// them.
var genericPath = path{name: "generic", mr: 4, nr: 4, kernel: kernGeneric}

// paths lists the paths this CPU can run, best first; the last is always
// genericPath.
func paths() []path {
	var ps []path
	for _, p := range asmPaths {
		if p.ok {
			ps = append(ps, p.path)
		}
	}
	return append(ps, genericPath)
}

// bestPath is the path Run uses: the first of paths.
var bestPath = paths()[0]

// pathNamed returns the path called name, if this CPU can run it.
func pathNamed(name string) (path, bool) {
	for _, p := range paths() {
		if p.name == name {
			return p, true
		}
	}
	return path{}, false
}

// Cache blocking: the product runs in steps of kcBlock inner indices
// (stored partial sums are reloaded exactly between them), over row blocks
// of about mcBlock rows of A whose packed kcBlock-wide panel stays in the
// L2 cache while each nr-wide sliver of packed B (kcBlock·nr entries, 32 KiB
// for the AVX-512 path) stays in L1 for all of them.
const (
	kcBlock = 256
	mcBlock = 336
)

// packedB is B packed for path p: nr-column slivers, one after the other,
// each holding for every inner index k in order its nr entries of row k of
// B (zero past the last column). Sliver s, inner index k, column offset r is
// entry s·inner·nr + k·nr + r.
type packedB struct {
	data        []float64
	inner, cols int
	nr          int
}

// slivers is the number of nr-column slivers.
func (b *packedB) slivers() int { return (b.cols + b.nr - 1) / b.nr }

// newPackedB returns a packedB of the given shape backed by buf when it is
// large enough (its entries are all overwritten by the caller's filling,
// padding included: see setRow).
func newPackedB(buf []float64, inner, cols, nr int) packedB {
	size := inner * ((cols + nr - 1) / nr) * nr
	if cap(buf) < size {
		buf = make([]float64, size)
	}
	return packedB{data: buf[:size], inner: inner, cols: cols, nr: nr}
}

// setRow stores row k of B (cols entries) and zeroes the padding of the
// last sliver in that row.
func (b *packedB) setRow(k int, row []float64) {
	nr, stride := b.nr, b.inner*b.nr
	off := k * nr
	j := 0
	for ; j+nr <= b.cols; j += nr {
		copy(b.data[off:off+nr], row[j:j+nr])
		off += stride
	}
	if j < b.cols {
		n := copy(b.data[off:off+nr], row[j:b.cols])
		clear(b.data[off+n : off+nr])
	}
}

// packA packs rows [0, mc) and inner indices [pc, pc+kc) of the row-major
// matrix a (row stride lda) into dst as mr-row slivers: sliver s, step k,
// row offset r is entry s·kc·mr + k·mr + r, rows past mc zero.
func packA(dst, a []float64, lda, mc, pc, kc, mr int) {
	for s := 0; s*mr < mc; s++ {
		d := dst[s*kc*mr : (s+1)*kc*mr]
		h := min(mr, mc-s*mr)
		if h < mr {
			clear(d)
		}
		// Rows of the sliver one after the other: each read is
		// sequential, each write strided by mr within the sliver (which
		// stays in L1).
		for r := range h {
			row := a[(s*mr+r)*lda+pc : (s*mr+r)*lda+pc+kc]
			for k, x := range row {
				d[k*mr+r] = x
			}
		}
	}
}

// aPool recycles packed-A buffers.
var aPool sync.Pool

// gemm sets c (m×b.cols, row-major, row stride b.cols) to a·b, where a is
// m×b.inner row-major, using path p on up to workers goroutines, each
// owning a range of B's slivers (so they write disjoint columns of C). It
// checks ctx between blocks of about mcBlock·kcBlock·cols/workers
// multiply-adds.
func gemm(ctx context.Context, p path, workers int, a []float64, m int, b *packedB, c []float64) error {
	if m == 0 || b.cols == 0 {
		return nil
	}
	ns := b.slivers()
	workers = max(1, min(workers, ns))
	if workers == 1 {
		return gemmSlivers(ctx, p, a, m, b, c, 0, ns)
	}
	g, ctx := errgroup.WithContext(ctx)
	for w := range workers {
		lo, hi := w*ns/workers, (w+1)*ns/workers
		g.Go(func() error { return gemmSlivers(ctx, p, a, m, b, c, lo, hi) })
	}
	return g.Wait()
}

// gemmSlivers computes the columns of C that B's slivers [s0, s1) cover.
func gemmSlivers(ctx context.Context, p path, a []float64, m int, b *packedB, c []float64, s0, s1 int) error {
	mr, nr, inner, ldc := p.mr, p.nr, b.inner, b.cols
	mc := max(mr, mcBlock/mr*mr)
	var ap []float64
	if buf, ok := aPool.Get().(*[]float64); ok && cap(*buf) >= mc*kcBlock {
		ap = (*buf)[:mc*kcBlock]
	} else {
		ap = make([]float64, mc*kcBlock)
	}
	defer aPool.Put(&ap)
	var edge [16 * 16]float64 // an edge tile of C, row stride nr
	for pc := 0; pc < inner; pc += kcBlock {
		kc := min(kcBlock, inner-pc)
		load := 0
		if pc > 0 {
			load = 1
		}
		for ic := 0; ic < m; ic += mc {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("matmul: %w", err)
			}
			mh := min(mc, m-ic)
			packA(ap, a[ic*inner:], inner, mh, pc, kc, mr)
			for s := s0; s < s1; s++ {
				bs := b.data[s*inner*nr+pc*nr:]
				col := s * nr
				w := min(nr, b.cols-col)
				for ir := 0; ir < mh; ir += mr {
					as := ap[ir*kc:]
					h := min(mr, mh-ir)
					ct := c[(ic+ir)*ldc+col:]
					if h == mr && w == nr {
						p.kernel(kc, &as[0], &bs[0], &ct[0], ldc, load)
						continue
					}
					// An edge tile: through a full-size copy, whose
					// extra entries are computed from zero padding and
					// dropped.
					for r := range h {
						copy(edge[r*nr:r*nr+w], ct[r*ldc:r*ldc+w])
					}
					p.kernel(kc, &as[0], &bs[0], &edge[0], nr, load)
					for r := range h {
						copy(ct[r*ldc:r*ldc+w], edge[r*nr:r*nr+w])
					}
				}
			}
		}
	}
	return nil
}

// kernGeneric is genericPath's 4×4 kernel: the contract of path.kernel in
// Go, each entry's chain written out with math.FMA.
func kernGeneric(kc int, a, b, c *float64, ldc int, load int) {
	as := unsafeSlice(a, 4*kc)
	bs := unsafeSlice(b, 4*kc)
	cs := unsafeSlice(c, 3*ldc+4)
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float64
	if load != 0 {
		c00, c01, c02, c03 = cs[0], cs[1], cs[2], cs[3]
		c10, c11, c12, c13 = cs[ldc], cs[ldc+1], cs[ldc+2], cs[ldc+3]
		c20, c21, c22, c23 = cs[2*ldc], cs[2*ldc+1], cs[2*ldc+2], cs[2*ldc+3]
		c30, c31, c32, c33 = cs[3*ldc], cs[3*ldc+1], cs[3*ldc+2], cs[3*ldc+3]
	}
	for k := range kc {
		av := as[4*k : 4*k+4 : 4*k+4]
		bv := bs[4*k : 4*k+4 : 4*k+4]
		a0, a1, a2, a3 := av[0], av[1], av[2], av[3]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		c00, c01, c02, c03 = math.FMA(a0, b0, c00), math.FMA(a0, b1, c01), math.FMA(a0, b2, c02), math.FMA(a0, b3, c03)
		c10, c11, c12, c13 = math.FMA(a1, b0, c10), math.FMA(a1, b1, c11), math.FMA(a1, b2, c12), math.FMA(a1, b3, c13)
		c20, c21, c22, c23 = math.FMA(a2, b0, c20), math.FMA(a2, b1, c21), math.FMA(a2, b2, c22), math.FMA(a2, b3, c23)
		c30, c31, c32, c33 = math.FMA(a3, b0, c30), math.FMA(a3, b1, c31), math.FMA(a3, b2, c32), math.FMA(a3, b3, c33)
	}
	cs[0], cs[1], cs[2], cs[3] = c00, c01, c02, c03
	cs[ldc], cs[ldc+1], cs[ldc+2], cs[ldc+3] = c10, c11, c12, c13
	cs[2*ldc], cs[2*ldc+1], cs[2*ldc+2], cs[2*ldc+3] = c20, c21, c22, c23
	cs[3*ldc], cs[3*ldc+1], cs[3*ldc+2], cs[3*ldc+3] = c30, c31, c32, c33
}

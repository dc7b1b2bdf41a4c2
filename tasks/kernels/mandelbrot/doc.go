// Package mandelbrot renders the Mandelbrot set as a PNG and counts the
// pixels inside it.
//
// # Params
//
// width and height (1024×768) with width·height ≤ 2^24, max_iter 1–100000
// (256) with width·height·max_iter ≤ 10^11, and the rectangle x_min (-2.5)
// < x_max (1.0), y_min (-1.25) < y_max (1.25), each coordinate finite with
// |x| ≤ 10^6 (a bound of this package, not of the contract: far enough to
// frame anything, near enough that no intermediate value overflows). The
// pixel-count cap is reported on width, the iteration cap on max_iter.
//
// # Arithmetic
//
// The contract fixes the arithmetic in IEEE binary64 without fused
// multiply-add. Pixel (px, py) of a width×height image is the point
//
//	cx = x_min + ((px+0.5)·(x_max−x_min))/width
//	cy = y_max − ((py+0.5)·(y_max−y_min))/height
//
// each operation rounded in that order. From zx = zy = 0 each iteration
// computes zx′ = (zx·zx − zy·zy) + cx and zy′ = (2·zx)·zy + cy; the pixel
// escapes at the first iteration n (1 ≤ n ≤ max_iter) after which
// zx′² + zy′² > 4, and is inside when it has not escaped after max_iter
// iterations. Every product is wrapped in an explicit float64 conversion,
// which the Go specification guarantees to round and never to fuse, so
// amd64 and arm64 workers compute identical escape counts.
//
// # SIMD
//
// On amd64 CPUs with AVX-512F (checked at run time with
// golang.org/x/sys/cpu) the orbits are iterated 32 at a time by
// escape32AVX512 (escape_amd64.s): four vectors of eight float64 lanes,
// with separate VMULPD, VADDPD and VSUBPD in exactly the order above (2·zx
// is a multiplication by 2, never a fused multiply-add), a masked compare
// for the escape test and one for the cycle test, and per-lane escape
// counts stored under a mask. The 32 orbits of a batch start together, so
// their checkpoint iterations are the same; the batch runs until every lane
// has escaped or cycled or max_iter is reached. Every lane computes the
// same IEEE operations on the same operands as the scalar code, so the
// escape counts are identical, which TestPathsMatchEscape checks against
// escape for every path the CPU has (the build tag purego, or a CPU without
// AVX-512F, leaves only the pure-Go path, which iterates two orbits at
// once). Measured here, medians of five runs on one core (BenchmarkPaths):
// 13× the pure-Go path's pixel·iterations per second on the default view,
// 7× on the seahorse valley, 8× on the edge of the cardioid (batches whose
// lanes escape at very different iterations wait for the slowest lane).
//
// CPUs with AVX2 but not AVX-512 run escape12AVX2 (escape_avx2_amd64.s):
// three vectors of four lanes, the same operations in the same order, with
// the escape and cycle tests as bit masks in general registers (VMOVMSKPD)
// and a scalar store of a lane's count when it escapes. Measured here: 2.8–
// 4.6× the pure-Go path (three runs each of the default and seahorse views),
// so below the 4× of the AVX-512 path on such machines.
//
// An orbit that comes back exactly (==) to an earlier value is periodic and
// can never escape, so the iteration stops early and the pixel is inside
// (Brent's cycle detection: the orbit is compared with a checkpoint that
// moves at iterations 8, 16, 32, …). This only saves time: IEEE addition,
// subtraction and multiplication of numerically equal operands give
// numerically equal results, so the outcome is exactly that of running all
// max_iter iterations.
//
// # Colours
//
// An escape count n maps to one of 255 colours of a fixed gradient by a
// piecewise-linear base-2 logarithm computed in integers,
//
//	L(x) = 65536·e + ⌊65536·(x − 2^e)/2^e⌋   with e = ⌊log₂ x⌋,
//	index(n) = 1 + ⌊254·L(n)/L(max_iter)⌋    (1 when max_iter = 1),
//
// and inside pixels get palette index 0, black. No floating-point function
// (math.Log and friends differ between architectures in the last bit) is
// involved, so the mapping is the same on every worker.
//
// # Chunks
//
// The extent is the image height: a chunk renders whole rows [lo, hi).
// Inside a chunk the pixels of those rows, in order, are cut into pieces of
// at most 4096 pixels and about 10^7 iterations, which all cores take from
// a shared counter; each piece checks the context, so a cancelled chunk
// stops within milliseconds.
//
// # The PNG, compressed by the chunks
//
// The PNG's filtered data (each row: filter byte 0, then its palette
// indices) is cut into blocks of blockRows(width) rows, about 8 KiB. Each
// block is deflated on its own by a fresh compressor at BestSpeed and ended
// with a sync flush (the image's last block: with the final deflate block),
// so the blocks' outputs concatenate into one valid deflate stream; the
// zlib Adler-32 is combined from the blocks' (adler32Combine), and every
// block is one IDAT chunk. A chunk deflates the blocks wholly inside its
// rows, in parallel on its cores, and sends the rows of the (at most two)
// blocks its ends split raw; Reduce only checks and concatenates, and
// deflates those split blocks. So the serial reduce no longer encodes the
// image: for 4096×4096 it went from a whole-image png.Encode to a few
// milliseconds (BenchmarkReduceSerial). A block's bytes depend on its pixels
// alone, whoever deflates it, so the PNG is byte-identical for every
// chunking (TestPNGBlocks), for one Go release.
//
// A chunk's partial is
//
//	bytes 0–3    "MDB2"
//	bytes 4–7    lo, uint32 little-endian
//	bytes 8–11   hi, uint32 little-endian
//	bytes 12–15  width, uint32 little-endian
//	bytes 16–23  inside pixels of the rows, uint64 little-endian
//	then         segments in row order, each
//	             'R', rows uint32, inside uint64, length uint32, palette indices; or
//	             'Z', rows uint32, inside uint64, Adler-32 uint32, length uint32, deflated block
//
// Reduce checks that the partials tile [0, height) in order, that the
// segments cover their partial's rows, that deflated segments are exactly
// the blocks they claim to be, and that the inside counts add up (counting
// the black pixels of raw segments).
//
// # Why the result does not depend on the chunking
//
// Every pixel is a pure function of its coordinates and the params, with
// the arithmetic fixed above, so a row is the same bytes whichever chunk
// renders it; the PNG's blocks are fixed by the width alone (above), and the
// inside count is an exact integer sum.
package mandelbrot

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
// stops within milliseconds. Each core iterates two pixels at once, which
// nearly doubles its speed: one orbit is a chain of dependent operations
// that leaves the CPU idle between them. A chunk's partial is
//
//	bytes 0–3    "MDB1"
//	bytes 4–7    lo, uint32 little-endian
//	bytes 8–11   hi, uint32 little-endian
//	bytes 12–15  width, uint32 little-endian
//	bytes 16–23  inside pixels of the rows, uint64 little-endian
//	then         (hi−lo)·width palette indices, row by row
//
// # Why the result does not depend on the chunking
//
// Every pixel is a pure function of its coordinates and the params, with
// the arithmetic fixed above, so a row is the same bytes whichever chunk
// renders it. Reduce checks that the partials tile [0, height) in order,
// concatenates their rows into one image.Paletted with the fixed palette
// and encodes it with image/png at a fixed compression level: the same
// pixels give the same PNG bytes (for one Go release of the reducing
// worker), and the inside count is an exact integer sum.
package mandelbrot

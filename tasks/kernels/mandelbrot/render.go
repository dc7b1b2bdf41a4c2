package mandelbrot

import (
	"image/color"
	"math/bits"
)

// pointX is cx of column px: x_min + ((px+0.5)·(x_max−x_min))/width.
func (c *config) pointX(px int64) float64 {
	return c.XMin + float64(float64(float64(px)+0.5)*float64(c.XMax-c.XMin))/float64(c.Width)
}

// pointY is cy of row py: y_max − ((py+0.5)·(y_max−y_min))/height.
func (c *config) pointY(py int64) float64 {
	return c.YMax - float64(float64(float64(py)+0.5)*float64(c.YMax-c.YMin))/float64(c.Height)
}

// escape returns the iteration n in [1, maxIter] after which the orbit of
// c = (cx, cy) escapes, or 0 when it is inside. See the package doc for the
// arithmetic and the exact cycle detection.
func escape(cx, cy float64, maxIter int) int {
	var zx, zy, x2, y2 float64
	var sx, sy float64 // checkpoint: an earlier value of the orbit
	next := 8
	for n := 1; n <= maxIter; n++ {
		zy = float64(float64(2*zx)*zy) + cy
		zx = float64(x2-y2) + cx
		x2 = float64(zx * zx)
		y2 = float64(zy * zy)
		if x2+y2 > 4 {
			return n
		}
		if zx == sx && zy == sy {
			return 0
		}
		if n == next {
			sx, sy = zx, zy
			next *= 2
		}
	}
	return 0
}

// log2fix is a piecewise-linear base-2 logarithm of x ≥ 1 in 16.16 fixed
// point: 65536·e + ⌊65536·(x − 2^e)/2^e⌋ with e = ⌊log₂ x⌋.
func log2fix(x uint64) uint64 {
	e := uint(bits.Len64(x) - 1)
	return uint64(e)<<16 + (x-1<<e)<<16>>e
}

// indexTable maps an escape count n in [0, maxIter] to a palette index: 0
// (black) for inside, 1 + ⌊254·L(n)/L(maxIter)⌋ for n ≥ 1.
func indexTable(maxIter int) []uint8 {
	t := make([]uint8, maxIter+1)
	top := log2fix(uint64(maxIter))
	for n := 1; n <= maxIter; n++ {
		if top == 0 {
			t[n] = 1
			continue
		}
		t[n] = uint8(1 + 254*log2fix(uint64(n))/top)
	}
	return t
}

// gradientStops are the colours of the gradient at positions 0 to 254 of
// the escaping pixels' palette indices 1 to 255.
var gradientStops = []struct {
	at      int
	r, g, b uint8
}{
	{0, 0, 7, 60},
	{40, 20, 60, 150},
	{100, 32, 107, 203},
	{160, 237, 255, 255},
	{210, 255, 170, 0},
	{254, 120, 20, 0},
}

// palette is the fixed palette of every image: index 0 is black (inside),
// indices 1–255 a gradient interpolated in integers between gradientStops.
var palette = func() color.Palette {
	p := make(color.Palette, 256)
	p[0] = color.RGBA{A: 255}
	for i := 0; i < 255; i++ {
		s := 0
		for s+2 < len(gradientStops) && gradientStops[s+1].at <= i {
			s++
		}
		a, b := gradientStops[s], gradientStops[s+1]
		lerp := func(x, y uint8) uint8 {
			return uint8((int(x)*(b.at-i) + int(y)*(i-a.at) + (b.at-a.at)/2) / (b.at - a.at))
		}
		p[i+1] = color.RGBA{R: lerp(a.r, b.r), G: lerp(a.g, b.g), B: lerp(a.b, b.b), A: 255}
	}
	return p
}()

// maxPiece bounds the pixels of one piece of work, so that the buffer of a
// piece's cx values stays small.
const maxPiece = 4096

// lanes renders the pixels whose c is (cxs[i], cy) into dst[i] and returns
// how many are inside. It iterates two orbits at once, which the CPU
// overlaps (one orbit is a chain of dependent operations), refilling a lane
// with the next pixel as soon as its orbit ends. Each lane computes exactly
// what escape computes.
func lanes(cxs []float64, cy float64, maxIter int, table []uint8, dst []byte) (inside int64) {
	if len(cxs) < 2 {
		for i, cx := range cxs {
			n := escape(cx, cy, maxIter)
			inside += b2i(n == 0)
			dst[i] = table[n]
		}
		return inside
	}
	// Lane a and lane b: the pixel, c's real part, the orbit, its squares,
	// the cycle checkpoint, the iteration count and the next checkpoint.
	pa, pb, next := 0, 1, 2
	cxa, cxb := cxs[0], cxs[1]
	var zxa, zya, x2a, y2a float64
	var zxb, zyb, x2b, y2b float64
	// The checkpoints live in an array, which the compiler keeps in memory:
	// the comparisons read them from the cache and the orbits keep the
	// registers.
	var chk [4]float64 // sxa, sya, sxb, syb
	var na, nb int
	nexta, nextb := 8, 8
	for {
		zya = float64(float64(2*zxa)*zya) + cy
		zyb = float64(float64(2*zxb)*zyb) + cy
		zxa = float64(x2a-y2a) + cxa
		zxb = float64(x2b-y2b) + cxb
		x2a = float64(zxa * zxa)
		x2b = float64(zxb * zxb)
		y2a = float64(zya * zya)
		y2b = float64(zyb * zyb)
		na++
		nb++
		if x2a+y2a > 4 || (zxa == chk[0] && zya == chk[1]) || na == maxIter {
			n := 0
			if x2a+y2a > 4 {
				n = na
			}
			inside += b2i(n == 0)
			dst[pa] = table[n]
			if next == len(cxs) {
				// Lane a is done; lane b, computed but not yet tested at
				// iteration nb, finishes alone.
				n := finish(cxb, cy, nb, maxIter, zxb, zyb, x2b, y2b, chk[2], chk[3], nextb, false)
				inside += b2i(n == 0)
				dst[pb] = table[n]
				return inside
			}
			pa, cxa = next, cxs[next]
			next++
			zxa, zya, x2a, y2a, chk[0], chk[1], na, nexta = 0, 0, 0, 0, 0, 0, 0, 8
		} else if na == nexta {
			chk[0], chk[1] = zxa, zya
			nexta *= 2
		}
		if x2b+y2b > 4 || (zxb == chk[2] && zyb == chk[3]) || nb == maxIter {
			n := 0
			if x2b+y2b > 4 {
				n = nb
			}
			inside += b2i(n == 0)
			dst[pb] = table[n]
			if next == len(cxs) {
				// Lane b is done; lane a, tested at iteration na already,
				// finishes alone.
				n := finish(cxa, cy, na, maxIter, zxa, zya, x2a, y2a, chk[0], chk[1], nexta, true)
				inside += b2i(n == 0)
				dst[pa] = table[n]
				return inside
			}
			pb, cxb = next, cxs[next]
			next++
			zxb, zyb, x2b, y2b, chk[2], chk[3], nb, nextb = 0, 0, 0, 0, 0, 0, 0, 8
		} else if nb == nextb {
			chk[2], chk[3] = zxb, zyb
			nextb *= 2
		}
	}
}

// finish continues an orbit whose iteration n has been computed and returns
// what escape would return. When tested, iteration n has also passed the
// escape and cycle tests and moved the checkpoint.
func finish(cx, cy float64, n, maxIter int, zx, zy, x2, y2, sx, sy float64, next int, tested bool) int {
	for {
		if !tested {
			if x2+y2 > 4 {
				return n
			}
			if zx == sx && zy == sy {
				return 0
			}
			if n == next {
				sx, sy = zx, zy
				next *= 2
			}
		}
		tested = false
		if n == maxIter {
			return 0
		}
		n++
		zy = float64(float64(2*zx)*zy) + cy
		zx = float64(x2-y2) + cx
		x2 = float64(zx * zx)
		y2 = float64(zy * zy)
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

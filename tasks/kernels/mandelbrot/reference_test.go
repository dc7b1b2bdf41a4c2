package mandelbrot

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
)

// view is a small image for the reference comparisons.
type view struct {
	w, h, maxIter          int
	xmin, xmax, ymin, ymax float64
}

func (v view) params() string {
	return fmt.Sprintf(`{"width":%d,"height":%d,"max_iter":%d,"x_min":%v,"x_max":%v,"y_min":%v,"y_max":%v}`,
		v.w, v.h, v.maxIter, v.xmin, v.xmax, v.ymin, v.ymax)
}

var views = map[string]view{
	"default":   {64, 48, 256, -2.5, 1.0, -1.25, 1.25},
	"seahorse":  {40, 30, 2000, -0.7470, -0.7420, 0.0980, 0.1020},
	"deep":      {32, 32, 5000, -0.743643887, -0.743643886, 0.131825904, 0.131825905},
	"outside":   {16, 8, 50, 10, 20, -3, 3},
	"one pixel": {1, 1, 1, -2.5, 1.0, -1.25, 1.25},
	"iter 1":    {20, 10, 1, -3, 3, -3, 3},
	"wide":      {200, 1, 500, -2, 0.5, -0.001, 0.001},
	"tall":      {1, 120, 500, -0.1, 0.1, -1.5, 1.5},
	// Rows longer than a piece (4096 pixels), and pieces of 100 pixels
	// (10^7 / max_iter): pieces that end inside rows.
	"long rows": {5000, 2, 30, -2.5, 1.0, -0.2, 0.2},
	"long iter": {150, 2, 100000, -1.5, 0.5, -0.5, 0.5},
}

// refEscape is the contract's formula written out plainly in float64, with
// every product rounded by a conversion and no cycle detection.
func refEscape(v view, px, py int) int {
	cx := v.xmin + float64(float64(float64(px)+0.5)*(v.xmax-v.xmin))/float64(v.w)
	cy := v.ymax - float64(float64(float64(py)+0.5)*(v.ymax-v.ymin))/float64(v.h)
	zx, zy := 0.0, 0.0
	for n := 1; n <= v.maxIter; n++ {
		nzx := float64(float64(zx*zx)-float64(zy*zy)) + cx
		nzy := float64(float64(2*zx)*zy) + cy
		zx, zy = nzx, nzy
		if float64(zx*zx)+float64(zy*zy) > 4 {
			return n
		}
	}
	return 0
}

// bigEscape is the same formula in math/big at 53 bits, rounding to
// nearest even after every operation: an implementation that cannot fuse.
func bigEscape(v view, px, py int) int {
	f := func(x float64) *big.Float { return new(big.Float).SetPrec(53).SetFloat64(x) }
	nf := func() *big.Float { return new(big.Float).SetPrec(53) }
	cx := nf().Add(f(v.xmin), nf().Quo(nf().Mul(f(float64(px)+0.5), nf().Sub(f(v.xmax), f(v.xmin))), f(float64(v.w))))
	cy := nf().Sub(f(v.ymax), nf().Quo(nf().Mul(f(float64(py)+0.5), nf().Sub(f(v.ymax), f(v.ymin))), f(float64(v.h))))
	zx, zy := f(0), f(0)
	four := f(4)
	for n := 1; n <= v.maxIter; n++ {
		nzx := nf().Add(nf().Sub(nf().Mul(zx, zx), nf().Mul(zy, zy)), cx)
		nzy := nf().Add(nf().Mul(nf().Mul(f(2), zx), zy), cy)
		zx, zy = nzx, nzy
		if nf().Add(nf().Mul(zx, zx), nf().Mul(zy, zy)).Cmp(four) > 0 {
			return n
		}
	}
	return 0
}

func TestEscapeMatchesReference(t *testing.T) {
	t.Parallel()
	for name, v := range views {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := parse([]byte(v.params()))
			require.NoError(t, err)
			out := kerneltest.MustRun(t, Spec{}, Runner{}, v.params(), 3)
			img, err := png.Decode(bytes.NewReader(out.Artifact))
			require.NoError(t, err)
			pal, ok := img.(*image.Paletted)
			require.True(t, ok, "PNG decodes to %T", img)
			require.Equal(t, image.Rect(0, 0, v.w, v.h), pal.Bounds())
			table := indexTable(v.maxIter)
			inside := 0
			for py := range v.h {
				for px := range v.w {
					want := refEscape(v, px, py)
					if want == 0 {
						inside++
					}
					got := escape(c.pointX(int64(px)), c.pointY(int64(py)), v.maxIter)
					require.Equal(t, want, got, "escape count of pixel (%d,%d)", px, py)
					require.Equal(t, table[want], pal.ColorIndexAt(px, py), "palette index of pixel (%d,%d)", px, py)
				}
			}
			require.JSONEq(t, fmt.Sprintf(`{"width":%d,"height":%d,"max_iter":%d,"inside":%d}`, v.w, v.h, v.maxIter, inside), string(out.Result))
		})
	}
}

func TestEscapeMatchesBigFloat(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"seahorse", "one pixel", "iter 1"} {
		v := views[name]
		v.w, v.h = min(v.w, 12), min(v.h, 8)
		v.maxIter = min(v.maxIter, 300)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := parse([]byte(v.params()))
			require.NoError(t, err)
			for py := range v.h {
				for px := range v.w {
					want := bigEscape(v, px, py)
					require.Equal(t, want, escape(c.pointX(int64(px)), c.pointY(int64(py)), v.maxIter), "pixel (%d,%d)", px, py)
				}
			}
		})
	}
}

func TestCycleDetectionIsExact(t *testing.T) {
	t.Parallel()
	// Points inside the main cardioid and the period-2 bulb, on its edge and
	// just outside, where stopping early would be wrong if it were not exact.
	points := [][2]float64{{0, 0}, {-1, 0}, {-0.75, 0}, {0.25, 0}, {0.2500001, 0}, {-0.75, 0.001}, {-0.1, 0.65}, {-0.12, 0.74}, {-1.76, 0}, {0.3, 0.5}}
	for _, p := range points {
		for _, maxIter := range []int{1, 7, 8, 9, 100, 5000} {
			v := view{w: 1, h: 1, maxIter: maxIter, xmin: p[0] - 1, xmax: p[0] + 1, ymin: p[1] - 1, ymax: p[1] + 1}
			require.Equal(t, refEscape(v, 0, 0), escape(p[0], p[1], maxIter), "c = %v, max_iter %d", p, maxIter)
		}
	}
}

func TestIndexTable(t *testing.T) {
	t.Parallel()
	for _, maxIter := range []int{1, 2, 3, 255, 256, 1000, MaxIter} {
		table := indexTable(maxIter)
		require.Len(t, table, maxIter+1)
		require.Zero(t, table[0], "inside is black")
		require.EqualValues(t, 1, table[1])
		require.EqualValues(t, map[bool]uint8{true: 1, false: 255}[maxIter == 1], table[maxIter])
		for n := 2; n <= maxIter; n++ {
			require.GreaterOrEqual(t, table[n], table[n-1], "monotonic at %d", n)
		}
	}
	require.Len(t, palette, 256)
	for i, c := range palette {
		_, _, _, a := c.RGBA()
		require.EqualValues(t, 0xffff, a, "palette[%d] is opaque", i)
	}
}

func TestLog2Fix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ x, want uint64 }{
		{1, 0}, {2, 1 << 16}, {3, 1<<16 + 1<<15}, {4, 2 << 16}, {5, 2<<16 + 1<<14}, {100000, 16<<16 + (100000-65536)<<16>>16},
	} {
		require.Equal(t, tc.want, log2fix(tc.x), "L(%d)", tc.x)
	}
}

func TestSpanMatchesEscape(t *testing.T) {
	t.Parallel()
	// Every width from 1 to 40 and every cut of a row into two spans, over
	// views where orbits end at all sorts of iterations.
	for name, v := range views {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v.maxIter = min(v.maxIter, 600)
			for w := 1; w <= 40; w += 1 + w/8 {
				v.w = w
				c, err := parse([]byte(v.params()))
				require.NoError(t, err)
				table := indexTable(v.maxIter)
				for py := 0; py < v.h; py += 1 + v.h/6 {
					cy := c.pointY(int64(py))
					want := make([]byte, w)
					wantInside := int64(0)
					for px := range w {
						n := escape(c.pointX(int64(px)), cy, v.maxIter)
						want[px] = table[n]
						wantInside += b2i(n == 0)
					}
					for cut := 0; cut <= w; cut += 1 + w/5 {
						got := make([]byte, w)
						inside := spanOf(&c, cy, 0, int64(cut), table, got) + spanOf(&c, cy, int64(cut), int64(w), table, got)
						require.Equal(t, want, got, "width %d row %d cut %d", w, py, cut)
						require.Equal(t, wantInside, inside)
					}
				}
			}
		})
	}
}

// TestSpanLaneEndings forces the case where one lane ends at a checkpoint
// iteration of the other: pixels whose orbits escape at exactly 8, 16, 32 …
// next to pixels that are inside.
func TestSpanLaneEndings(t *testing.T) {
	t.Parallel()
	const maxIter = 200
	table := indexTable(maxIter)
	c := config{Width: 1 << 20, Height: 1, MaxIter: maxIter, XMin: -2, XMax: 0.5, YMin: -0.5, YMax: 0.5}
	// Find points on the real axis escaping at the checkpoint iterations.
	var xs []float64
	for _, target := range []int{1, 2, 7, 8, 9, 16, 32, 64, 128, 200} {
		for px := int64(0); px < c.Width; px += 97 {
			if escape(c.pointX(px), 0, maxIter) == target {
				xs = append(xs, c.pointX(px))
				break
			}
		}
	}
	require.NotEmpty(t, xs)
	insides := []float64{0, -1, -0.1, -0.75}
	for _, a := range append(xs, insides...) {
		for _, b := range append(xs, insides...) {
			for _, third := range append(xs, insides...) {
				pts := []float64{a, b, third}
				want := make([]byte, len(pts))
				for i, x := range pts {
					want[i] = table[escape(x, 0, maxIter)]
				}
				got := make([]byte, len(pts))
				lanes(pts, 0, maxIter, table, got)
				require.Equal(t, want, got, "points %v", pts)
			}
		}
	}
}

// spanOf renders pixels [x0, x1) of a row with lanes, as render does.
func spanOf(c *config, cy float64, x0, x1 int64, table []uint8, dst []byte) int64 {
	cxs := make([]float64, x1-x0)
	for i := range cxs {
		cxs[i] = c.pointX(x0 + int64(i))
	}
	return lanes(cxs, cy, int(c.MaxIter), table, dst[x0:x1])
}

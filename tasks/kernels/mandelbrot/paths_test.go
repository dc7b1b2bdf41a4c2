package mandelbrot

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPathsMatchEscape checks every implementation this CPU can run
// against escape, the scalar reference, pixel by pixel, for spans of every
// length from 1 to 70 (partial SIMD batches) over the reference views.
func TestPathsMatchEscape(t *testing.T) {
	t.Parallel()
	if len(paths) == 1 {
		t.Log("this CPU has no SIMD path (no AVX-512F): only the pure-Go path is checked")
	}
	for _, p := range paths {
		for name, v := range views {
			t.Run(p.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				v.maxIter = min(v.maxIter, 3000)
				for _, w := range []int{1, 2, 7, 31, 32, 33, 64, 70} {
					v.w = w
					c, err := parse([]byte(v.params()))
					require.NoError(t, err)
					table := indexTable(v.maxIter)
					for py := 0; py < v.h; py += 1 + v.h/5 {
						cy := c.pointY(int64(py))
						cxs := make([]float64, w)
						want := make([]byte, w)
						var wantInside int64
						for px := range w {
							cxs[px] = c.pointX(int64(px))
							n := escape(cxs[px], cy, v.maxIter)
							want[px] = table[n]
							wantInside += b2i(n == 0)
						}
						got := make([]byte, w)
						require.Equal(t, wantInside, p.span(cxs, cy, v.maxIter, table, got), "inside, width %d row %d", w, py)
						require.Equal(t, want, got, "width %d row %d", w, py)
					}
				}
			})
		}
	}
}

// BenchmarkPaths renders the views of BenchmarkRun on one goroutine with
// every path this CPU can run: "go" is the pure-Go two-lane code that was
// the only one before the SIMD paths, so the ratio of the Mpixel·iter/s
// figures is the speed-up, measured in one run.
func BenchmarkPaths(b *testing.B) {
	for _, tc := range []struct {
		name string
		c    config
	}{
		{"default", config{Width: 1024, Height: 768, MaxIter: 256, XMin: -2.5, XMax: 1, YMin: -1.25, YMax: 1.25}},
		{"seahorse", config{Width: 512, Height: 512, MaxIter: 2000, XMin: -0.7470, XMax: -0.7420, YMin: 0.0980, YMax: 0.1020}},
		{"cardioid-edge", config{Width: 256, Height: 256, MaxIter: 5000, XMin: -0.7501, XMax: -0.7499, YMin: -0.0001, YMax: 0.0001}},
	} {
		for _, p := range paths {
			b.Run(tc.name+"/"+p.name, func(b *testing.B) {
				c := tc.c
				table := indexTable(int(c.MaxIter))
				cxs := make([]float64, c.Width)
				for k := range cxs {
					cxs[k] = c.pointX(int64(k))
				}
				dst := make([]byte, c.Width)
				for b.Loop() {
					for py := range c.Height {
						p.span(cxs, c.pointY(py), int(c.MaxIter), table, dst)
					}
				}
				b.ReportMetric(float64(c.Width*c.Height*c.MaxIter)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpixel·iter/s")
			})
		}
	}
}

package pi

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPathsMatchPoint checks every implementation this CPU can run against
// Point, the reference definition, sample by sample over ranges of every
// length from 0 to 200 at several offsets and seeds, and against the
// pure-Go countInside over longer ranges.
func TestPathsMatchPoint(t *testing.T) {
	t.Parallel()
	if len(paths) == 1 {
		t.Log("this CPU has no SIMD path (no AVX-512F/DQ): only the pure-Go path is checked")
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			for _, seed := range []uint64{0, 1, 42, 1<<63 - 1} {
				for _, lo := range []uint64{0, 1, 31, 1000, 1 << 40} {
					want := uint64(0)
					for n := uint64(0); n <= 200; n++ {
						require.Equal(t, want, p.count(seed, lo, lo+n), "seed %d [%d,%d)", seed, lo, lo+n)
						if _, _, in := Point(seed, lo+n); in {
							want++
						}
					}
				}
				for _, r := range [][2]uint64{{0, 1 << 20}, {12345, 12345 + 1<<21 + 77}, {1<<36 - 5, 1<<36 + 1<<19 + 3}} {
					require.Equal(t, countInside(seed, r[0], r[1]), p.count(seed, r[0], r[1]), "seed %d %v", seed, r)
				}
			}
		})
	}
}

// BenchmarkPaths draws 2^24 samples on one goroutine with every path this
// CPU can run; "go" is the pure-Go countInside, the only path before the
// SIMD one, so the ratio of the figures is the speed-up in one run.
func BenchmarkPaths(b *testing.B) {
	const n = 1 << 24
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				p.count(7, 1000, 1000+n)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Msamples/s")
		})
	}
}

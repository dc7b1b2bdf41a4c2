package matmul

import (
	"fmt"
	"math"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// referenceProduct is the promised arithmetic written out directly: every
// entry one chain c = fma(a[i][k], b[k][j], c) for k = 0, 1, … from c = 0.
func referenceProduct(a, b []float64, m, inner, n int) []float64 {
	c := make([]float64, m*n)
	for i := range m {
		for j := range n {
			s := 0.0
			for k := range inner {
				s = math.FMA(a[i*inner+k], b[k*n+j], s)
			}
			c[i*n+j] = s
		}
	}
	return c
}

// testMatrix is an m×n row-major matrix of awkward entries: mixed signs
// and magnitudes, zeros, negative zeros, values whose products round.
func testMatrix(m, n, salt int) []float64 {
	x := make([]float64, m*n)
	for i := range x {
		h := mix64(uint64(i)*7919 + uint64(salt))
		switch h % 11 {
		case 0:
			x[i] = 0
		case 1:
			x[i] = math.Copysign(0, -1)
		case 2:
			x[i] = math.Ldexp(float64(h>>40|1), int(h%60)-80)
		default:
			x[i] = toUnit(h) * float64(1+h%7)
		}
	}
	return x
}

func packB(b []float64, inner, n, nr int) packedB {
	pb := newPackedB(nil, inner, n, nr)
	for k := range inner {
		pb.setRow(k, b[k*n:(k+1)*n])
	}
	return pb
}

func TestPathsBitIdentical(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"avx512", "avx2", "generic"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, ok := pathNamed(name)
			if !ok {
				t.Skipf("no %s path in this build on this CPU (GOARCH=%s; it needs amd64 without the purego tag, and the CPU feature): the generic path and the best available one are still checked against the reference", name, runtime.GOARCH)
			}
			for _, shape := range [][3]int{{1, 1, 1}, {7, 13, 5}, {33, 65, 17}, {129, 1, 257}, {14, 300, 16}, {15, 513, 33}, {350, 70, 40}, {2, 600, 3}} {
				m, inner, n := shape[0], shape[1], shape[2]
				a, b := testMatrix(m, inner, 1), testMatrix(inner, n, 2)
				want := referenceProduct(a, b, m, inner, n)
				pb := packB(b, inner, n, p.nr)
				for _, workers := range []int{1, 2, 3} {
					c := make([]float64, m*n)
					for i := range c {
						c[i] = math.NaN() // every entry must be written
					}
					require.NoError(t, gemm(t.Context(), p, workers, a, m, &pb, c))
					for i := range want {
						if math.Float64bits(want[i]) != math.Float64bits(c[i]) {
							t.Fatalf("%v workers %d: entry (%d,%d) = %v, reference %v", shape, workers, i/n, i%n, c[i], want[i])
						}
					}
				}
			}
		})
	}
}

// BenchmarkDGEMM is the product alone, C = A·B for n×n row-major A and B,
// on the best path with GOMAXPROCS goroutines (set it with -cpu 1,2):
// packing B (single-threaded) and A included, generating them not.
// GFLOP/cpu-s is the work over the process's CPU time, less sensitive to
// other processes on a shared machine. scripts/bench-matmul.sh runs it
// beside OpenBLAS.
func BenchmarkDGEMM(b *testing.B) {
	for _, n := range []int{512, 1024, 2048, 4096} {
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			a, bm := make([]float64, n*n), make([]float64, n*n)
			for i := range n {
				randomRow(1, matA, i, a[i*n:(i+1)*n])
				randomRow(1, matB, i, bm[i*n:(i+1)*n])
			}
			p := bestPath
			pb := newPackedB(nil, n, n, p.nr)
			c := make([]float64, n*n)
			// One product first, untimed: page faults, caches.
			run := func() {
				for k := range n {
					pb.setRow(k, bm[k*n:(k+1)*n])
				}
				require.NoError(b, gemm(b.Context(), p, runtime.GOMAXPROCS(0), a, n, &pb, c))
			}
			run()
			b.ResetTimer()
			cpu0 := cpuTime()
			for range b.N {
				run()
			}
			b.StopTimer()
			flops := 2 * float64(n) * float64(n) * float64(n) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOPS")
			b.ReportMetric(flops/(cpuTime()-cpu0).Seconds()/1e9, "GFLOP/cpu-s")
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMicroKernel is each path's micro-kernel alone, on one tile with
// its slivers of A and B in the L1 cache: the ceiling the whole product
// approaches when packing and memory cost nothing.
func BenchmarkMicroKernel(b *testing.B) {
	for _, p := range paths() {
		b.Run(p.name, func(b *testing.B) {
			a, bs, c := testMatrix(p.mr, kcBlock, 1), testMatrix(kcBlock, p.nr, 2), make([]float64, p.mr*p.nr)
			cpu0 := cpuTime()
			for b.Loop() {
				for range 100 {
					p.kernel(kcBlock, &a[0], &bs[0], &c[0], p.nr, 0)
				}
			}
			flops := 2 * float64(p.mr*p.nr*kcBlock) * 100 * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOPS")
			b.ReportMetric(flops/(cpuTime()-cpu0).Seconds()/1e9, "GFLOP/cpu-s")
		})
	}
}

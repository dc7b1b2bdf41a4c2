package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/worker"
)

// TestSoak keeps 8 clients submitting small jobs to two workers and checks
// that goroutines and live heap do not grow between the end of a warm-up
// and the end of the run. It lasts CRUNCH_SOAK (a Go duration; 40s by
// default, so that make test stays short; make soak runs 5 minutes) and,
// when CRUNCH_SOAK_PROFILE names a directory, writes heap and goroutine
// profiles there at both points (RELIABILITY.md quotes them).
//
// Not parallel: goroutine counts and heap are the whole process's, so the
// soak runs while no other test of the package does (Go runs the parallel
// ones after it), and what it measures is its own system.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("a load of several tens of seconds; skipped with -short")
	}
	duration := 40 * time.Second
	if v := os.Getenv("CRUNCH_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err, "CRUNCH_SOAK")
		duration = d
	}
	warmup := duration / 4
	s := startSystem(t, systemOptions{workers: 2, concurrency: 2,
		api:    func(c *api.Config) { c.ResultTTL = 5 * time.Second },
		worker: func(c *worker.Config) { c.ResultTTL = 5 * time.Second },
	})
	s.fast = true

	var submitted, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"kernel":"stats","params":{"values":[%d,%d]},"chunks":2}`, c, i)
				r := s.send(false, http.MethodPost, "/v1/jobs", []byte(body))
				if r.status != http.StatusAccepted {
					failed.Add(1)
				}
				submitted.Add(1)
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	sample := func(label string) (goroutines int, heap uint64) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if dir := os.Getenv("CRUNCH_SOAK_PROFILE"); dir != "" {
			for _, name := range []string{"heap", "goroutine"} {
				f, err := os.Create(filepath.Join(dir, label+"-"+name+".pprof"))
				require.NoError(t, err)
				require.NoError(t, pprof.Lookup(name).WriteTo(f, 0))
				require.NoError(t, f.Close())
			}
		}
		return runtime.NumGoroutine(), ms.HeapInuse
	}
	time.Sleep(warmup)
	g0, h0 := sample("warm")
	time.Sleep(duration - warmup)
	g1, h1 := sample("end")
	close(stop)
	wg.Wait()

	t.Logf("soak: %s, %d jobs submitted, %d not accepted; goroutines %d → %d; heap in use %.1f MiB → %.1f MiB",
		duration, submitted.Load(), failed.Load(), g0, g1, float64(h0)/(1<<20), float64(h1)/(1<<20))
	require.Zero(t, failed.Load())
	require.LessOrEqual(t, g1, g0+g0/5+10, "goroutines grew")
	require.LessOrEqual(t, h1, h0+h0/2+16<<20, "live heap grew")
}

package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/worker"
)

// 2,000 jobs from 32 concurrent clients with two workers: no 5xx, none
// lost, every result the job's own; then, once the result TTL passes,
// nothing of them is left in Redis.
func TestLoad(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("2,000 jobs; skipped with -short")
	}
	const (
		jobs    = 2000
		clients = 32
		ttl     = 20 * time.Second
	)
	s := startSystem(t, systemOptions{workers: 2, concurrency: 4,
		api:    func(c *api.Config) { c.ResultTTL = ttl },
		worker: func(c *worker.Config) { c.ResultTTL = ttl },
	})
	s.fast = true
	goroutinesBefore := runtime.NumGoroutine()

	ids := make([]string, jobs)
	codes := make(map[int]int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			for i := c; i < jobs; i += clients {
				body := fmt.Sprintf(`{"kernel":"stats","params":{"values":[%d,1]},"chunks":%d}`, i, 1+i%3)
				r := s.send(false, http.MethodPost, "/v1/jobs", []byte(body))
				mu.Lock()
				codes[r.status]++
				mu.Unlock()
				var j job
				if r.status == http.StatusAccepted && json.Unmarshal(r.body, &j) == nil {
					ids[i] = j.ID
				}
			}
		})
	}
	wg.Wait()
	submitted := time.Since(start)
	require.Equal(t, map[int]int{http.StatusAccepted: jobs}, codes, "every submission accepted, no 5xx")

	unique := map[string]bool{}
	for i, id := range ids {
		require.NotEmpty(t, id, "job %d", i)
		unique[id] = true
	}
	require.Len(t, unique, jobs, "ids are unique")

	for i, id := range ids {
		j := s.wait(id, 2*time.Minute)
		require.Equal(t, "succeeded", j.Status, "job %d", i)
		var res struct{ Count, Sum float64 }
		require.NoError(t, json.Unmarshal(j.Result, &res))
		require.Equal(t, float64(i+1), res.Sum, "job %d has its own result", i)
		require.Equal(t, j.Chunks.Total, j.Chunks.Done)
	}
	elapsed := time.Since(start)
	t.Logf("load: %d jobs from %d clients: submitted in %s (%.0f jobs/s), all succeeded after %s (%.0f jobs/s end to end)",
		jobs, clients, submitted.Round(time.Millisecond), jobs/submitted.Seconds(), elapsed.Round(time.Millisecond), jobs/elapsed.Seconds())

	// Finished jobs expire with the result TTL: no job key is left.
	deadline := time.Now().Add(ttl + 10*time.Second)
	for {
		keys, err := s.rdb.Keys(t.Context(), s.ns+":job:*").Result()
		require.NoError(t, err)
		if len(keys) == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "%d job keys left after the TTL, e.g. %s", len(keys), keys[0])
		time.Sleep(200 * time.Millisecond)
	}
	pending, err := s.rdb.Keys(t.Context(), "asynq:{"+s.ns+":*}:t:*").Result()
	require.NoError(t, err)
	require.Empty(t, len(pending), "asynq task records left, e.g. %.1q", pending)
	t.Logf("load: goroutines before %d, after %d", goroutinesBefore, runtime.NumGoroutine())
}

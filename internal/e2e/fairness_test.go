package e2e_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A 1-chunk job submitted while a 4,096-chunk job is running finishes
// within 1 s: each job has only a small window of chunks queued at a time,
// so the giant job does not put 4,096 tasks ahead of it.
//
// It is a latency bound, so it does not run in parallel with the other
// tests of the package, which would compete for the same two cores.
func TestFairnessUnderGiantJob(t *testing.T) {
	s := startSystem(t, systemOptions{workers: 2, concurrency: 2})
	s.fast = true // time the system, not the OpenAPI validator
	giant := s.submit(`{"kernel":"primes","params":{"to":1e10},"chunks":4096}`)
	deadline := time.Now().Add(time.Minute)
	for s.get(giant.ID).Chunks.Done < 16 {
		require.True(t, time.Now().Before(deadline), "the giant job does not progress")
		time.Sleep(20 * time.Millisecond)
	}

	var worst time.Duration
	for range 3 {
		start := time.Now()
		small := s.submit(`{"kernel":"stats","params":{"values":[1,2,3]}}`)
		for s.get(small.ID).Status != "succeeded" {
			require.Less(t, time.Since(start), 5*time.Second, "the small job is starved")
			time.Sleep(5 * time.Millisecond)
		}
		worst = max(worst, time.Since(start))
	}
	g := s.get(giant.ID)
	t.Logf("fairness: a 1-chunk job finished %s (worst of 3) after submission while a 4,096-chunk job ran (%d chunks done)",
		worst.Round(time.Millisecond), g.Chunks.Done)
	require.Equal(t, "running", g.Status, "the giant job was still running")
	require.Less(t, worst, time.Second)
	require.Equal(t, http.StatusAccepted, s.do(http.MethodPost, "/v1/jobs/"+giant.ID+"/cancel", nil).status)
}

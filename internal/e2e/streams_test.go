package e2e_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/redistest"
)

// patternSubscribers counts the clients of a Redis that hold a pattern
// subscription: the API's event hub is the only one crunch opens.
func patternSubscribers(t *testing.T, rdb redis.UniversalClient) int {
	t.Helper()
	list, err := rdb.ClientList(t.Context()).Result()
	require.NoError(t, err)
	n := 0
	for _, line := range strings.Split(list, "\n") {
		for _, field := range strings.Fields(line) {
			if strings.HasPrefix(field, "psub=") && field != "psub=0" {
				n++
			}
		}
	}
	return n
}

// Hundreds of streams watching jobs share one Redis subscription of the
// API process; every stream still sees its job to the end, and the
// subscription closes with the last stream.
func TestManyStreamsShareOneSubscription(t *testing.T) {
	t.Parallel()
	const streams = 300
	srv := redistest.StartServer(t, redistest.ServerOptions{})
	s := startSystem(t, systemOptions{redisURL: "redis://" + srv.Addr + "/0", concurrency: 2,
		api: func(c *api.Config) { c.TenantMaxStreams = streams }})
	jobs := []job{
		s.submit(`{"kernel":"primes","params":{"to":2e7},"chunks":8}`),
		s.submit(`{"kernel":"pi","params":{"samples":4e7},"chunks":8}`),
	}
	var opened sync.WaitGroup
	opened.Add(streams)
	var done sync.WaitGroup
	results := make([][]sseEvent, streams)
	for i := range streams {
		done.Go(func() {
			var once sync.Once
			sys := *s // each stream its own copy, for its own onFirstEvent
			sys.onFirstEvent = func() { once.Do(opened.Done) }
			results[i] = sys.readEvents(jobs[i%len(jobs)].ID, "")
		})
	}
	opened.Wait()
	require.Equal(t, 1, patternSubscribers(t, s.rdb), "%d open streams, one subscription", streams)
	s.addWorker() // only now does any job run
	done.Wait()
	for i, events := range results {
		require.NotEmpty(t, events)
		last := events[len(events)-1]
		require.Equal(t, "succeeded", last.job.Status, "stream %d ends with the terminal status", i)
		require.Equal(t, jobs[i%len(jobs)].ID, last.job.ID)
		for k := 1; k < len(events); k++ {
			require.GreaterOrEqual(t, events[k].job.Chunks.Done, events[k-1].job.Chunks.Done, "progress never goes back")
		}
	}
	require.Eventually(t, func() bool { return patternSubscribers(t, s.rdb) == 0 }, 5*time.Second, 20*time.Millisecond,
		"the subscription closes with the last stream")
}

// A tenant may hold TenantMaxStreams streams open on one API process; one
// more is a 429 problem with Retry-After, until one closes.
func TestStreamsPerTenantAreCapped(t *testing.T) {
	t.Parallel()
	const limit = 3
	s := startSystem(t, systemOptions{api: func(c *api.Config) { c.TenantMaxStreams = limit }}) // no worker: jobs stay queued
	j := s.submit(`{"kernel":"pi","params":{"samples":1000}}`)
	var opened sync.WaitGroup
	opened.Add(limit)
	var streams []*http.Response
	for range limit {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+"/v1/jobs/"+j.ID+"/events", nil)
		require.NoError(t, err)
		res, err := s.client.Do(req)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode)
		streams = append(streams, res)
		opened.Done()
	}
	opened.Wait()
	over := s.do(http.MethodGet, "/v1/jobs/"+j.ID+"/events", nil)
	require.Equal(t, http.StatusTooManyRequests, over.status, "%s", over.body)
	require.Equal(t, "application/problem+json", over.header.Get("Content-Type"))
	require.NotEmpty(t, over.header.Get("Retry-After"))
	require.Contains(t, string(over.body), "event streams")

	streams[0].Body.Close()
	require.Eventually(t, func() bool {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.url+"/v1/jobs/"+j.ID+"/events", nil)
		require.NoError(t, err)
		res, err := s.client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 5*time.Second, 50*time.Millisecond, "a closed stream frees its place")
	for _, res := range streams[1:] {
		res.Body.Close()
	}
}

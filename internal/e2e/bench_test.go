package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/redistest"
)

// BenchmarkPickupLatency compares, side by side, how long an idle asynq
// server takes to start a newly enqueued task with asynq's default
// TaskCheckInterval (1 s) and with the 20 ms crunch workers use.
// Run with a fixed count: go test -run '^$' -bench PickupLatency -benchtime 30x.
func BenchmarkPickupLatency(b *testing.B) {
	for _, interval := range []time.Duration{time.Second, 20 * time.Millisecond} {
		b.Run(fmt.Sprintf("check=%s", interval), func(b *testing.B) {
			rdb := redistest.Client(b)
			q := redistest.Namespace(b)
			started := make(chan time.Time, 1)
			srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
				Concurrency: 1, Queues: map[string]int{q: 1}, TaskCheckInterval: interval,
				LogLevel: asynq.ErrorLevel,
			})
			mux := asynq.NewServeMux()
			mux.HandleFunc("noop", func(context.Context, *asynq.Task) error { started <- time.Now(); return nil })
			require.NoError(b, srv.Start(mux))
			defer srv.Shutdown()
			client := asynq.NewClientFromRedisClient(rdb)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				time.Sleep(rand.N(50 * time.Millisecond)) // arrive at a random point of the idle wait
				t0 := time.Now()
				_, err := client.Enqueue(asynq.NewTask("noop", nil), asynq.Queue(q))
				require.NoError(b, err)
				lat = append(lat, (<-started).Sub(t0))
			}
			b.StopTimer()
			reportPercentiles(b, lat)
		})
	}
}

// BenchmarkJobRoundTrip is the latency a client sees for a tiny job: POST,
// then poll GET every 5 ms until it has succeeded, with two workers.
func BenchmarkJobRoundTrip(b *testing.B) {
	s := benchSystem(b, 2)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		j := s.submit(`{"kernel":"stats","params":{"values":[1,2,3]},"chunks":2}`)
		for s.get(j.ID).Status != "succeeded" {
			time.Sleep(5 * time.Millisecond)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

// BenchmarkCreateJob is the API's submission throughput: POST /v1/jobs from
// parallel clients (validate, store, enqueue, 202), no workers running.
func BenchmarkCreateJob(b *testing.B) {
	s := benchSystem(b, 0)
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := s.client.Post(s.url+"/v1/jobs", "application/json",
				stringsReader(`{"kernel":"primes","params":{"to":1000}}`))
			if err != nil {
				b.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusAccepted {
				b.Errorf("status %d", res.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

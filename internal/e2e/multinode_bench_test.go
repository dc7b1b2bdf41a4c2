package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/worker"
)

// BenchmarkChunkThroughput is how many chunks per second three in-process
// workers (concurrency 4 each) get through on one Redis server, on a Redis
// Cluster of one master and on one of three masters, with one, three or six
// chunk shards per priority. One op is a batch of 4 jobs of 128 tiny
// chunks each, submitted at once and waited for.
// Run: go test -run '^$' -bench ChunkThroughput -benchtime 3x -count 3 ./internal/e2e/
func BenchmarkChunkThroughput(b *testing.B) {
	quietRedisLog()
	single := func(b *testing.B) string { return redistest.StartServer(b, redistest.ServerOptions{}).URL }
	cluster := func(masters int) func(b *testing.B) string {
		return func(b *testing.B) string {
			return redistest.StartCluster(b, redistest.ClusterOptions{Masters: masters}).URL
		}
	}
	for _, setup := range []struct {
		name   string
		url    func(b *testing.B) string
		shards int // 0: the default for the client
	}{
		{"single/shards=1", single, 0},
		{"single/shards=6", single, 6},
		{"cluster-1-master/shards=6", cluster(1), 0},
		{"cluster-3-masters/shards=3", cluster(3), 3},
		{"cluster-3-masters/shards=6", cluster(3), 0},
	} {
		b.Run(setup.name, func(b *testing.B) {
			s := startSystem(b, systemOptions{workers: 3, concurrency: 4, redisURL: setup.url(b),
				api:    func(c *api.Config) { c.ChunkShards = setup.shards },
				worker: func(c *worker.Config) { c.Window, c.ChunkShards = 32, setup.shards }})
			s.fast = true
			const jobs, chunks = 4, 128
			b.ResetTimer()
			for range b.N {
				ids := make([]string, 0, jobs)
				for range jobs {
					ids = append(ids, s.submit(fmt.Sprintf(`{"kernel":"primes","params":{"to":%d},"chunks":%d}`, chunks*1000, chunks)).ID)
				}
				for _, id := range ids {
					for s.get(id).Status != "succeeded" {
						time.Sleep(5 * time.Millisecond)
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*jobs*chunks)/b.Elapsed().Seconds(), "chunks/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkSubmitWait is the latency of POST /v1/jobs on a master with two
// replicas and three sentinels, without WAIT and waiting for one and for
// two replicas, side by side on the same Redis.
// Run: go test -run '^$' -bench SubmitWait -benchtime 300x -count 3 ./internal/e2e/
func BenchmarkSubmitWait(b *testing.B) {
	quietRedisLog()
	sen := redistest.StartSentinel(b, redistest.SentinelOptions{})
	for _, n := range []int{0, 1, 2} {
		b.Run(fmt.Sprintf("wait=%d", n), func(b *testing.B) {
			s := startSystem(b, systemOptions{redisURL: sen.URL, api: func(c *api.Config) { c.RedisWaitReplicas = n }})
			s.fast = true
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				res, err := s.client.Post(s.url+"/v1/jobs", "application/json", stringsReader(`{"kernel":"primes","params":{"to":1000}}`))
				require.NoError(b, err)
				res.Body.Close()
				require.Equal(b, http.StatusAccepted, res.StatusCode)
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			reportPercentiles(b, lat)
		})
	}
}

// quietRedisLog silences go-redis's own log lines (the failover client
// prints one per master lookup), which would break the benchmark output.
func quietRedisLog() { redis.SetLogger(silentLogger{}) }

type silentLogger struct{}

func (silentLogger) Printf(context.Context, string, ...any) {}

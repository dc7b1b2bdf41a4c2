package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/internal/webhook"
	"github.com/crunchjobs/crunch/internal/worker"
)

// Tests of crunch on Redis beyond one node: a master with two replicas and
// three sentinels, and a Redis Cluster of three masters, each started from
// Debian's redis-server and redis-sentinel for the test.

// multiNodeSystem is webhookSystem on the Redis at url.
func multiNodeSystem(t *testing.T, url string, workers int, apiCfg func(*api.Config)) *system {
	return startSystem(t, systemOptions{workers: workers, concurrency: 2, redisURL: url,
		api: func(c *api.Config) {
			c.WebhookSecret, c.WebhookAllowPrivate = testSecret, true
			if apiCfg != nil {
				apiCfg(c)
			}
		},
		worker: func(c *worker.Config) { c.WebhookSecret, c.WebhookAllowPrivate = testSecret, true },
	})
}

// names are the system's queue names, with the shards its clients use.
func (s *system) names() queue.Names {
	return queue.ShardedNamesFor(s.ns, queue.DefaultShards(s.rdb))
}

// activeChunkTasks counts the tasks asynq has in flight in every chunk
// shard and the control queue.
func (s *system) activeChunkTasks() int {
	s.t.Helper()
	insp := asynq.NewInspectorFromRedisClient(s.rdb)
	n := 0
	for q := range s.names().ChunkWeights() {
		if info, err := insp.GetQueueInfo(q); err == nil {
			n += info.Active
		}
	}
	if info, err := insp.GetQueueInfo(s.names().Control); err == nil {
		n += info.Active
	}
	return n
}

// checkJobFlow runs the contract's job flow on s: exact results over two
// workers, invariance across chunkings, cancel, SSE, a signed webhook,
// idempotency, listing, health and metrics.
func checkJobFlow(t *testing.T, s *system) {
	t.Run("exact results over two workers", func(t *testing.T) {
		s := *s
		s.t = t
		j := s.submit(`{"kernel":"primes","params":{"to":1e8},"chunks":24}`)
		j = s.wait(j.ID, 3*time.Minute)
		require.Equal(t, "succeeded", j.Status, "error: %+v", j.Error)
		var res struct{ Count, First, Last int64 }
		require.NoError(t, json.Unmarshal(j.Result, &res))
		require.Equal(t, struct{ Count, First, Last int64 }{5761455, 2, 99999989}, res)
		seen := map[string]int{}
		for _, c := range s.chunks(j.ID) {
			require.Equal(t, "succeeded", c.Status)
			seen[*c.Worker]++
		}
		require.Len(t, seen, 2, "chunks ran on both workers: %v", seen)

		j = s.wait(s.submit(`{"kernel":"stats","params":{"values":[1e16,1,-1e16,3.5]},"chunks":3}`).ID, time.Minute)
		require.Equal(t, "succeeded", j.Status)
		var st struct{ Count, Sum float64 }
		require.NoError(t, json.Unmarshal(j.Result, &st))
		require.Equal(t, struct{ Count, Sum float64 }{4, 4.5}, st)

		var first json.RawMessage
		for _, n := range []int{1, 7, 16} {
			j := s.wait(s.submit(fmt.Sprintf(`{"kernel":"pi","params":{"samples":99991,"seed":42},"chunks":%d}`, n)).ID, time.Minute)
			require.Equal(t, "succeeded", j.Status)
			if first == nil {
				first = j.Result
			}
			require.Equal(t, string(first), string(j.Result), "the same result with %d chunks", n)
		}
	})

	t.Run("cancel stops running chunks", func(t *testing.T) {
		s := *s
		s.t = t
		j := s.submit(longPrimes)
		s.waitRunningChunk(j.ID)
		r := s.do(http.MethodPost, "/v1/jobs/"+j.ID+"/cancel", nil)
		require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
		canceledAt := time.Now()
		var got job
		r.json(t, &got)
		require.Equal(t, "canceled", got.Status)
		for s.activeChunkTasks() > 0 {
			require.Less(t, time.Since(canceledAt), 2*time.Second, "chunks still running after cancel")
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Second)
		after := s.get(j.ID)
		require.Equal(t, "canceled", after.Status)
		require.Equal(t, got.Chunks.Done, after.Chunks.Done, "nothing completes after the cancel")
		r = s.do(http.MethodPost, "/v1/jobs/"+j.ID+"/cancel", nil)
		require.Equal(t, http.StatusConflict, r.status)
	})

	t.Run("events and webhook", func(t *testing.T) {
		s := *s
		s.t = t
		rc := newReceiver(t, func(int, string) int { return http.StatusNoContent })
		j := s.submit(fmt.Sprintf(`{"kernel":"primes","params":{"to":2000000},"chunks":5,
			"webhook":{"url":%q,"events":["job.started","job.succeeded"]}}`, rc.URL+"/hook"))
		events := s.readEvents(j.ID, "")
		require.NotEmpty(t, events)
		last := events[len(events)-1]
		require.Equal(t, "status", last.event)
		require.Equal(t, "succeeded", last.job.Status)
		var res struct{ Count int64 }
		require.NoError(t, json.Unmarshal(last.job.Result, &res))
		require.EqualValues(t, 148933, res.Count)

		got := rc.waitFor(t, 2, 30*time.Second)
		types := map[string]int{}
		for _, d := range got {
			require.NoError(t, webhook.Verify(testSecret, d.header, d.body), "signature verifies")
			var ev struct {
				Type string
				Data job
			}
			require.NoError(t, json.Unmarshal(d.body, &ev))
			require.Equal(t, j.ID, ev.Data.ID)
			types[ev.Type]++
		}
		require.Equal(t, map[string]int{"job.started": 1, "job.succeeded": 1}, types)
		require.Eventually(t, func() bool {
			r := s.do(http.MethodGet, "/v1/jobs/"+j.ID+"/deliveries", nil)
			var log struct{ Deliveries []json.RawMessage }
			r.json(t, &log)
			return r.status == http.StatusOK && len(log.Deliveries) == 2
		}, 10*time.Second, 50*time.Millisecond, "both attempts are in the delivery log")
	})

	t.Run("idempotency and listing", func(t *testing.T) {
		s := *s
		s.t = t
		body := []byte(`{"kernel":"stats","params":{"values":[1,2]},"metadata":{"n":1}}`)
		r1 := s.do(http.MethodPost, "/v1/jobs", body, "Idempotency-Key", "multi-node-key")
		require.Equal(t, http.StatusAccepted, r1.status, "body: %s", r1.body)
		var j1, j2 job
		r1.json(t, &j1)
		r2 := s.do(http.MethodPost, "/v1/jobs", body, "Idempotency-Key", "multi-node-key")
		require.Equal(t, http.StatusOK, r2.status, "body: %s", r2.body)
		r2.json(t, &j2)
		require.Equal(t, j1.ID, j2.ID)
		r3 := s.do(http.MethodPost, "/v1/jobs", []byte(`{"kernel":"stats","params":{"values":[3]}}`), "Idempotency-Key", "multi-node-key")
		require.Equal(t, http.StatusConflict, r3.status)
		r3.problem(t)

		var ids []string
		for range 5 {
			ids = append(ids, s.submit(`{"kernel":"pi","params":{"samples":10}}`).ID)
		}
		var listed []string
		cursor := ""
		for range 10 {
			path := "/v1/jobs?kernel=pi&limit=2"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			r := s.do(http.MethodGet, path, nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			var page struct {
				Jobs       []job
				NextCursor *string `json:"next_cursor"`
			}
			r.json(t, &page)
			for _, j := range page.Jobs {
				listed = append(listed, j.ID)
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		// Newest first; the pi jobs of the flow above come after these.
		require.GreaterOrEqual(t, len(listed), len(ids))
		for i, id := range ids {
			require.Equal(t, id, listed[len(ids)-1-i])
		}
	})

	t.Run("health and metrics", func(t *testing.T) {
		s := *s
		s.t = t
		require.Equal(t, http.StatusOK, s.do(http.MethodGet, "/readyz", nil).status)
		r := s.do(http.MethodGet, "/metrics", nil)
		require.Equal(t, http.StatusOK, r.status)
		require.Contains(t, string(r.body), `queue="`+s.names().Normal+`"`, "the asynq queue collector reads the queues")
	})
}

// The contract's job flow on a master with two replicas and three
// sentinels, with a submission waiting for one replica.
func TestJobFlowOnSentinel(t *testing.T) {
	t.Parallel()
	sen := redistest.StartSentinel(t, redistest.SentinelOptions{Password: "data-node-pw"})
	s := multiNodeSystem(t, sen.URL, 2, func(c *api.Config) { c.RedisWaitReplicas = 2 })
	checkJobFlow(t, s)
}

// The contract's job flow on a Redis Cluster of three masters: nothing
// fails with a cross-slot error, and the chunk shards spread the chunks
// over every master.
func TestJobFlowOnCluster(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{Password: "data-node-pw"})
	s := multiNodeSystem(t, cl.URL, 2, nil)
	names := s.names()
	require.Equal(t, queue.ClusterShardsDefault, names.Shards())

	insp := asynq.NewInspectorFromRedisClient(s.rdb)
	masterOf := func(q string) string {
		nodes, err := insp.ClusterNodes(q)
		require.NoError(t, err)
		require.NotEmpty(t, nodes)
		return nodes[0].Addr
	}
	for _, p := range []string{queue.PriorityHigh, queue.PriorityNormal, queue.PriorityLow} {
		perMaster := map[string]int{}
		for _, q := range names.ChunkQueues(p) {
			perMaster[masterOf(q)]++
		}
		require.Len(t, perMaster, 3, "the %s shards sit on every master: %v", p, perMaster)
		for m, n := range perMaster {
			require.Equal(t, 2, n, "two %s shards on master %s", p, m)
		}
	}

	checkJobFlow(t, s)

	// The 24-chunk job of the flow went through every normal shard.
	for _, q := range names.ChunkQueues(queue.PriorityNormal) {
		info, err := insp.GetQueueInfo(q)
		require.NoError(t, err, q)
		require.Positive(t, info.Processed, "shard %s (on %s) ran chunks", q, masterOf(q))
	}

	// Every store operation that touches several keys at once, on the
	// Cluster: none may fail with CROSSSLOT.
	ctx := t.Context()
	st := s.store
	const w = "cluster-probe:1"
	require.NoError(t, st.Heartbeat(ctx, w, 2*time.Second))
	require.NoError(t, st.Track(ctx, store.RunningTask{Worker: w, JobID: "job_x", Step: store.StepChunk, Index: 3}))
	running, err := st.RunningOn(ctx, w)
	require.NoError(t, err)
	require.Len(t, running, 1)
	require.NoError(t, st.Forget(ctx, w), "forgetWorker touches three liveness keys")
	require.NoError(t, st.Retire(ctx, w), "Retire deletes two liveness keys at once")
	_, _, err = st.Orphans(ctx)
	require.NoError(t, err)
	_, err = st.LeadSweeper(ctx, w, time.Second)
	require.NoError(t, err)
	ok, err := st.AdmitActive(ctx, "tenant-x", 5)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, st.ReleaseActive(ctx, "tenant-x"))
	require.NoError(t, st.WaitReplicas(ctx, 0, time.Second))
	err = st.WaitReplicas(ctx, 1, 100*time.Millisecond)
	require.ErrorIs(t, err, store.ErrNotReplicated, "WAIT reached a master (these have no replicas): %v", err)
}

// waitOrDump is wait, but on a timeout it logs the job's chunks and the
// state of its queues before failing.
func (s *system) waitOrDump(id string, timeout time.Duration) job {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j := s.get(id)
		switch j.Status {
		case "succeeded", "failed", "canceled":
			return j
		}
		if time.Now().After(deadline) {
			insp := asynq.NewInspectorFromRedisClient(s.rdb)
			qs := []string{s.names().Control}
			for q := range s.names().ChunkWeights() {
				qs = append(qs, q)
			}
			for _, q := range qs {
				if info, err := insp.GetQueueInfo(q); err == nil {
					s.t.Logf("queue %s: pending %d active %d scheduled %d retry %d archived %d", q, info.Pending, info.Active, info.Scheduled, info.Retry, info.Archived)
				}
				if active, err := insp.ListActiveTasks(q); err == nil {
					for _, a := range active {
						s.t.Logf("  active %s %s", a.ID, a.Payload)
					}
				}
			}
			for _, c := range s.chunks(id) {
				if c.Status != "succeeded" {
					w := ""
					if c.Worker != nil {
						w = *c.Worker
					}
					s.t.Logf("chunk %d: %s on %s, %d attempts", c.Index, c.Status, w, c.Attempts)
				}
			}
			s.t.Fatalf("job %s still %s after %s (chunks %+v)", id, j.Status, timeout, j.Chunks)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A poll is one request made while Redis fails over.
type poll struct {
	at       time.Duration // since the failover began
	path     string
	status   int // 0: no answer
	problem  bool
	took     time.Duration
	transErr error
}

// pollDuring requests paths every 50 ms until stop is closed.
func pollDuring(baseURL string, paths []string, began time.Time, stop <-chan struct{}) []poll {
	client := &http.Client{Timeout: 15 * time.Second}
	var polls []poll
	for {
		for _, p := range paths {
			start := time.Now()
			res, err := client.Get(baseURL + p)
			pl := poll{at: start.Sub(began), path: p, transErr: err}
			if err == nil {
				pl.status = res.StatusCode
				pl.problem = res.Header.Get("Content-Type") == "application/problem+json"
				res.Body.Close()
			}
			pl.took = time.Since(start)
			polls = append(polls, pl)
		}
		select {
		case <-stop:
			return polls
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// During a Sentinel failover under a running job (the master killed with
// SIGKILL, or SENTINEL FAILOVER) the API answers 503 problem+json while no
// master is known, never 500 and never hangs; API and workers follow the
// new master by themselves; the job finishes with the exact result.
func TestSentinelFailoverDuringAJob(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		fail func(ctx context.Context, t *testing.T, sen *redistest.Sentinel, master *redistest.Server)
	}{
		{"master killed", func(_ context.Context, _ *testing.T, _ *redistest.Sentinel, master *redistest.Server) { master.Kill() }},
		{"SENTINEL FAILOVER", func(ctx context.Context, t *testing.T, sen *redistest.Sentinel, _ *redistest.Server) {
			require.NoError(t, sen.Failover(ctx))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sen := redistest.StartSentinel(t, redistest.SentinelOptions{})
			s := multiNodeSystem(t, sen.URL, 2, func(c *api.Config) { c.RedisWaitReplicas = 1 })
			// Many small chunks: the job lasts through the failover on
			// Redis round trips, not on CPU, which this machine lacks.
			j := s.submit(`{"kernel":"primes","params":{"to":1e8},"chunks":256}`)
			s.waitRunningChunk(j.ID)

			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			master, err := sen.Master(ctx)
			require.NoError(t, err)
			stop := make(chan struct{})
			pollsc := make(chan []poll, 1)
			began := time.Now()
			go func() { pollsc <- pollDuring(s.url, []string{"/readyz", "/v1/jobs/" + j.ID}, began, stop) }()

			tt.fail(ctx, t, sen, master)
			newMaster, err := sen.WaitNewMaster(ctx, master.Addr)
			require.NoError(t, err)
			elected := time.Since(began)

			// Both follow the new master by themselves: the API is ready
			// again, and the job finishes.
			var followed time.Duration
			require.Eventually(t, func() bool {
				r := s.send(false, http.MethodGet, "/readyz", nil)
				followed = time.Since(began)
				return r.status == http.StatusOK
			}, 20*time.Second, 20*time.Millisecond, "the API follows the new master %s", newMaster)
			time.Sleep(time.Second) // a few polls on the new master
			close(stop)
			polls := <-pollsc

			done := s.waitOrDump(j.ID, 4*time.Minute)
			require.Equal(t, "succeeded", done.Status, "error: %+v", done.Error)
			var res struct{ Count int64 }
			require.NoError(t, json.Unmarshal(done.Result, &res))
			require.EqualValues(t, 5761455, res.Count, "π(10^8)")
			require.Equal(t, 256, done.Chunks.Done)
			workers := map[string]bool{}
			for _, c := range s.chunks(j.ID) {
				workers[*c.Worker] = true
			}
			require.Len(t, workers, 2, "both workers ran chunks")

			var first503, last503 time.Duration = -1, -1
			var trace []string
			for _, p := range polls {
				require.NoError(t, p.transErr, "%s at %s: no answer", p.path, p.at)
				require.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, p.status, "%s at %s", p.path, p.at)
				require.Less(t, p.took, 8*time.Second, "%s at %s hung", p.path, p.at)
				trace = append(trace, fmt.Sprintf("%s@%s:%d", strings.TrimPrefix(p.path, "/v1/jobs/"+j.ID), p.at.Round(10*time.Millisecond), p.status))
				if p.status == http.StatusServiceUnavailable {
					require.True(t, p.problem, "a 503 is problem+json")
					if first503 < 0 {
						first503 = p.at
					}
					last503 = p.at + p.took
					require.Less(t, p.at, elected+10*time.Second, "503 only around the failover")
				}
			}
			t.Logf("failover (%s): new master %s elected after %s; API ready again after %s; 503 window %s to %s; job done, %d chunks, exact; polls: %s",
				tt.name, newMaster, elected.Round(time.Millisecond), followed.Round(time.Millisecond),
				first503.Round(time.Millisecond), last503.Round(time.Millisecond), done.Chunks.Done, strings.Join(trace, " "))
		})
	}
}

// With CRUNCH_REDIS_WAIT_REPLICAS a job answered 202 survives the master
// being killed right after: every job accepted while the master dies is
// there after the failover, and finishes.
func TestAcceptedJobsSurviveMasterKill(t *testing.T) {
	t.Parallel()
	sen := redistest.StartSentinel(t, redistest.SentinelOptions{})
	s := multiNodeSystem(t, sen.URL, 0, func(c *api.Config) { c.RedisWaitReplicas, c.RedisWaitTimeout = 1, time.Second })
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	master, err := sen.Master(ctx)
	require.NoError(t, err)

	// Submit from four clients; kill the master right after the 20th 202,
	// and go on submitting for one more second.
	var (
		mu       sync.Mutex
		accepted []string
		refused  int
	)
	killed, stop := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 15 * time.Second}
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"kernel":"stats","params":{"values":[%d,%d]},"chunks":2}`, g, i)
				res, err := client.Post(s.url+"/v1/jobs", "application/json", strings.NewReader(body))
				if err != nil {
					continue
				}
				var j job
				_ = json.NewDecoder(res.Body).Decode(&j)
				res.Body.Close()
				mu.Lock()
				if res.StatusCode == http.StatusAccepted {
					accepted = append(accepted, j.ID)
					if len(accepted) == 20 {
						once.Do(func() { master.Kill(); close(killed) })
					}
				} else {
					refused++
				}
				mu.Unlock()
			}
		})
	}
	select {
	case <-killed:
	case <-time.After(30 * time.Second):
		t.Fatal("20 jobs were not accepted within 30 s")
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	newMaster, err := sen.WaitNewMaster(ctx, master.Addr)
	require.NoError(t, err)
	t.Logf("%d jobs accepted (%d refused) before and while the master %s was killed; new master %s", len(accepted), refused, master.Addr, newMaster)

	require.Eventually(t, func() bool {
		return s.send(false, http.MethodGet, "/readyz", nil).status == http.StatusOK
	}, 20*time.Second, 20*time.Millisecond)
	for _, id := range accepted {
		r := s.do(http.MethodGet, "/v1/jobs/"+id, nil)
		require.Equal(t, http.StatusOK, r.status, "job %s was answered 202 before the master died: it must survive", id)
	}
	s.addWorker()
	s.addWorker()
	for _, id := range accepted {
		j := s.wait(id, 2*time.Minute)
		require.Equal(t, "succeeded", j.Status, "job %s: %+v", id, j.Error)
	}
}

// A job that no replica acknowledges within the wait is answered 503, not
// 202; it exists, and a retry with its Idempotency-Key finds it.
func TestUnreplicatedJobIsNot202(t *testing.T) {
	t.Parallel()
	sen := redistest.StartSentinel(t, redistest.SentinelOptions{})
	s := multiNodeSystem(t, sen.URL, 1, func(c *api.Config) { c.RedisWaitReplicas, c.RedisWaitTimeout = 1, 300*time.Millisecond })
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	master, err := sen.Master(ctx)
	require.NoError(t, err)
	var replicas []*redistest.Server
	for _, n := range sen.Nodes {
		if n != master {
			replicas = append(replicas, n)
		}
	}
	body := []byte(`{"kernel":"stats","params":{"values":[5,6]}}`)
	for _, r := range replicas {
		r.Pause()
	}
	start := time.Now()
	r := s.do(http.MethodPost, "/v1/jobs", body, "Idempotency-Key", "unreplicated")
	took := time.Since(start)
	for _, r := range replicas {
		r.Resume()
	}
	require.Equal(t, http.StatusServiceUnavailable, r.status, "body: %s", r.body)
	require.Equal(t, "unavailable", r.problem(t).Type)
	require.Less(t, took, 5*time.Second)

	var j job
	require.Eventually(t, func() bool {
		r := s.send(false, http.MethodPost, "/v1/jobs", body, "Idempotency-Key", "unreplicated")
		if r.status != http.StatusOK {
			return false
		}
		return json.Unmarshal(r.body, &j) == nil
	}, 20*time.Second, 50*time.Millisecond, "the retry finds the job")
	j = s.wait(j.ID, time.Minute)
	require.Equal(t, "succeeded", j.Status)

	// WaitReplicas itself: the fence goes through.
	require.NoError(t, s.store.WaitReplicas(ctx, 2, 5*time.Second))
	err = s.store.WaitReplicas(ctx, 3, 100*time.Millisecond)
	require.True(t, errors.Is(err, store.ErrNotReplicated), "only two replicas: %v", err)
}

// The api and worker binaries on each form of REDIS_URL, as a user runs
// them: a job spreads over two worker processes and is exact; on Sentinel
// the master is then killed and the API's and the workers' /readyz answer
// only 200 or 503 and are 200 again once the new master is elected, and a
// second job succeeds. A malformed URL stops the api at start.
func TestBinariesBeyondOneNode(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binaries; skipped with -short")
	}
	for _, setup := range []string{"sentinel", "cluster"} {
		t.Run(setup, func(t *testing.T) {
			t.Parallel()
			var url string
			var sen *redistest.Sentinel
			if setup == "sentinel" {
				sen = redistest.StartSentinel(t, redistest.SentinelOptions{Password: "bin-pw"})
				url = sen.URL
			} else {
				url = redistest.StartCluster(t, redistest.ClusterOptions{Password: "bin-pw"}).URL
			}
			common := []string{"REDIS_URL=" + url, "CRUNCH_NAMESPACE=" + redistest.Namespace(t), "CRUNCH_LOG_LEVEL=info"}
			api := startProc(t, "api", append(common, "CRUNCH_HTTP_ADDR=127.0.0.1:0")...)
			base := "http://" + api.listening(t)
			var readyz []string
			for i := range 2 {
				w := startProc(t, "worker", append(common, fmt.Sprintf("CRUNCH_WORKER_ID=bin-%d", i+1),
					"CRUNCH_WORKER_CONCURRENCY=1", "CRUNCH_WORKER_HTTP_ADDR=127.0.0.1:0")...)
				readyz = append(readyz, "http://"+w.listening(t)+"/readyz")
			}
			readyz = append(readyz, base+"/readyz")
			for _, u := range readyz {
				res, err := http.Get(u)
				require.NoError(t, err)
				res.Body.Close()
				require.Equal(t, http.StatusOK, res.StatusCode, u)
			}

			s := &system{t: t, url: base, client: http.DefaultClient}
			run := func() {
				j := s.wait(s.submit(`{"kernel":"primes","params":{"to":2e7},"chunks":16}`).ID, 3*time.Minute)
				require.Equal(t, "succeeded", j.Status, "error: %+v", j.Error)
				var res struct{ Count int64 }
				require.NoError(t, json.Unmarshal(j.Result, &res))
				require.EqualValues(t, 1270607, res.Count, "π(2·10^7)")
				seen := map[string]bool{}
				for _, c := range s.chunks(j.ID) {
					seen[*c.Worker] = true
				}
				require.Len(t, seen, 2, "chunks ran on both worker processes")
			}
			run()
			if sen == nil {
				return
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			master, err := sen.Master(ctx)
			require.NoError(t, err)
			master.Kill()
			saw503 := map[string]bool{}
			client := &http.Client{Timeout: 10 * time.Second}
			deadline := time.Now().Add(30 * time.Second)
			for _, u := range readyz {
				for {
					res, err := client.Get(u)
					require.NoError(t, err, u)
					res.Body.Close()
					require.Contains(t, []int{http.StatusOK, http.StatusServiceUnavailable}, res.StatusCode, u)
					if res.StatusCode == http.StatusServiceUnavailable {
						require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), u)
						saw503[u] = true
					} else if _, err := sen.WaitNewMaster(ctx, master.Addr); err == nil {
						break // ready, and the sentinels agree on a new master
					}
					require.True(t, time.Now().Before(deadline), "%s not ready 30 s after the kill", u)
					time.Sleep(50 * time.Millisecond)
				}
			}
			t.Logf("503 seen during the failover: %v", saw503)
			run()
		})
	}
	t.Run("malformed URL", func(t *testing.T) {
		t.Parallel()
		p := startProc(t, "api", "REDIS_URL=redis-sentinel://127.0.0.1:1", "CRUNCH_HTTP_ADDR=127.0.0.1:0")
		select {
		case err := <-p.done:
			require.Error(t, err, "the api refuses to start")
		case <-time.After(30 * time.Second):
			t.Fatal("the api did not exit")
		}
	})
}

package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/store"
)

// Fault drills: real processes killed and real Redis restarted. Each logs
// its figures (t.Logf), which RELIABILITY.md quotes.

// π(10^11), a known answer no chunking may change.
const (
	drillJob   = `{"kernel":"primes","params":{"to":1e11},"chunks":24}`
	drillCount = 4118054813
)

type cluster struct {
	ns      string
	api     *proc
	workers []*proc
	s       *system
}

func startCluster(t *testing.T, workers int, env ...string) *cluster {
	t.Helper()
	ns := redistest.Namespace(t)
	common := append([]string{"REDIS_URL=" + redistest.URL(t), "CRUNCH_NAMESPACE=" + ns, "CRUNCH_LOG_LEVEL=info"}, env...)
	c := &cluster{ns: ns, api: startProc(t, "api", append(common, "CRUNCH_HTTP_ADDR=127.0.0.1:0")...)}
	for i := range workers {
		c.workers = append(c.workers, startProc(t, "worker", append(common,
			fmt.Sprintf("CRUNCH_WORKER_ID=drill-%d", i+1), "CRUNCH_WORKER_CONCURRENCY=1")...))
	}
	c.s = &system{t: t, url: "http://" + c.api.listening(t), client: http.DefaultClient, fast: true}
	return c
}

// runningOn waits until a chunk of job id runs on worker and returns it.
func (s *system) runningOn(id, worker string) chunk {
	s.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		for _, c := range s.chunks(id) {
			if c.Status == "running" && c.Worker != nil && *c.Worker == worker {
				return c
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("no chunk of %s ran on %s", id, worker)
	return chunk{}
}

func requireDrillAnswer(t *testing.T, j job) {
	t.Helper()
	require.Equal(t, "succeeded", j.Status, "error: %+v", j.Error)
	var res struct{ Count int64 }
	require.NoError(t, json.Unmarshal(j.Result, &res))
	require.Equal(t, int64(drillCount), res.Count)
}

// A worker killed with SIGKILL while it runs a chunk: the job still
// completes with the exact answer, and the chunk is handed back within
// seconds (asynq alone takes about three minutes).
func TestDrillWorkerKilled(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 2)
	j := c.s.submit(drillJob)
	victim := c.s.runningOn(j.ID, "drill-1")
	require.NoError(t, c.workers[0].cmd.Process.Signal(syscall.SIGKILL))
	killed := time.Now()

	// The killed chunk is handed back, then runs again on the survivor.
	var handedBack, restarted time.Time
	for restarted.IsZero() {
		require.Less(t, time.Since(killed), 60*time.Second, "chunk %d not running again within 60 s", victim.Index)
		ch := c.s.chunks(j.ID)[victim.Index]
		if handedBack.IsZero() && ch.Status == "queued" && ch.Attempts >= 1 {
			handedBack = time.Now()
		}
		if ch.Worker != nil && *ch.Worker == "drill-2" {
			restarted = time.Now()
		}
		time.Sleep(20 * time.Millisecond)
	}
	recovery := restarted.Sub(killed)
	done := c.s.wait(j.ID, 3*time.Minute)
	requireDrillAnswer(t, done)
	t.Logf("SIGKILL drill: chunk %d of the killed worker handed back after %s, running again after %s; job done %s after the kill",
		victim.Index, handedBack.Sub(killed).Round(time.Millisecond), recovery.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	require.Less(t, recovery, 60*time.Second)
}

// slowSum is an exec kernel whose reduce takes params.sleep seconds, so
// that a drill can kill a worker while it runs the reduce: the built-in
// kernels' reduces now take milliseconds. Σ i for i < n is its answer.
const slowSum = `import json, sys, time
step, req = sys.argv[1], json.load(sys.stdin)
if step == "plan":
    out = {"extent": req["params"]["n"], "chunks": 8}
elif step == "run":
    out = sum(range(req["lo"], req["hi"]))
else:
    time.sleep(req["params"]["sleep"])
    out = {"result": {"sum": sum(req["partials"])}}
json.dump(out, sys.stdout)
`

// slowSumManifest writes slowSum and its manifest and returns the
// manifest's path.
func slowSumManifest(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	python := "python3"
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		python = "/usr/bin/python3" // Debian's starts in tens of ms; a pyenv shim takes far longer
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "slowsum.py"), []byte(slowSum), 0o644))
	manifest := fmt.Sprintf(`{"kernels": [{"name": "slowsum", "description": "Σ i for i < n, reduced slowly.",
  "params_schema": {"type": "object", "additionalProperties": false, "required": ["n", "sleep"],
    "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 1000000}, "sleep": {"type": "number", "minimum": 0, "maximum": 10}}},
  "command": [%q, %q]}]}`, python, filepath.Join(dir, "slowsum.py"))
	path := filepath.Join(dir, "kernels.json")
	require.NoError(t, os.WriteFile(path, []byte(manifest), 0o644))
	return path
}

// A worker SIGKILLed in the middle of a job's reduce: the sweeper hands the
// reduce step back, the other worker runs it, and the job ends with the
// exact answer well before asynq's own recovery (minutes).
func TestDrillWorkerKilledInReduce(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 2, "CRUNCH_KERNELS_FILE="+slowSumManifest(t))
	j := c.s.submit(`{"kernel":"slowsum","params":{"n":100000,"sleep":3},"chunks":8}`)
	st := store.New(redistest.Client(t), store.Config{Namespace: c.ns})
	reduce := store.RunningTask{JobID: j.ID, Step: store.StepReduce}
	var victim *proc
	deadline := time.Now().Add(time.Minute)
	for victim == nil {
		require.True(t, time.Now().Before(deadline), "no worker reduced %s", j.ID)
		for i, w := range []string{"drill-1", "drill-2"} {
			running, _ := st.RunningOn(t.Context(), w)
			if reduce.Worker = w; slices.Contains(running, reduce) {
				victim = c.workers[i]
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, victim.cmd.Process.Signal(syscall.SIGKILL))
	killed := time.Now()
	require.NotEqual(t, "succeeded", c.s.get(j.ID).Status, "the reduce ended before the kill landed")
	done := c.s.wait(j.ID, 3*time.Minute)
	recovery := time.Since(killed)
	require.Equal(t, "succeeded", done.Status, "error: %+v", done.Error)
	require.JSONEq(t, `{"sum": 4999950000}`, string(done.Result)) // Σ i for i < 10^5
	t.Logf("SIGKILL in reduce drill: job done %s after the worker was killed in its reduce", recovery.Round(time.Millisecond))
	require.Less(t, recovery, 60*time.Second)
}

// A worker stopped with SIGTERM finishes (or hands back) its running chunk
// and exits cleanly; the job completes exactly.
func TestDrillWorkerTerminated(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 2)
	j := c.s.submit(drillJob)
	c.s.runningOn(j.ID, "drill-1")
	start := time.Now()
	c.workers[0].stop(t, 30*time.Second)
	t.Logf("SIGTERM drill: worker exited cleanly %s after SIGTERM", time.Since(start).Round(time.Millisecond))
	requireDrillAnswer(t, c.s.wait(j.ID, 3*time.Minute))
	for _, ch := range c.s.chunks(j.ID) {
		require.Equal(t, "succeeded", ch.Status)
	}
}

// The API restarted while jobs run: nothing is lost, polling continues.
func TestDrillAPIRestarted(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 1)
	j := c.s.submit(`{"kernel":"primes","params":{"to":3e10},"chunks":12}`)
	c.api.stop(t, 20*time.Second)
	api := startProc(t, "api", append(c.api.cmd.Env[1:], "CRUNCH_HTTP_ADDR=127.0.0.1:0")...)
	c.s.url = "http://" + api.listening(t)
	done := c.s.wait(j.ID, 3*time.Minute)
	require.Equal(t, "succeeded", done.Status)
	var res struct{ Count int64 }
	require.NoError(t, json.Unmarshal(done.Result, &res))
	require.Equal(t, int64(1300005926), res.Count) // π(3·10^10)
}

// Redis restarted (AOF on) mid-job: /readyz is 503 and the API answers 503
// during the outage, both sides reconnect by themselves, and the accepted
// job completes exactly.
func TestDrillRedisRestarted(t *testing.T) {
	t.Parallel()
	srv := redistest.StartServer(t, redistest.ServerOptions{AppendOnly: true})
	s := startSystem(t, systemOptions{workers: 2, concurrency: 1, redisURL: srv.URL})
	s.fast = true
	j := s.submit(`{"kernel":"primes","params":{"to":2e9},"chunks":16}`)
	s.waitRunningChunk(j.ID)

	srv.Kill()
	down := time.Now()
	r := s.send(false, http.MethodGet, "/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	r = s.send(false, http.MethodPost, "/v1/jobs", []byte(`{"kernel":"stats","params":{"values":[1]}}`))
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	r = s.send(false, http.MethodGet, "/v1/jobs/"+j.ID, nil)
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.Less(t, time.Since(down), 10*time.Second, "503s came at once, not after hanging")
	time.Sleep(2 * time.Second)

	srv.Start()
	up := time.Now()
	for s.send(false, http.MethodGet, "/readyz", nil).status != http.StatusOK {
		require.Less(t, time.Since(up), 30*time.Second)
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("Redis drill: API ready again %s after Redis restarted", time.Since(up).Round(time.Millisecond))
	done := s.wait(j.ID, 3*time.Minute)
	require.Equal(t, "succeeded", done.Status, "error: %+v", done.Error)
	var res struct{ Count int64 }
	require.NoError(t, json.Unmarshal(done.Result, &res))
	require.Equal(t, int64(98222287), res.Count) // π(2·10^9)
	t.Logf("Redis drill: job done %s after Redis came back", time.Since(up).Round(time.Millisecond))
}

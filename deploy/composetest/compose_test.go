package composetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The number and sum of the primes below 10^n (OEIS A006880 and A046731).
var primesBelow = map[int64]primesResult{
	1e7:  {Count: 664579, Sum: "3203324994356"},
	1e8:  {Count: 5761455, Sum: "279209790387276"},
	1e9:  {Count: 50847534, Sum: "24739512092254535"},
	1e10: {Count: 455052511, Sum: "2220822432581729238"},
}

type primesResult struct {
	Count int64  `json:"count"`
	Sum   string `json:"sum"`
}

type job struct {
	ID     string          `json:"id"`
	Status string          `json:"status"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
	Chunks struct {
		Total  int `json:"total"`
		Done   int `json:"done"`
		Failed int `json:"failed"`
	} `json:"chunks"`
}

type chunk struct {
	Index     int       `json:"index"`
	Status    string    `json:"status"`
	Worker    string    `json:"worker"`
	Attempts  int       `json:"attempts"`
	StartedAt time.Time `json:"started_at"`
	Duration  float64   `json:"duration_ms"`
}

// host is the container hostname part of a worker id "hostname:pid".
func (c chunk) host() string { h, _, _ := strings.Cut(c.Worker, ":"); return h }

// stack drives the Compose project that scripts/compose-test.sh started.
type stack struct {
	api     string   // http://127.0.0.1:port
	compose []string // the docker-compose command, e.g. ["docker-compose"]
	project string
	http    *http.Client

	mu      sync.Mutex
	figures []string
}

func setup(t *testing.T) *stack {
	if os.Getenv("CRUNCH_COMPOSE_TEST") != "1" {
		t.Skip("the Compose drills run under scripts/compose-test.sh (make compose-test), which sets CRUNCH_COMPOSE_TEST=1")
	}
	s := &stack{
		api:     os.Getenv("CRUNCH_COMPOSE_API"),
		compose: strings.Fields(os.Getenv("CRUNCH_COMPOSE_CMD")),
		project: os.Getenv("COMPOSE_PROJECT_NAME"),
		http:    &http.Client{Timeout: 5 * time.Second},
	}
	if s.api == "" || len(s.compose) == 0 || s.project == "" {
		t.Fatal("CRUNCH_COMPOSE_API, CRUNCH_COMPOSE_CMD and COMPOSE_PROJECT_NAME must be set (scripts/compose-test.sh sets them)")
	}
	if _, err := s.docker(t.Context(), "info", "--format", "{{.ServerVersion}}"); err != nil {
		t.Fatalf("docker does not answer: %v", err)
	}
	t.Cleanup(func() {
		if path := os.Getenv("CRUNCH_COMPOSE_REPORT"); path != "" {
			_ = os.WriteFile(path, []byte(strings.Join(s.figures, "\n")+"\n"), 0o644)
		}
	})
	return s
}

func (s *stack) figure(t *testing.T, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	t.Log("FIGURE: " + line)
	s.mu.Lock()
	s.figures = append(s.figures, line)
	s.mu.Unlock()
}

// TestCompose runs the drills in order on one stack; each leaves three
// healthy workers behind for the next.
func TestCompose(t *testing.T) {
	s := setup(t)
	t.Run("ScaleAndKill", s.scaleAndKill)
	t.Run("RedisRestart", s.redisRestart)
	t.Run("Partition", s.partition)
}

// scaleAndKill scales the workers from 1 to 3, shows one job's chunks
// spread over the three containers, then kills one of them mid-job with
// SIGKILL: the job still ends with the exact answer.
func (s *stack) scaleAndKill(t *testing.T) {
	ctx := t.Context()
	s.scale(t, 1)
	s.scale(t, 3)
	workers := s.workers(t)

	id := s.submit(t, `{"kernel":"primes","params":{"to":1e10},"chunks":24}`)
	// The API's backlog gauge counts the job's chunks that have not
	// completed, not only the window of 4 released to the queue.
	// crunch_backlog_runnable_chunks caps it at that window.
	if n := s.metric(t, "crunch_backlog_chunks", "normal"); n <= 4 || n > 24 {
		t.Errorf("crunch_backlog_chunks{priority=\"normal\"} = %v just after a job of 24 chunks was accepted, want 5..24", n)
	}
	if n := s.metric(t, "crunch_backlog_runnable_chunks", "normal"); n != 4 {
		t.Errorf("crunch_backlog_runnable_chunks{priority=\"normal\"} = %v just after a job of 24 chunks was accepted, want 4", n)
	}
	// Wait until each container has completed a chunk and one of them is
	// running another: that one is the victim.
	var victim string
	var cut []int
	waitFor(t, 3*time.Minute, "each worker container to complete a chunk of "+id, func() bool {
		chunks := s.chunks(t, id)
		done := map[string]bool{}
		running := map[string][]int{}
		for _, c := range chunks {
			switch c.Status {
			case "succeeded":
				done[c.host()] = true
			case "running":
				running[c.host()] = append(running[c.host()], c.Index)
			}
		}
		if j := s.job(t, id); j.Status != "running" && j.Status != "queued" {
			t.Fatalf("job %s ended (%s) before its chunks spread over 3 workers: %v", id, j.Status, hosts(chunks))
		}
		for _, w := range workers {
			if !done[w[:12]] {
				return false
			}
		}
		for _, w := range workers {
			if len(running[w[:12]]) > 0 {
				victim, cut = w, running[w[:12]]
				return true
			}
		}
		return false
	})
	killed := time.Now()
	if _, err := s.docker(ctx, "kill", victim); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed worker %s while it ran chunks %v of %s", victim[:12], cut, id)

	handedBack := s.waitElsewhere(t, id, cut, victim[:12])
	s.figure(t, "kill -9 of a worker: its chunks ran on another worker %.1f s later", handedBack.Sub(killed).Seconds())
	j := s.wait(t, id, 3*time.Minute)
	s.figure(t, "kill -9 of a worker: the job (primes to 1e10, 24 chunks) finished %.1f s after the kill", time.Since(killed).Seconds())
	checkPrimes(t, j, 1e10)

	chunks := s.chunks(t, id)
	spread := map[string]int{}
	for _, c := range chunks {
		spread[c.host()]++
		if slices.Contains(cut, c.Index) && c.host() == victim[:12] {
			t.Errorf("chunk %d, cut off by the kill, is recorded as completed by the dead worker %s", c.Index, c.Worker)
		}
	}
	for _, w := range workers {
		if spread[w[:12]] == 0 {
			t.Errorf("no chunk of %s ran on worker container %s: %v", id, w[:12], spread)
		}
	}
	t.Logf("chunks per worker container: %v", spread)

	// Make room for a fresh third worker rather than the dead one.
	if _, err := s.docker(ctx, "rm", "-f", victim); err != nil {
		t.Fatal(err)
	}
	s.scale(t, 3)
}

// redisRestart submits several jobs, restarts the Redis container (its
// append-only file is on a volume) while they run, and wants every
// accepted job to finish with the exact answer.
func (s *stack) redisRestart(t *testing.T) {
	ctx := t.Context()
	jobs := []struct {
		to     int64
		chunks int
	}{{1e10, 8}, {1e9, 8}, {1e9, 3}, {1e8, 4}, {1e8, 1}, {1e7, 2}, {1e9, 16}}
	ids := make([]string, len(jobs))
	for i, jb := range jobs {
		ids[i] = s.submit(t, fmt.Sprintf(`{"kernel":"primes","params":{"to":%d},"chunks":%d}`, jb.to, jb.chunks))
	}
	waitFor(t, time.Minute, "a job to start running", func() bool { return s.job(t, ids[0]).Status != "queued" })

	// While Redis is away the API must answer at once (503), not hang.
	stopProbe := make(chan struct{})
	probeDone := make(chan struct{})
	var worst time.Duration
	var saw503 bool
	go func() {
		defer close(probeDone)
		for {
			select {
			case <-stopProbe:
				return
			case <-time.After(100 * time.Millisecond):
			}
			start := time.Now()
			resp, err := s.http.Get(s.api + "/readyz")
			worst = max(worst, time.Since(start))
			if err == nil {
				saw503 = saw503 || resp.StatusCode == http.StatusServiceUnavailable
				resp.Body.Close()
			}
		}
	}()
	unfinished := 0
	for _, id := range ids {
		if j := s.job(t, id); j.Status == "queued" || j.Status == "running" {
			unfinished++
		}
	}
	if unfinished == 0 {
		t.Fatal("every job finished before Redis was restarted: the drill would prove nothing")
	}
	s.figure(t, "Redis restart: %d of %d accepted jobs were unfinished when it began", unfinished, len(ids))
	restarted := time.Now()
	if _, err := s.composeCmd(ctx, "restart", "-t", "10", "redis"); err != nil {
		t.Fatal(err)
	}
	s.figure(t, "Redis restart (docker-compose restart redis, SIGTERM): the container was back after %.1f s", time.Since(restarted).Seconds())
	for i, id := range ids {
		j := s.wait(t, id, 3*time.Minute)
		checkPrimes(t, j, jobs[i].to)
	}
	close(stopProbe)
	<-probeDone
	s.figure(t, "Redis restart: all %d jobs accepted before it finished exactly %.1f s after the restart began", len(ids), time.Since(restarted).Seconds())
	s.figure(t, "Redis restart: the slowest GET /readyz meanwhile took %s (503 seen: %v)", worst.Round(time.Millisecond), saw503)
	if worst > 4*time.Second {
		t.Errorf("GET /readyz took %s while Redis restarted: the API must answer 503 at once", worst)
	}
	s.waitHealthy(t, 3)
}

// partition cuts one worker container off the network while it runs
// chunks. Its chunks are handed back once its heartbeat lapses and the job
// finishes exactly without it; reconnected, it runs chunks again.
func (s *stack) partition(t *testing.T) {
	ctx := t.Context()
	s.scale(t, 3)
	network := s.project + "_default"

	id := s.submit(t, `{"kernel":"primes","params":{"to":1e10},"chunks":12}`)
	victim, cut := s.busyWorker(t, id)
	cutAt := time.Now()
	if _, err := s.docker(ctx, "network", "disconnect", "-f", network, victim); err != nil {
		t.Fatal(err)
	}
	reconnected := false
	var reconnectedAt time.Time
	reconnect := func() {
		if !reconnected {
			reconnected = true
			reconnectedAt = time.Now()
			if _, err := s.docker(context.WithoutCancel(ctx), "network", "connect", network, victim); err != nil {
				t.Errorf("reconnect %s: %v", victim[:12], err)
			}
		}
	}
	defer reconnect()
	t.Logf("cut worker %s off the network while it ran chunks %v of %s", victim[:12], cut, id)

	handedBack := s.waitElsewhere(t, id, cut, victim[:12])
	s.figure(t, "network partition of a worker: its chunks ran on another worker %.1f s later", handedBack.Sub(cutAt).Seconds())
	j := s.wait(t, id, 3*time.Minute)
	s.figure(t, "network partition: the job (primes to 1e10, 12 chunks) finished %.1f s after the cut", time.Since(cutAt).Seconds())
	checkPrimes(t, j, 1e10)
	before := s.chunks(t, id)
	for _, c := range before {
		if slices.Contains(cut, c.Index) && c.host() == victim[:12] {
			t.Errorf("chunk %d, handed back from the cut-off worker, is recorded as completed by it", c.Index)
		}
	}

	// Reconnected, the worker's late results for the finished job are
	// refused (the job is no longer running), and it rejoins by itself.
	reconnect()
	time.Sleep(5 * time.Second) // time for late writes to land, if any were accepted
	after := s.chunks(t, id)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("the chunk records of the finished job changed after the worker came back:\nbefore %v\nafter  %v", before, after)
	}
	if again := s.job(t, id); !bytes.Equal(again.Result, j.Result) || again.Chunks != j.Chunks {
		t.Errorf("job %s changed after the worker came back: %+v, was %+v", id, again, j)
	}

	// It rejoins by itself: new jobs get chunks run on it. Docker's health
	// status may lag, so ask its /readyz directly, then submit jobs until
	// one of its chunks runs on it.
	waitFor(t, time.Minute, "the reconnected worker's /readyz", func() bool {
		_, err := s.docker(ctx, "exec", victim, "/healthcheck", "http://127.0.0.1:9090/readyz")
		return err == nil
	})
	rejoinedBy := time.Now().Add(90 * time.Second)
	for n := 1; ; n++ {
		rejoin := s.submit(t, `{"kernel":"primes","params":{"to":1e9},"chunks":24}`)
		checkPrimes(t, s.wait(t, rejoin, 3*time.Minute), 1e9)
		ran := 0
		for _, c := range s.chunks(t, rejoin) {
			if c.host() == victim[:12] {
				ran++
			}
		}
		if ran > 0 {
			t.Logf("the reconnected worker ran %d of the 24 chunks of %s, the %d. job after it came back", ran, rejoin, n)
			s.figure(t, "network partition: the reconnected worker ran chunks of a new job %.1f s after it was reconnected", time.Since(reconnectedAt).Seconds())
			break
		}
		if time.Now().After(rejoinedBy) {
			t.Fatalf("the reconnected worker %s ran no chunk of the %d jobs submitted within 90 s after it came back", victim[:12], n)
		}
	}

	s.lateResultProbe(t, network)
}

// lateResultProbe asks whether a worker cut off in the middle of a long
// chunk, and reconnected after the chunk was handed back but before the
// new run finished, can still complete that chunk: whether late results
// are refused while the job still runs: the store fences a chunk's
// completion by its attempt, so the newer run's result must stand. The
// answer would be exact either way (a chunk counts once, and every run of
// a built-in computes the same partial); who completed the chunk tells.
func (s *stack) lateResultProbe(t *testing.T, network string) {
	ctx := t.Context()
	// Two long chunks (about 15 s each here) on three workers: the
	// cut-off worker's run is still going when the chunk is handed back
	// (about 8 s) and it is reconnected at once.
	id := s.submit(t, `{"kernel":"primes","params":{"to":1e10},"chunks":2}`)
	victim, cut := s.busyWorker(t, id)
	cutAt := time.Now()
	if _, err := s.docker(ctx, "network", "disconnect", "-f", network, victim); err != nil {
		t.Fatal(err)
	}
	s.waitElsewhere(t, id, cut, victim[:12])
	if _, err := s.docker(context.WithoutCancel(ctx), "network", "connect", network, victim); err != nil {
		t.Fatalf("reconnect %s: %v", victim[:12], err)
	}
	reconnected := time.Since(cutAt)
	j := s.wait(t, id, 3*time.Minute)
	checkPrimes(t, j, 1e10)
	for _, c := range s.chunks(t, id) {
		if !slices.Contains(cut, c.Index) {
			continue
		}
		if c.host() == victim[:12] {
			s.figure(t, "late result ACCEPTED: chunk %d, handed back from worker %s (cut off, reconnected after %.1f s), was completed by that worker (attempts %d, its run took %.1f s); the answer is exact",
				c.Index, victim[:12], reconnected.Seconds(), c.Attempts, c.Duration/1000)
			t.Errorf("chunk %d was completed by the worker it was taken from: its late result was not refused", c.Index)
		} else {
			s.figure(t, "late result refused or not sent: chunk %d, handed back from worker %s (reconnected after %.1f s), was completed by %s (attempts %d, its run took %.1f s)",
				c.Index, victim[:12], reconnected.Seconds(), c.Worker, c.Attempts, c.Duration/1000)
		}
	}
	s.waitHealthy(t, 3)
}

// busyWorker waits until a worker runs a chunk of job id, and returns the
// worker's container id and the chunks it runs.
func (s *stack) busyWorker(t *testing.T, id string) (container string, running []int) {
	workers := s.workers(t)
	waitFor(t, 2*time.Minute, "a chunk of "+id+" to run", func() bool {
		for _, w := range workers {
			running = running[:0]
			for _, c := range s.chunks(t, id) {
				if c.Status == "running" && c.host() == w[:12] {
					running = append(running, c.Index)
				}
			}
			if len(running) > 0 {
				container = w
				return true
			}
		}
		return false
	})
	return container, running
}

// waitElsewhere waits until every chunk of cut has run on a worker other
// than from (or completed there) and returns when it saw that.
func (s *stack) waitElsewhere(t *testing.T, id string, cut []int, from string) time.Time {
	waitFor(t, 2*time.Minute, fmt.Sprintf("chunks %v of %s to run on a worker other than %s", cut, id, from), func() bool {
		chunks := s.chunks(t, id)
		for _, i := range cut {
			c := chunks[i]
			if c.host() == from || (c.Status != "running" && c.Status != "succeeded") {
				return false
			}
		}
		return true
	})
	return time.Now()
}

func checkPrimes(t *testing.T, j job, to int64) {
	t.Helper()
	if j.Status != "succeeded" {
		t.Errorf("job %s: status %s, error %s", j.ID, j.Status, j.Error)
		return
	}
	var got primesResult
	if err := json.Unmarshal(j.Result, &got); err != nil {
		t.Fatalf("job %s: result %s: %v", j.ID, j.Result, err)
	}
	if want := primesBelow[to]; got != want {
		t.Errorf("job %s: primes below %d: got count %d sum %s, want count %d sum %s", j.ID, to, got.Count, got.Sum, want.Count, want.Sum)
	}
	if j.Chunks.Done != j.Chunks.Total || j.Chunks.Failed != 0 {
		t.Errorf("job %s: chunks %+v", j.ID, j.Chunks)
	}
}

// --- the API ---------------------------------------------------------------

func (s *stack) submit(t *testing.T, body string) string {
	t.Helper()
	var j job
	waitFor(t, time.Minute, "POST /v1/jobs to be accepted", func() bool {
		resp, err := s.http.Post(s.api+"/v1/jobs", "application/json", strings.NewReader(body))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			return false
		}
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST /v1/jobs %s: %s", body, resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(&j); err != nil {
			t.Fatal(err)
		}
		return true
	})
	return j.ID
}

// get decodes GET path into v, retrying while the API is unreachable or
// answers 503 (Redis away).
func (s *stack) get(t *testing.T, path string, v any) {
	t.Helper()
	waitFor(t, time.Minute, "GET "+path, func() bool {
		resp, err := s.http.Get(s.api + path)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			return false
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return true
	})
}

// metric reads the gauge name{priority} from the API's /metrics.
func (s *stack) metric(t *testing.T, name, priority string) float64 {
	t.Helper()
	resp, err := s.http.Get(s.api + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	prefix := name + `{priority="` + priority + `"} `
	for line := range strings.Lines(body.String()) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix); ok {
			var n float64
			if _, err := fmt.Sscan(v, &n); err != nil {
				t.Fatalf("%s%s: %v", prefix, v, err)
			}
			return n
		}
	}
	t.Fatalf("no %s line in GET /metrics", strings.TrimSpace(prefix))
	return 0
}

func (s *stack) job(t *testing.T, id string) job {
	var j job
	s.get(t, "/v1/jobs/"+id, &j)
	return j
}

func (s *stack) chunks(t *testing.T, id string) []chunk {
	var body struct{ Chunks []chunk }
	s.get(t, "/v1/jobs/"+id+"/chunks", &body)
	return body.Chunks
}

func (s *stack) wait(t *testing.T, id string, timeout time.Duration) job {
	t.Helper()
	var j job
	waitFor(t, timeout, "job "+id+" to finish", func() bool {
		j = s.job(t, id)
		return j.Status != "queued" && j.Status != "running"
	})
	return j
}

// --- docker ------------------------------------------------------------------

func run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

func (s *stack) docker(ctx context.Context, args ...string) (string, error) {
	return run(ctx, "docker", args...)
}

func (s *stack) composeCmd(ctx context.Context, args ...string) (string, error) {
	return run(ctx, s.compose[0], append(slices.Clone(s.compose[1:]), args...)...)
}

// workers returns the ids of the running worker containers.
func (s *stack) workers(t *testing.T) []string {
	t.Helper()
	out, err := s.docker(t.Context(), "ps", "-q", "--no-trunc",
		"--filter", "label=com.docker.compose.project="+s.project,
		"--filter", "label=com.docker.compose.service=worker")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(out)
}

// scale sets the number of workers to n and waits until n are healthy
// (their /readyz answers 200: they reach Redis).
func (s *stack) scale(t *testing.T, n int) {
	t.Helper()
	if _, err := s.composeCmd(t.Context(), "up", "-d", "--no-build", "--no-recreate", "--scale", fmt.Sprintf("worker=%d", n), "worker"); err != nil {
		t.Fatal(err)
	}
	s.waitHealthy(t, n)
}

func (s *stack) waitHealthy(t *testing.T, n int) {
	t.Helper()
	waitFor(t, 2*time.Minute, fmt.Sprintf("%d healthy workers", n), func() bool {
		ids := s.workers(t)
		if len(ids) != n {
			return false
		}
		out, err := s.docker(t.Context(), append([]string{"inspect", "-f", "{{.State.Health.Status}}"}, ids...)...)
		return err == nil && strings.Count(out, "healthy") == n && !strings.Contains(out, "unhealthy")
	})
}

// waitFor polls cond every 200 ms until it holds, failing the test after
// timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", timeout, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func hosts(chunks []chunk) map[string]int {
	m := map[string]int{}
	for _, c := range chunks {
		m[c.host()+"/"+c.Status]++
	}
	return m
}

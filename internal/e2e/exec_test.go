package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/crunchjobs/crunch/apiserver"
	"github.com/crunchjobs/crunch/workerserver"
	"math"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/execkernel"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/worker"
)

// Kernels of the exec protocol, end to end: the Python examples of
// examples/python-kernel, and a test kernel (testKernel) whose steps sleep,
// spawn grandchildren, record their pids or fail on request.

// testKernel is a Python kernel that computes what sumsq does, with knobs
// for the tests: sleep seconds in each run step, spawn a grandchild
// (sleep 1000), record its pids in pid_dir, fail always, once per chunk,
// in plan or in reduce.
const testKernel = `#!/usr/bin/env python3
import json, os, subprocess, sys, time
step = sys.argv[1]
req = json.load(sys.stdin)
p = req["params"]
job = os.environ["CRUNCH_JOB_ID"]
fail = p["fail"]
def stderr_lines(what):
    for k in range(300):
        sys.stderr.write(f"testkernel: {what} line {k}\n")
    sys.stderr.flush()
if step == "plan":
    if fail == "plan":
        stderr_lines("plan")
        sys.exit(4)
    json.dump({"extent": p["to"] - p["from"], "chunks": p["plan_chunks"]}, sys.stdout)
elif step == "run":
    i = req["index"]
    d = p["pid_dir"]
    if p["spawn"]:
        kid = subprocess.Popen(["sleep", "1000"])
        with open(os.path.join(d, f"{job}.{i}.kid"), "w") as f:
            f.write(str(kid.pid))
    if d:
        with open(os.path.join(d, f"{job}.{i}.leader"), "w") as f:
            f.write(str(os.getpid()))
    time.sleep(p["sleep"])
    marker = os.path.join(d, f"{job}.{i}.failed")
    if fail == "always" or (fail == "once" and not os.path.exists(marker)):
        open(marker, "w").close()
        stderr_lines(f"chunk {i}")
        sys.exit(3)
    s = p["from"]
    json.dump({"sum": str(sum(x * x for x in range(s + req["lo"], s + req["hi"])))}, sys.stdout)
elif step == "reduce":
    if fail == "reduce":
        stderr_lines("reduce")
        sys.exit(5)
    json.dump({"result": {"sum": str(sum(int(x["sum"]) for x in req["partials"]))}}, sys.stdout)
`

const testKernelSchema = `{"type": "object", "additionalProperties": false, "required": ["to"],
  "properties": {
    "from": {"type": "integer", "minimum": 0, "default": 0},
    "to": {"type": "integer", "minimum": 1, "maximum": 1000000000000},
    "sleep": {"type": "number", "minimum": 0, "maximum": 60, "default": 0},
    "spawn": {"type": "boolean", "default": false},
    "fail": {"enum": ["none", "always", "once", "plan", "reduce"], "default": "none"},
    "plan_chunks": {"type": "integer", "minimum": 1, "maximum": 4096, "default": 4},
    "pid_dir": {"type": "string", "default": ""},
    "points": {"type": "array", "items": {"type": "number"}}
  }}`

// execManifest writes a manifest of the example kernels (sumsq, mcoption,
// by their paths in examples/) and the test kernel, and returns its path.
func execManifest(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "testkernel.py"), []byte(testKernel), 0o755))
	examples, err := filepath.Abs("../../examples/python-kernel")
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(examples, "kernels.json"))
	require.NoError(t, err)
	var m struct{ Kernels []map[string]any }
	require.NoError(t, json.Unmarshal(b, &m))
	// The scripts say #!/usr/bin/env python3, as they should; where a
	// python3 shim that takes half a second to start (pyenv) comes first
	// in PATH, the tests name the system's interpreter instead.
	python := []string{}
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		python = []string{"/usr/bin/python3"}
	}
	for _, k := range m.Kernels { // the examples' ./x commands, made absolute
		cmd := k["command"].([]any)
		k["command"] = append(python, filepath.Join(examples, cmd[0].(string)))
	}
	m.Kernels = append(m.Kernels, map[string]any{
		"name": "testkernel", "description": "Sum of squares with knobs for tests.",
		"params_schema": json.RawMessage(testKernelSchema), "command": append(python, filepath.Join(dir, "testkernel.py")),
	})
	out, err := json.Marshal(m)
	require.NoError(t, err)
	path := filepath.Join(dir, "kernels.json")
	require.NoError(t, os.WriteFile(path, out, 0o644))
	return path
}

// withExec wires CRUNCH_KERNELS_FILE into the API's and the worker's
// config as the binaries do: through apiserver's and workerserver's
// kernel lists.
func withExec(t testing.TB, manifest string) systemOptions {
	t.Helper()
	getenv := func(k string) string {
		if k == execkernel.EnvFile {
			return manifest
		}
		return ""
	}
	specs, err := apiserver.Options{Getenv: getenv}.Kernels()
	require.NoError(t, err)
	runners, err := workerserver.Options{Getenv: getenv}.Kernels()
	require.NoError(t, err)
	return systemOptions{
		api:    func(c *api.Config) { c.Specs = specs },
		worker: func(c *worker.Config) { c.Runners = runners },
	}
}

func startExecSystem(t *testing.T, workers int) *system {
	t.Helper()
	opts := withExec(t, execManifest(t))
	opts.workers, opts.concurrency = workers, 1
	return startSystem(t, opts)
}

// sumsq is Σ i² for from ≤ i < to, in closed form.
func sumsq(from, to int64) string {
	f := func(n int64) *big.Int { // Σ_{i<n} i² = (n−1)n(2n−1)/6
		x := big.NewInt(n - 1)
		x.Mul(x, big.NewInt(n))
		x.Mul(x, big.NewInt(2*n-1))
		return x.Div(x, big.NewInt(6))
	}
	return new(big.Int).Sub(f(to), f(from)).String()
}

func TestExecKernelsAreListed(t *testing.T) {
	t.Parallel()
	s := startExecSystem(t, 0)
	r := s.do(http.MethodGet, "/v1/kernels", nil)
	require.Equal(t, http.StatusOK, r.status)
	var list struct {
		Kernels []struct {
			Name         string
			ParamsSchema json.RawMessage `json:"params_schema"`
			ArtifactType *string         `json:"artifact_type"`
		}
	}
	r.json(t, &list)
	names := map[string]json.RawMessage{}
	for _, k := range list.Kernels {
		names[k.Name] = k.ParamsSchema
		if k.Name == "sumsq" {
			require.Nil(t, k.ArtifactType)
		}
	}
	for _, name := range []string{"primes", "stats", "sumsq", "mcoption", "testkernel"} {
		require.Contains(t, names, name)
	}
	require.Contains(t, string(names["sumsq"]), `"maximum":1000000000000`)
}

// The Python sumsq: the exact known answer, the same for every chunk
// count; without chunks the job shows 0 chunks until a worker has run its
// plan step, then the plan's count.
func TestExecSumsqIsExactForEveryChunking(t *testing.T) {
	t.Parallel()
	s := startExecSystem(t, 2)
	const from, to = 12345, 3_000_000
	want := sumsq(from, to)

	j := s.submit(fmt.Sprintf(`{"kernel": "sumsq", "params": {"from": %d, "to": 3e6}}`, from))
	require.Zero(t, j.Chunks.Total, "no chunks before the plan step")
	require.Zero(t, j.Progress)
	require.JSONEq(t, fmt.Sprintf(`{"from": %d, "to": 3000000}`, from), string(j.Params), "1e6 is echoed as an integer")
	require.Contains(t, string(j.Params), `"to":3000000`)
	done := s.wait(j.ID, time.Minute)
	require.Equal(t, "succeeded", done.Status, "error: %+v", done.Error)
	require.Equal(t, 2, done.Chunks.Total, "the plan's default: one chunk per 2,000,000 numbers")
	require.Equal(t, 1.0, done.Progress)
	require.JSONEq(t, fmt.Sprintf(`{"from": %d, "to": %d, "sum": %q}`, from, to, want), string(done.Result))
	require.Len(t, s.chunks(j.ID), 2)

	for _, n := range []int{1, 3, 7, 64} {
		j := s.submit(fmt.Sprintf(`{"kernel": "sumsq", "params": {"from": %d, "to": %d}, "chunks": %d}`, from, to, n))
		require.Equal(t, n, j.Chunks.Total, "a request's chunks is the total at once")
		done := s.wait(j.ID, time.Minute)
		require.Equal(t, "succeeded", done.Status, "chunks %d: %+v", n, done.Error)
		require.Equal(t, n, done.Chunks.Total)
		require.JSONEq(t, fmt.Sprintf(`{"from": %d, "to": %d, "sum": %q}`, from, to, want), string(done.Result), "chunks %d", n)
	}
	// More chunks than work: empty chunks still run and succeed.
	j = s.submit(`{"kernel": "sumsq", "params": {"from": 5, "to": 8}, "chunks": 5}`)
	done = s.wait(j.ID, time.Minute)
	require.JSONEq(t, `{"from": 5, "to": 8, "sum": "110"}`, string(done.Result))
}

// The Python Monte Carlo option pricer: the same price, to the bit, for
// every chunk count, and within a few standard errors of Black-Scholes.
func TestExecMonteCarloIsChunkInvariant(t *testing.T) {
	t.Parallel()
	s := startExecSystem(t, 2)
	const params = `{"spot": 100, "strike": 105, "rate": 0.03, "vol": 0.25, "years": 0.5, "paths": 40000, "seed": 7}`
	var first json.RawMessage
	for _, n := range []int{1, 4, 9} {
		j := s.submit(fmt.Sprintf(`{"kernel": "mcoption", "params": %s, "chunks": %d}`, params, n))
		done := s.wait(j.ID, 2*time.Minute)
		require.Equal(t, "succeeded", done.Status, "chunks %d: %+v", n, done.Error)
		if first == nil {
			first = done.Result
			continue
		}
		require.Equal(t, string(first), string(done.Result), "chunks %d", n)
	}
	var res struct {
		Paths         int
		Price, Stderr float64
	}
	require.NoError(t, json.Unmarshal(first, &res))
	require.Equal(t, 40000, res.Paths)
	bs := blackScholesCall(100, 105, 0.03, 0.25, 0.5)
	require.InDelta(t, bs, res.Price, 5*res.Stderr, "Monte Carlo %v ± %v, Black-Scholes %v", res.Price, res.Stderr, bs)
	t.Logf("Monte Carlo price %.4f ± %.4f, Black-Scholes %.4f", res.Price, res.Stderr, bs)
}

func blackScholesCall(s, k, r, vol, t float64) float64 {
	d1 := (math.Log(s/k) + (r+vol*vol/2)*t) / (vol * math.Sqrt(t))
	d2 := d1 - vol*math.Sqrt(t)
	n := func(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
	return s*n(d1) - k*math.Exp(-r*t)*n(d2)
}

// Chunks of one exec job spread over two workers.
func TestExecChunksSpreadOverWorkers(t *testing.T) {
	t.Parallel()
	s := startExecSystem(t, 2)
	j := s.submit(`{"kernel": "testkernel", "params": {"to": 80000, "sleep": 0.3}, "chunks": 8}`)
	done := s.wait(j.ID, time.Minute)
	require.Equal(t, "succeeded", done.Status, "%+v", done.Error)
	require.JSONEq(t, fmt.Sprintf(`{"sum": %q}`, sumsq(0, 80000)), string(done.Result))
	workers := map[string]bool{}
	for _, c := range s.chunks(j.ID) {
		require.Equal(t, "succeeded", c.Status)
		workers[*c.Worker] = true
	}
	require.Len(t, workers, 2, "chunks ran on %v", workers)
}

// stderrTail is the last 4 KiB of what testKernel writes to stderr when
// it fails on purpose.
func stderrTail(what string) string {
	var b strings.Builder
	for k := range 300 {
		fmt.Fprintf(&b, "testkernel: %s line %d\n", what, k)
	}
	return b.String()[b.Len()-execkernel.StderrTail:]
}

// A failing run step: the chunk's error and the job's detail name the
// exit status and end with the last 4 KiB of that attempt's stderr.
func TestExecFailingStepReportsItsStderr(t *testing.T) {
	t.Parallel()
	s := startExecSystem(t, 1)
	pids := t.TempDir()
	j := s.submit(fmt.Sprintf(`{"kernel": "testkernel", "params": {"to": 100, "fail": "always", "pid_dir": %q}, "chunks": 1, "max_retries": 0}`, pids))
	done := s.wait(j.ID, time.Minute)
	require.Equal(t, "failed", done.Status)
	require.Equal(t, "kernel_error", done.Error.Type)
	require.Contains(t, done.Error.Detail, "chunk 0 failed after 1 attempts: kernel testkernel, run step: exited with status 3; stderr:\n")
	require.True(t, strings.HasSuffix(done.Error.Detail, "stderr:\n"+stderrTail("chunk 0")), "detail: %.300q…", done.Error.Detail)

	r := s.do(http.MethodGet, "/v1/jobs/"+j.ID+"/chunks", nil)
	var list struct {
		Chunks []struct {
			Status string
			Error  string
		}
	}
	r.json(t, &list)
	require.Equal(t, "failed", list.Chunks[0].Status)
	require.True(t, strings.HasSuffix(list.Chunks[0].Error, "exited with status 3; stderr:\n"+stderrTail("chunk 0")))
}

// A failing plan or reduce step fails the job, with its stderr.
func TestExecFailingPlanAndReduceFailTheJob(t *testing.T) {
	t.Parallel()
	s := startExecSystem(t, 1)
	for _, tc := range []struct{ fail, want, tail string }{
		{"plan", "plan failed: kernel testkernel, plan step: exited with status 4; stderr:\n", stderrTail("plan")},
		{"reduce", "reduce failed: kernel testkernel, reduce step: exited with status 5; stderr:\n", stderrTail("reduce")},
	} {
		j := s.submit(fmt.Sprintf(`{"kernel": "testkernel", "params": {"to": 100, "fail": %q}}`, tc.fail))
		done := s.wait(j.ID, time.Minute)
		require.Equal(t, "failed", done.Status, tc.fail)
		require.Equal(t, "kernel_error", done.Error.Type)
		require.Contains(t, done.Error.Detail, tc.want)
		require.True(t, strings.HasSuffix(done.Error.Detail, tc.tail), "%s: %.300q", tc.fail, done.Error.Detail)
		if tc.fail == "plan" {
			require.Zero(t, done.Chunks.Total)
		}
	}
}

// A run step that fails once is retried and the job succeeds exactly.
func TestExecFailedRunIsRetried(t *testing.T) {
	t.Parallel()
	s := startExecSystem(t, 1)
	j := s.submit(fmt.Sprintf(`{"kernel": "testkernel", "params": {"to": 5000, "fail": "once", "pid_dir": %q}, "chunks": 2, "max_retries": 2}`, t.TempDir()))
	done := s.wait(j.ID, time.Minute)
	require.Equal(t, "succeeded", done.Status, "%+v", done.Error)
	require.JSONEq(t, fmt.Sprintf(`{"sum": %q}`, sumsq(0, 5000)), string(done.Result))
	for _, c := range s.chunks(j.ID) {
		require.Equal(t, 2, c.Attempts, "chunk %d", c.Index)
	}
}

// Bad params are a 422 whose fields are the contract's paths.
func TestExecBadParams(t *testing.T) {
	t.Parallel()
	s := startExecSystem(t, 0)
	for _, tc := range []struct{ body, field string }{
		{`{"kernel": "sumsq", "params": {"to": 5, "zzz": 1}}`, "params.zzz"},
		{`{"kernel": "sumsq", "params": {"from": 3}}`, "params.to"},
		{`{"kernel": "sumsq"}`, "params.to"},
		{`{"kernel": "sumsq", "params": {"to": 0}}`, "params.to"},
		{`{"kernel": "sumsq", "params": {"to": 2.5}}`, "params.to"},
		{`{"kernel": "sumsq", "params": {"to": 1e13}}`, "params.to"},
		{`{"kernel": "testkernel", "params": {"to": 5, "points": [1, 2, 3, "x"]}}`, "params.points[3]"},
		{`{"kernel": "testkernel", "params": {"to": 5, "fail": "sometimes"}}`, "params.fail"},
		{`{"kernel": "sumsq", "params": {"to": 5, "from": 1e999999}}`, "params.from"},
		{`{"kernel": "sumsq", "params": {"to": 5, "pad": "` + strings.Repeat("x", 1<<20) + `"}}`, "params"},
		// Near the API's 32 MiB body limit: refused by its size, before any decoding.
		{`{"kernel": "sumsq", "params": {"to": 5, "pad": [` + strings.Repeat("1,", 15<<20) + `1]}}`, "params"},
	} {
		r := s.do(http.MethodPost, "/v1/jobs", []byte(tc.body))
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "%.100s: %s", tc.body, r.body)
		p := r.problem(t)
		require.NotEmpty(t, p.Errors)
		require.Equal(t, tc.field, p.Errors[0].Field, "%.100s: %s", tc.body, r.body)
	}
	n, err := s.rdb.Keys(t.Context(), s.ns+":job:*").Result()
	require.NoError(t, err)
	require.Empty(t, n, "nothing is stored")
}

// waitPid reads a pid the test kernel recorded.
func waitPid(t *testing.T, path string) int {
	t.Helper()
	var pid int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	}, 30*time.Second, 5*time.Millisecond, "no pid in %s", path)
	return pid
}

// liveInGroup lists the live (not zombie) processes of process group pgid.
func liveInGroup(pgid int) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) > 2 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Cancel and timeout of a running exec job: the job ends at once, and
// the step's process group — the step and the grandchild it spawned — is
// gone within 2 s; nothing is retried.
func TestExecCancelAndTimeoutStopTheSteps(t *testing.T) {
	t.Parallel()
	s := startExecSystem(t, 1)
	for _, how := range []string{"cancel", "timeout"} {
		dir := t.TempDir()
		body := fmt.Sprintf(`{"kernel": "testkernel", "params": {"to": 100, "sleep": 60, "spawn": true, "pid_dir": %q}, "chunks": 1`, dir)
		if how == "timeout" {
			body += `, "timeout_seconds": 4`
		}
		j := s.submit(body + "}")
		leader := waitPid(t, filepath.Join(dir, j.ID+".0.leader"))
		kid := waitPid(t, filepath.Join(dir, j.ID+".0.kid"))
		require.Contains(t, liveInGroup(leader), kid, "the grandchild is in the step's group")

		var stopped time.Time
		if how == "cancel" {
			r := s.do(http.MethodPost, "/v1/jobs/"+j.ID+"/cancel", nil)
			require.Equal(t, http.StatusAccepted, r.status)
			stopped = time.Now()
		} else {
			done := s.wait(j.ID, 10*time.Second)
			stopped = time.Now()
			require.Equal(t, "failed", done.Status)
			require.Equal(t, "timeout", done.Error.Type)
		}
		for len(liveInGroup(leader)) > 0 {
			require.Less(t, time.Since(stopped), 2*time.Second, "%s: processes %v still running", how, liveInGroup(leader))
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("%s: the step's group was gone %s after the job ended", how, time.Since(stopped).Round(time.Millisecond))
		for s.activeTasks() > 0 {
			require.Less(t, time.Since(stopped), 2*time.Second, "%s: the chunk's handler still runs", how)
			time.Sleep(10 * time.Millisecond)
		}
		c := s.chunks(j.ID)[0]
		require.Equal(t, 1, c.Attempts, "%s: a stopped step is not retried", how)
	}
}

// A manifest error names the entry and the field.
func TestExecManifestErrors(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kernels.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"kernels": [{"name": "stats", "params_schema": {}, "command": ["./x"]}]}`), 0o644))
	_, err := execkernel.Load(path, []string{"primes", "stats"})
	require.EqualError(t, err, "kernels file "+path+`: invalid kernels file: kernels[0] ("stats"): name: is the name of a built-in kernel`)
}

// execHelperEnv makes TestExecHelperWorker a real worker process, which
// TestExecDrillWorkerKilled kills.
const execHelperEnv = "CRUNCH_E2E_EXEC_WORKER"

// TestExecHelperWorker is the body of the worker process of
// TestExecDrillWorkerKilled: a worker with the exec kernels on the
// namespace and manifest its environment names, until killed.
func TestExecHelperWorker(t *testing.T) {
	spec := os.Getenv(execHelperEnv)
	if spec == "" {
		t.Skip("helper process of TestExecDrillWorkerKilled")
	}
	ns, manifest, _ := strings.Cut(spec, ",")
	opts := withExec(t, manifest)
	cfg := worker.Config{Namespace: ns, ID: "exec-victim", Concurrency: 1, Logger: quiet}
	opts.worker(&cfg)
	w, err := worker.New(cfg, redistest.Client(t))
	require.NoError(t, err)
	fmt.Println("worker running")
	require.NoError(t, w.Run(context.Background())) // until killed
}

// A real worker process SIGKILLed while it runs an exec step: the step's
// group (with its grandchild) dies with it, the chunk is handed back to
// the other worker and the job finishes with the exact answer.
func TestExecDrillWorkerKilled(t *testing.T) {
	t.Parallel()
	manifest := execManifest(t)
	opts := withExec(t, manifest)
	opts.workers, opts.concurrency = 1, 1
	s := startSystem(t, opts)

	victim := exec.Command(os.Args[0], "-test.run=^TestExecHelperWorker$", "-test.count=1")
	victim.Env = append(os.Environ(), execHelperEnv+"="+s.ns+","+manifest)
	out, err := victim.StdoutPipe()
	require.NoError(t, err)
	var logs strings.Builder
	var mu sync.Mutex
	victim.Stderr = writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(p) })
	require.NoError(t, victim.Start())
	t.Cleanup(func() { _ = victim.Process.Kill(); _ = victim.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "victim: %s", &logs)
	require.Equal(t, "worker running\n", line)

	dir := t.TempDir()
	j := s.submit(fmt.Sprintf(`{"kernel": "testkernel", "params": {"to": 400000, "sleep": 1.5, "spawn": true, "pid_dir": %q}, "chunks": 6}`, dir))
	c := s.runningOn(j.ID, "exec-victim")
	leader := waitPid(t, filepath.Join(dir, fmt.Sprintf("%s.%d.leader", j.ID, c.Index)))
	kid := waitPid(t, filepath.Join(dir, fmt.Sprintf("%s.%d.kid", j.ID, c.Index)))
	require.Contains(t, liveInGroup(leader), kid)

	require.NoError(t, victim.Process.Signal(syscall.SIGKILL))
	_ = victim.Wait()
	killed := time.Now()
	require.Eventually(t, func() bool { return len(liveInGroup(leader)) == 0 }, 5*time.Second, 10*time.Millisecond,
		"the killed worker's step processes %v outlived it", liveInGroup(leader))
	t.Logf("the killed worker's step group was gone %s after the SIGKILL", time.Since(killed).Round(time.Millisecond))

	done := s.wait(j.ID, 90*time.Second)
	require.Equal(t, "succeeded", done.Status, "%+v", done.Error)
	require.JSONEq(t, fmt.Sprintf(`{"sum": %q}`, sumsq(0, 400000)), string(done.Result))
	handedBack := s.chunks(j.ID)[c.Index]
	require.Equal(t, "worker-1", *handedBack.Worker, "the other worker finished the chunk")
	require.GreaterOrEqual(t, handedBack.Attempts, 2)
	t.Logf("job finished %s after the SIGKILL", time.Since(killed).Round(time.Millisecond))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

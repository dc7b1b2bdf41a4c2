package e2e_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/redistest"
)

var buildBinaries = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "crunch-e2e-bin")
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "../../api", "../../worker")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return dir, nil
})

// proc is a crunch binary running as its own process.
type proc struct {
	cmd  *exec.Cmd
	addr chan string // the address it logged it listens on
	done chan error
}

// startProc starts binary name with env and waits for nothing; its JSON
// logs are scanned for "listening" lines.
func startProc(t *testing.T, name string, env ...string) *proc {
	t.Helper()
	dir, err := buildBinaries()
	require.NoError(t, err)
	cmd := exec.Command(filepath.Join(dir, name))
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	// No Pdeathsig: it fires when the spawning OS thread exits, which the
	// Go runtime may do at any time; t.Cleanup kills the process instead.
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &proc{cmd: cmd, addr: make(chan string, 2), done: make(chan error, 1)}
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	require.NoError(t, err)
	go func() {
		defer logFile.Close()
		sc := bufio.NewScanner(io.TeeReader(stderr, logFile))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && strings.HasSuffix(line.Msg, "listening") {
				p.addr <- line.Addr
			}
		}
		io.Copy(io.Discard, stderr)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of %s:\n%s", name, tail(b, 4000))
		}
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *proc) listening(t *testing.T) string {
	t.Helper()
	select {
	case a := <-p.addr:
		return a
	case err := <-p.done:
		t.Fatalf("%s exited before listening: %v", p.cmd.Path, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start listening", p.cmd.Path)
	}
	return ""
}

// stop sends SIGTERM and requires a clean exit within timeout.
func (p *proc) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		require.NoError(t, err, "%s exits cleanly on SIGTERM", p.cmd.Path)
	case <-time.After(timeout):
		t.Fatalf("%s still running %s after SIGTERM", p.cmd.Path, timeout)
	}
}

// One api and three worker processes, as a user runs them: the chunks of
// a job spread over the workers and the merged answer is exact.
func TestSeparateProcesses(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binaries; skipped with -short")
	}
	ns := redistest.Namespace(t)
	common := []string{"REDIS_URL=" + redistest.URL(t), "CRUNCH_NAMESPACE=" + ns, "CRUNCH_LOG_LEVEL=info"}
	api := startProc(t, "api", append(common, "CRUNCH_HTTP_ADDR=127.0.0.1:0")...)
	base := "http://" + api.listening(t)
	var workers []*proc
	for i := range 3 {
		w := startProc(t, "worker", append(common, fmt.Sprintf("CRUNCH_WORKER_ID=proc-%d", i+1),
			"CRUNCH_WORKER_CONCURRENCY=1", "CRUNCH_WORKER_HTTP_ADDR=127.0.0.1:0")...)
		workers = append(workers, w)
	}
	for _, w := range workers {
		addr := w.listening(t)
		for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
			res, err := http.Get("http://" + addr + path)
			require.NoError(t, err)
			res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode, "worker %s", path)
		}
	}

	s := &system{t: t, url: base, client: http.DefaultClient}
	j := s.submit(`{"kernel":"primes","params":{"to":2e8},"chunks":12}`)
	j = s.wait(j.ID, 2*time.Minute)
	require.Equal(t, "succeeded", j.Status)
	var res struct {
		Count int64
		Last  int64
	}
	require.NoError(t, json.Unmarshal(j.Result, &res))
	require.Equal(t, int64(11078937), res.Count) // π(2·10^8)
	require.Equal(t, int64(199999991), res.Last)
	workersSeen := map[string]bool{}
	for _, c := range s.chunks(j.ID) {
		workersSeen[*c.Worker] = true
	}
	require.GreaterOrEqual(t, len(workersSeen), 2, "chunks ran on %v", workersSeen)

	for _, w := range workers {
		w.stop(t, 30*time.Second)
	}
	api.stop(t, 20*time.Second)
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// The api and worker binaries pick up an operator's kernels from
// CRUNCH_KERNELS_FILE: the Python sumsq of examples/python-kernel is
// listed, validated against its schema, and spread over two worker
// processes to the exact answer.
func TestSeparateProcessesRunAKernelsFile(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binaries; skipped with -short")
	}
	manifest, err := filepath.Abs("../../examples/python-kernel/kernels.json")
	require.NoError(t, err)
	ns := redistest.Namespace(t)
	common := []string{"REDIS_URL=" + redistest.URL(t), "CRUNCH_NAMESPACE=" + ns, "CRUNCH_KERNELS_FILE=" + manifest}
	api := startProc(t, "api", append(common, "CRUNCH_HTTP_ADDR=127.0.0.1:0")...)
	s := &system{t: t, url: "http://" + api.listening(t), client: http.DefaultClient}
	for i := range 2 {
		startProc(t, "worker", append(common, fmt.Sprintf("CRUNCH_WORKER_ID=exec-%d", i+1), "CRUNCH_WORKER_CONCURRENCY=2")...)
	}

	kernels := s.do(http.MethodGet, "/v1/kernels", nil)
	require.Equal(t, http.StatusOK, kernels.status)
	require.Contains(t, string(kernels.body), `"name":"sumsq"`)
	bad := s.do(http.MethodPost, "/v1/jobs", []byte(`{"kernel":"sumsq","params":{"to":0}}`))
	require.Equal(t, http.StatusUnprocessableEntity, bad.status)
	require.Contains(t, string(bad.body), `"field":"params.to"`)

	j := s.submit(`{"kernel":"sumsq","params":{"to":1e6},"chunks":8}`)
	j = s.wait(j.ID, 2*time.Minute)
	require.Equal(t, "succeeded", j.Status, "%+v", j.Error)
	require.JSONEq(t, `{"from":0,"to":1000000,"sum":"333332833333500000"}`, string(j.Result)) // Σ i² for i < 10^6
	workersSeen := map[string]bool{}
	for _, c := range s.chunks(j.ID) {
		workersSeen[*c.Worker] = true
	}
	require.Len(t, workersSeen, 2, "chunks ran on %v", workersSeen)
}

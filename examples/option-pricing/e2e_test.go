package optionpricing_test

import (
	"bufio"
	"bytes"
	"context"
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

	"github.com/crunchjobs/crunch/client"
	"github.com/crunchjobs/crunch/examples/option-pricing/pricing"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/pi"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// build builds the example's api and worker into dir, as a user would.
func build(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./api", "./worker")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build:\n%s", out)
}

// TestBinaries builds the example's programs once, into a directory
// removed at the end, for the tests that run or inspect them.
func TestBinaries(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the example's binaries; skipped with -short")
	}
	dir := t.TempDir()
	build(t, dir)
	t.Run("processes", func(t *testing.T) { testProcesses(t, dir) })
	t.Run("api links no runner", func(t *testing.T) { testAPILinksNoRunner(t, dir) })
}

// proc is one of the example's binaries running as its own process.
type proc struct {
	name string
	cmd  *exec.Cmd
	addr chan string // the address it logged it listens on
	done chan error  // its exit, once
}

// start runs binary name with only env (and PATH) and scans its JSON log
// for the "listening" line; the process is killed when the test ends if
// it is still running.
func start(t *testing.T, bin, name string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, name))
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &proc{name: name, cmd: cmd, addr: make(chan string, 2), done: make(chan error, 1)}
	var log bytes.Buffer
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			mu.Lock()
			log.Write(append(sc.Bytes(), '\n'))
			mu.Unlock()
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && strings.HasSuffix(line.Msg, "listening") {
				p.addr <- line.Addr
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			mu.Lock()
			defer mu.Unlock()
			b := log.Bytes()
			t.Logf("log of %s (pid %d):\n%s", name, cmd.Process.Pid, b[max(0, len(b)-4000):])
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
		t.Fatalf("%s exited before listening: %v", p.name, err)
	case <-time.After(time.Minute):
		t.Fatalf("%s did not start listening within a minute", p.name)
	}
	return ""
}

// stop sends SIGTERM and requires a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		require.NoError(t, err, "%s exits cleanly on SIGTERM", p.name)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s still running 30 s after SIGTERM", p.name)
	}
}

// One api and two worker processes of the example, as a user runs them,
// against a real Redis: an option is priced over HTTP, its chunks spread
// over both workers, its result is the one computed in one piece in this
// process, bad params are refused by name, and the built-in kernels still
// work beside the example's.
func testProcesses(t *testing.T, bin string) {
	t.Parallel()
	common := []string{"REDIS_URL=" + redistest.URL(t), "CRUNCH_NAMESPACE=" + redistest.Namespace(t), "CRUNCH_LOG_LEVEL=info"}
	api := start(t, bin, "api", append(common, "CRUNCH_HTTP_ADDR=127.0.0.1:0")...)
	var workers []*proc
	for i := range 2 {
		workers = append(workers, start(t, bin, "worker", append(common, fmt.Sprintf("CRUNCH_WORKER_ID=pricer-%d", i+1),
			"CRUNCH_WORKER_CONCURRENCY=1", "CRUNCH_WORKER_HTTP_ADDR=127.0.0.1:0")...))
	}
	base := "http://" + api.listening(t)
	for _, w := range workers {
		w.listening(t)
	}
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	c := client.New(base, client.WithHTTPClient(&http.Client{Transport: transport}))
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	kernels, err := c.Kernels(ctx)
	require.NoError(t, err)
	names := map[string]bool{}
	for _, k := range kernels {
		names[k.Name] = true
	}
	require.True(t, names["european-option"] && names["pi"] && names["primes"], "kernels: %v", names)

	const params = `{"spot":100,"strike":100,"rate":0.05,"volatility":0.2,"maturity":1,"paths":24000000,"seed":2026}`
	job, err := c.Submit(ctx, client.JobRequest{Kernel: "european-option", Params: json.RawMessage(params), Chunks: 16})
	require.NoError(t, err)
	job, err = c.Wait(ctx, job.ID, nil)
	require.NoError(t, err)
	require.Equal(t, client.StatusSucceeded, job.Status, "error: %+v", job.Error)
	require.Equal(t, 16, job.Chunks.Total)
	var got pricing.Result
	require.NoError(t, json.Unmarshal(job.Result, &got))
	require.InDelta(t, 10.4506, got.Call.BlackScholes, 5e-5)
	require.InDelta(t, 5.5735, got.Put.BlackScholes, 5e-5)
	for name, o := range map[string]pricing.Option{"call": got.Call, "put": got.Put} {
		require.Less(t, abs(o.Price-o.BlackScholes), 4*o.Stderr, "%s: %+v", name, o)
	}
	// The same job in one chunk, in this process: the same result, to the bit.
	var want pricing.Result
	require.NoError(t, json.Unmarshal(kerneltest.MustRun(t, pricing.Spec{}, pricing.Runner{}, params, 1).Result, &want))
	require.Equal(t, want, got)

	chunks, err := c.Chunks(ctx, job.ID)
	require.NoError(t, err)
	require.Len(t, chunks, 16)
	ran := map[string]int{}
	for _, ch := range chunks {
		require.Equal(t, client.StatusSucceeded, ch.Status)
		require.NotNil(t, ch.Worker)
		ran[*ch.Worker]++
	}
	require.Len(t, ran, 2, "both workers ran chunks: %v", ran)
	require.Contains(t, ran, "pricer-1")
	require.Contains(t, ran, "pricer-2")

	// A built-in kernel beside the example's: the same answer as in process.
	job, err = c.Submit(ctx, client.JobRequest{Kernel: "pi", Params: map[string]any{"samples": 3e6, "seed": 5}, Chunks: 4})
	require.NoError(t, err)
	job, err = c.Wait(ctx, job.ID, nil)
	require.NoError(t, err)
	require.Equal(t, client.StatusSucceeded, job.Status, "error: %+v", job.Error)
	require.JSONEq(t, string(kerneltest.MustRun(t, pi.Spec{}, pi.Runner{}, `{"samples":3e6,"seed":5}`, 1).Result), string(job.Result))

	// Bad params: 422 problem+json naming each bad field.
	for _, tt := range []struct{ body, field string }{
		{`{"kernel":"european-option","params":{"spot":100,"strike":100,"volatility":2,"maturity":1}}`, "params.volatility"},
		{`{"kernel":"european-option","params":{"spot":100,"volatility":0.2,"maturity":1}}`, "params.strike"},
		{`{"kernel":"european-option","params":{"spot":100,"strike":100,"volatility":0.2,"maturity":1,"paths":1e11}}`, "params.paths"},
		{`{"kernel":"european-option","params":{"spot":100,"strike":100,"volatility":0.2,"maturity":1,"sigma":0.2}}`, "params.sigma"},
	} {
		res, err := http.Post(base+"/v1/jobs", "application/json", strings.NewReader(tt.body))
		require.NoError(t, err)
		var problem struct {
			Status int
			Errors []struct{ Field, Message string }
		}
		require.NoError(t, json.NewDecoder(res.Body).Decode(&problem))
		res.Body.Close()
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tt.body)
		require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), tt.body)
		require.Equal(t, 422, problem.Status)
		require.Len(t, problem.Errors, 1, tt.body)
		require.Equal(t, tt.field, problem.Errors[0].Field)
		require.NotEmpty(t, problem.Errors[0].Message)
	}
	http.DefaultClient.CloseIdleConnections()

	for _, w := range workers {
		w.stop(t)
	}
	api.stop(t)
}

// The api program links the kernels' Specs and none of their Runners —
// neither the example's nor the built-ins' — while the worker links both,
// so that the check can fail.
func testAPILinksNoRunner(t *testing.T, bin string) {
	t.Parallel()
	// symbols returns the symbols of binary name that contain sub.
	symbols := func(name, sub string) []string {
		out, err := exec.Command("go", "tool", "nm", filepath.Join(bin, name)).CombinedOutput()
		require.NoError(t, err, "%s", out)
		var found []string
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, sub) {
				found = append(found, strings.TrimSpace(line))
			}
		}
		return found
	}
	const mod = "github.com/crunchjobs/crunch/"
	for _, pkg := range []string{"examples/option-pricing/pricing", "tasks/kernels/primes", "tasks/kernels/pi",
		"tasks/kernels/mandelbrot", "tasks/kernels/matmul", "tasks/kernels/stats", "tasks/kernels/wordcount"} {
		require.NotEmpty(t, symbols("api", mod+pkg+".Spec.Prepare"), "the api validates %s's params", pkg)
		require.Empty(t, symbols("api", mod+pkg+".Runner"), "the api links %s's Runner", pkg)
		require.NotEmpty(t, symbols("worker", mod+pkg+".Runner.Run"), "the worker runs %s", pkg)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

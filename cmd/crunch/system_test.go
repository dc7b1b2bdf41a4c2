package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/worker"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels"
)

// startSystem runs an API (behind a real listener) and a worker in this
// process on the test Redis, with the built-in kernels plus two of the
// tests': "fail", whose chunks always fail (so that a job ends failed with
// kernel_error), and "sleep", whose chunks take 100 ms each (so that a
// job's progress takes the same time with and without the race detector).
// It returns the API's URL.
func startSystem(t *testing.T) string {
	t.Helper()
	ns := redistest.Namespace(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := api.New(api.Config{Namespace: ns, Logger: quiet, Specs: append(kernels.Specs(), failKernel{}, sleepKernel{})}, redistest.Client(t))
	require.NoError(t, err)
	w, err := worker.New(worker.Config{
		Namespace: ns, Concurrency: 2, Logger: quiet, ID: "worker-" + ns,
		Runners: append(kernels.Runners(), failKernel{}, sleepKernel{}),
	}, redistest.Client(t))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- srv.Serve(ctx, ln, 5*time.Second) }()
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("stop: %v", err)
			}
		}
	})
	return "http://" + ln.Addr().String()
}

// failKernel is a kernel whose every chunk fails.
type failKernel struct{}

func (failKernel) Name() string                  { return "fail" }
func (failKernel) Description() string           { return "Fails every chunk (tests only)." }
func (failKernel) ParamsSchema() json.RawMessage { return json.RawMessage(`{"type":"object"}`) }
func (failKernel) ArtifactType() string          { return "" }
func (failKernel) Prepare(json.RawMessage) (*tasks.Prepared, error) {
	return &tasks.Prepared{Params: json.RawMessage(`{}`), Extent: 1, DefaultChunks: 1}, nil
}
func (failKernel) Run(context.Context, tasks.Chunk) ([]byte, error) {
	return nil, errors.New("this kernel always fails")
}
func (failKernel) Reduce(context.Context, json.RawMessage, tasks.Input, [][]byte) (*tasks.Output, error) {
	return nil, errors.New("unreachable")
}

// buildCrunch builds the crunch command into a temporary directory of t
// (without the race detector: it is the program under test, run as users
// run it) and returns its path.
func buildCrunch(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crunch")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// sleepKernel is a kernel whose every chunk sleeps 100 ms.
type sleepKernel struct{}

func (sleepKernel) Name() string                  { return "sleep" }
func (sleepKernel) Description() string           { return "Sleeps 100 ms per chunk (tests only)." }
func (sleepKernel) ParamsSchema() json.RawMessage { return json.RawMessage(`{"type":"object"}`) }
func (sleepKernel) ArtifactType() string          { return "" }
func (sleepKernel) Prepare(json.RawMessage) (*tasks.Prepared, error) {
	return &tasks.Prepared{Params: json.RawMessage(`{}`), Extent: 1, DefaultChunks: 1}, nil
}
func (sleepKernel) Run(ctx context.Context, _ tasks.Chunk) ([]byte, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(100 * time.Millisecond):
		return []byte(`1`), nil
	}
}
func (sleepKernel) Reduce(_ context.Context, _ json.RawMessage, _ tasks.Input, partials [][]byte) (*tasks.Output, error) {
	return &tasks.Output{Result: json.RawMessage(fmt.Sprintf(`{"chunks":%d}`, len(partials)))}, nil
}

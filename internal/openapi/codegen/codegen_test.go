package codegen_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/worker"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// The generator and the runtime its code imports, pinned.
const (
	OAPICodegen = "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2"
	runtimeMod  = "github.com/oapi-codegen/runtime v1.9.0"
)

// TestGeneratedClient generates a Go client from the document the API
// serves and uses it against that API and a worker.
func TestGeneratedClient(t *testing.T) {
	t.Parallel()
	base := startSystem(t)

	res, err := http.Get(base + "/openapi.json")
	require.NoError(t, err)
	doc, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)

	dir := t.TempDir()
	write := func(name, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	write("openapi.json", string(doc))
	write("go.mod", "module consumer.example\n\ngo 1.25\n\nrequire "+runtimeMod+"\n")
	consumer, err := os.ReadFile(filepath.Join("testdata", "consumer", "main.go"))
	require.NoError(t, err)
	write("main.go", string(consumer))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "crunchapi"), 0o755))

	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute) // a first download takes ~30 s
	defer cancel()
	goCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		// The temporary module is a module of its own: not part of a
		// workspace, and free to resolve its go.sum from the proxy.
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CRUNCH_URL="+base)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), out)
		return string(out)
	}
	goCmd("run", OAPICodegen, "-generate", "types,client", "-package", "crunchapi",
		"-o", filepath.Join("crunchapi", "crunchapi.gen.go"), "openapi.json")
	goCmd("mod", "tidy")
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	require.NotContains(t, string(gomod), "replace")
	require.NotContains(t, string(gomod), "crunchjobs", "the generated client needs nothing of crunch")
	goCmd("vet", "./...")

	out := goCmd("run", ".")
	t.Logf("consumer:\n%s", out)
	for _, want := range []string{
		"created kernel=primes status=queued chunks=4 location=/v1/jobs/job_",
		"finished succeeded progress=1 done=4/4",
		"result count=78498 sum=37550402023 first=2 last=999983", // π(10^6) and the sum of those primes
		"chunks 4 first=succeeded",
		"refused 422 ",
		"field params.to: ",
		"missing 404",
	} {
		require.Contains(t, out, want)
	}
}

// startSystem runs an API and a worker in this process on the test Redis,
// the API behind a real listener, and returns the API's URL.
func startSystem(t *testing.T) string {
	t.Helper()
	ns := redistest.Namespace(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := api.New(api.Config{Namespace: ns, Logger: quiet}, redistest.Client(t))
	require.NoError(t, err)
	w, err := worker.New(worker.Config{Namespace: ns, Concurrency: 2, Logger: quiet}, redistest.Client(t))
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
			if err := <-done; err != nil && ctx.Err() == nil {
				t.Errorf("stop: %v", err)
			}
		}
	})
	return "http://" + ln.Addr().String()
}

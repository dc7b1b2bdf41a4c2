package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/openapi"
	"github.com/crunchjobs/crunch/internal/redisconn"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/internal/worker"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// quiet discards the logs of in-process servers, unless CRUNCH_TEST_LOGS
// is set (to debug a test): tests assert on behaviour, not on log lines.
var quiet = func() *slog.Logger {
	if os.Getenv("CRUNCH_TEST_LOGS") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}()

type systemOptions struct {
	workers     int
	concurrency int
	api         func(*api.Config)
	worker      func(*worker.Config)
	redis       redis.UniversalClient // the API's client; defaults to the shared test Redis
	// redisURL, when set, is the Redis of the API and every worker.
	redisURL string
}

// system is one crunch deployment: an API behind a real HTTP server and
// some in-process workers, all on their own namespace of the test Redis.
type system struct {
	t       testing.TB
	url     string
	ns      string
	rdb     redis.UniversalClient
	store   *store.Store
	client  *http.Client
	workers []*worker.Worker
	// key is sent as the bearer key when set.
	key string
	// fast skips the OpenAPI validation of responses (benchmarks).
	fast bool

	opts      systemOptions
	newClient func() redis.UniversalClient
	// onFirstEvent, when set, is called once readEvents has parsed the
	// first event of a stream.
	onFirstEvent func()
}

func startSystem(t testing.TB, opts systemOptions) *system {
	t.Helper()
	ns := redistest.Namespace(t)
	newClient := func() redis.UniversalClient {
		if opts.redisURL == "" {
			return redistest.Client(t)
		}
		c, err := redisconn.Open(opts.redisURL)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	rdb := opts.redis
	if rdb == nil {
		rdb = newClient()
	}
	cfg := api.Config{Namespace: ns, Logger: quiet}
	if opts.api != nil {
		opts.api(&cfg)
	}
	srv, err := api.New(cfg, rdb)
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	s := &system{t: t, url: hs.URL, ns: ns, rdb: rdb, store: store.New(rdb, store.Config{Namespace: ns}), client: hs.Client()}

	s.opts, s.newClient = opts, newClient
	for range opts.workers {
		s.addWorker()
	}
	return s
}

// addWorker starts one more in-process worker on the system's namespace.
func (s *system) addWorker() *worker.Worker {
	t := s.t
	t.Helper()
	rdb := s.newClient() // closed after the worker stops (cleanups run last-in first-out)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	n := len(s.workers) + 1
	wcfg := worker.Config{
		Namespace:   s.ns,
		ID:          fmt.Sprintf("worker-%d", n),
		Concurrency: max(s.opts.concurrency, 1),
		Logger:      quiet,
	}
	if s.opts.worker != nil {
		s.opts.worker(&wcfg)
	}
	w, err := worker.New(wcfg, rdb)
	require.NoError(t, err)
	s.workers = append(s.workers, w)
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			t.Errorf("worker %d: %v", n, err)
		}
	}()
	return w
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "body: %s", r.body)
}

// do sends a request and checks the response against the OpenAPI document.
func (s *system) do(method, path string, body []byte, header ...string) response {
	s.t.Helper()
	return s.send(true, method, path, body, header...)
}

// undocumented sends a request to a path or method the API does not have,
// which the OpenAPI document therefore cannot describe.
func (s *system) undocumented(method, path string) response {
	s.t.Helper()
	return s.send(false, method, path, nil)
}

func (s *system) send(validate bool, method, path string, body []byte, header ...string) response {
	s.t.Helper()
	req, err := http.NewRequestWithContext(s.t.Context(), method, s.url+path, bytes.NewReader(body))
	require.NoError(s.t, err)
	if s.key != "" {
		req.Header.Set("Authorization", "Bearer "+s.key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := s.client.Do(req)
	require.NoError(s.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	if !validate || s.fast {
		return response{status: res.StatusCode, header: res.Header, body: b}
	}
	if err := openapi.ValidateResponse(req, res.StatusCode, res.Header, b); err != nil {
		s.t.Errorf("%s %s → %d does not match the OpenAPI document: %v\nbody: %.500s", method, path, res.StatusCode, err, b)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// job is the Job object as a client decodes it.
type job struct {
	ID       string          `json:"id"`
	Kernel   string          `json:"kernel"`
	Status   string          `json:"status"`
	Params   json.RawMessage `json:"params"`
	Chunks   struct{ Total, Done, Failed int }
	Progress float64         `json:"progress"`
	Result   json.RawMessage `json:"result"`
	Error    *struct {
		Type   string `json:"type"`
		Detail string `json:"detail"`
	} `json:"error"`
	Metadata json.RawMessage `json:"metadata"`
}

type chunk struct {
	Index    int     `json:"index"`
	Status   string  `json:"status"`
	Worker   *string `json:"worker"`
	Attempts int     `json:"attempts"`
}

// submit creates a job and returns it; the request must be accepted.
func (s *system) submit(body string) job {
	s.t.Helper()
	r := s.do(http.MethodPost, "/v1/jobs", []byte(body))
	require.Equal(s.t, http.StatusAccepted, r.status, "body: %s", r.body)
	var j job
	r.json(s.t, &j)
	require.Equal(s.t, "/v1/jobs/"+j.ID, r.header.Get("Location"))
	return j
}

func (s *system) get(id string) job {
	s.t.Helper()
	r := s.do(http.MethodGet, "/v1/jobs/"+id, nil)
	require.Equal(s.t, http.StatusOK, r.status, "body: %s", r.body)
	var j job
	r.json(s.t, &j)
	return j
}

// wait polls a job until it reaches a terminal status.
func (s *system) wait(id string, timeout time.Duration) job {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j := s.get(id)
		switch j.Status {
		case "succeeded", "failed", "canceled":
			return j
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("job %s still %s after %s (chunks %+v)", id, j.Status, timeout, j.Chunks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *system) chunks(id string) []chunk {
	s.t.Helper()
	r := s.do(http.MethodGet, "/v1/jobs/"+id+"/chunks", nil)
	require.Equal(s.t, http.StatusOK, r.status)
	var out struct{ Chunks []chunk }
	r.json(s.t, &out)
	return out.Chunks
}

// benchSystem is startSystem for benchmarks, which skip OpenAPI validation
// (it costs milliseconds per response) by calling the client directly.
func benchSystem(b *testing.B, workers int) *system {
	s := startSystem(b, systemOptions{workers: workers, concurrency: 2})
	s.fast = true
	return s
}

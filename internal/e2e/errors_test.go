package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
)

type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (r response) problem(t *testing.T) problemBody {
	t.Helper()
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), "body: %s", r.body)
	var p problemBody
	r.json(t, &p)
	require.Equal(t, r.status, p.Status)
	require.NotEmpty(t, p.Type)
	require.NotEmpty(t, p.Title)
	return p
}

// Every bad request gets a clear 4xx problem+json, and nothing is stored.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{api: func(c *api.Config) { c.MaxBodyBytes = 8192 }})
	big := `{"kernel":"stats","params":{"values":[` + strings.Repeat("1,", 5000) + `1]}}`
	tests := []struct {
		name   string
		body   string
		status int
		field  string // the first error's field, for 422
	}{
		{"malformed", `{"kernel":`, 400, ""},
		{"not json", `kernel=primes`, 400, ""},
		{"empty", ``, 400, ""},
		{"trailing data", `{"kernel":"primes","params":{"to":10}} {}`, 400, ""},
		{"too large", big, 413, ""},
		{"array body", `[1,2]`, 422, ""},
		{"missing kernel", `{"params":{"to":10}}`, 422, "kernel"},
		{"unknown kernel", `{"kernel":"fft"}`, 422, "kernel"},
		{"kernel not a string", `{"kernel":7}`, 422, "kernel"},
		{"unknown field", `{"kernel":"primes","params":{"to":10},"colour":"red"}`, 422, "colour"},
		{"unknown param", `{"kernel":"primes","params":{"to":10,"step":2}}`, 422, "params.step"},
		{"params not an object", `{"kernel":"primes","params":[10]}`, 422, "params"},
		{"missing param", `{"kernel":"primes","params":{}}`, 422, "params.to"},
		{"param out of bounds", `{"kernel":"primes","params":{"to":1e13}}`, 422, "params.to"},
		{"param not integral", `{"kernel":"primes","params":{"to":10.5}}`, 422, "params.to"},
		{"param wrong type", `{"kernel":"primes","params":{"to":"10"}}`, 422, "params.to"},
		{"bad array element", `{"kernel":"stats","params":{"values":[1,"x",3]}}`, 422, "params.values[1]"},
		{"huge number", `{"kernel":"stats","params":{"values":[1,1e400]}}`, 422, "params.values[1]"},
		{"chunks zero", `{"kernel":"primes","params":{"to":10},"chunks":0}`, 422, "chunks"},
		{"chunks too many", `{"kernel":"primes","params":{"to":10},"chunks":4097}`, 422, "chunks"},
		{"chunks string", `{"kernel":"primes","params":{"to":10},"chunks":"4"}`, 422, "chunks"},
		{"bad priority", `{"kernel":"primes","params":{"to":10},"priority":"urgent"}`, 422, "priority"},
		{"timeout zero", `{"kernel":"primes","params":{"to":10},"timeout_seconds":0}`, 422, "timeout_seconds"},
		{"timeout too long", `{"kernel":"primes","params":{"to":10},"timeout_seconds":86401}`, 422, "timeout_seconds"},
		{"retries too many", `{"kernel":"primes","params":{"to":10},"max_retries":11}`, 422, "max_retries"},
		{"metadata not object", `{"kernel":"primes","params":{"to":10},"metadata":[1]}`, 422, "metadata"},
		{"metadata too large", `{"kernel":"primes","params":{"to":10},"metadata":{"x":"` + strings.Repeat("a", 4100) + `"}}`, 422, "metadata"},
		{"webhook without secret", `{"kernel":"primes","params":{"to":10},"webhook":{"url":"https://example.com/h"}}`, 422, "webhook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := *s
			s.t = t
			r := s.do(http.MethodPost, "/v1/jobs", []byte(tt.body))
			require.Equal(t, tt.status, r.status, "body: %s", r.body)
			p := r.problem(t)
			if tt.status == 422 {
				require.NotEmpty(t, p.Errors)
				require.Equal(t, tt.field, p.Errors[0].Field, "errors: %+v", p.Errors)
				require.NotEmpty(t, p.Errors[0].Message)
			}
		})
	}
	t.Run("nothing stored", func(t *testing.T) {
		// Runs after the parallel subtests above have finished.
		n, err := s.rdb.ZCard(context.Background(), s.ns+":tenant:anonymous:jobs").Result()
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

// Integers accept any JSON number with an integral value, and a body
// without Content-Type is still parsed as JSON.
func TestLenientNumbersAndContentType(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{})
	r := s.do(http.MethodPost, "/v1/jobs", []byte(`{"kernel":"primes","params":{"to":1e3,"from":1.0E1},"chunks":2.0}`),
		"Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
	var j job
	r.json(t, &j)
	require.JSONEq(t, `{"from":10,"to":1000}`, string(j.Params))
	require.Equal(t, 2, j.Chunks.Total)
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{})
	for _, path := range []string{
		"/v1/jobs/job_01J00000000000000000000000",
		"/v1/jobs/nonsense",
		"/v1/jobs/job_01J00000000000000000000000/chunks",
		"/v1/jobs/%7B%7D%00/artifact",
	} {
		r := s.do(http.MethodGet, path, nil)
		require.Equal(t, http.StatusNotFound, r.status, path)
		r.problem(t)
	}
	r := s.undocumented(http.MethodGet, "/v2/jobs")
	require.Equal(t, http.StatusNotFound, r.status)
	r.problem(t)
	r = s.undocumented(http.MethodDelete, "/v1/jobs")
	require.Equal(t, http.StatusMethodNotAllowed, r.status)
	r.problem(t)
}

func TestArtifact(t *testing.T) {
	t.Parallel()
	// No workers: jobs stay queued.
	idle := startSystem(t, systemOptions{})
	queued := idle.submit(`{"kernel":"mandelbrot","params":{"width":8,"height":8}}`)
	r := idle.do(http.MethodGet, "/v1/jobs/"+queued.ID+"/artifact", nil)
	require.Equal(t, http.StatusConflict, r.status)
	r.problem(t)

	s := startSystem(t, systemOptions{workers: 1})
	j := s.submit(`{"kernel":"primes","params":{"to":100}}`)
	j = s.wait(j.ID, time.Minute)
	r = s.do(http.MethodGet, "/v1/jobs/"+j.ID+"/artifact", nil)
	require.Equal(t, http.StatusNotFound, r.status, "primes has no artifact")
	r.problem(t)
}

// While Redis is unreachable the API answers 503 problem+json at once
// instead of hanging, and /readyz says so; /healthz stays 200.
func TestRedisUnreachable(t *testing.T) {
	t.Parallel()
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { dead.Close() })
	s := startSystem(t, systemOptions{redis: dead})
	start := time.Now()
	r := s.do(http.MethodPost, "/v1/jobs", []byte(`{"kernel":"primes","params":{"to":100}}`))
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	r.problem(t)
	require.NotEmpty(t, r.header.Get("Retry-After"))
	require.Equal(t, http.StatusServiceUnavailable, s.do(http.MethodGet, "/v1/jobs/job_01J00000000000000000000000", nil).status)
	require.Equal(t, http.StatusServiceUnavailable, s.do(http.MethodGet, "/readyz", nil).status)
	require.Equal(t, http.StatusOK, s.do(http.MethodGet, "/healthz", nil).status)
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestAuthAndTenants(t *testing.T) {
	t.Parallel()
	logs := new(lockedBuffer)
	s := startSystem(t, systemOptions{workers: 1, api: func(c *api.Config) {
		c.APIKeys = map[string]string{"acme": "key-acme-123", "globex": "key-globex-456"}
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}})
	r := s.do(http.MethodGet, "/v1/kernels", nil)
	require.Equal(t, http.StatusUnauthorized, r.status)
	r.problem(t)
	s.key = "wrong-key-000"
	require.Equal(t, http.StatusUnauthorized, s.do(http.MethodGet, "/v1/kernels", nil).status)

	s.key = "key-acme-123"
	j := s.submit(`{"kernel":"primes","params":{"to":100}}`)
	require.Equal(t, http.StatusOK, s.do(http.MethodGet, "/v1/jobs/"+j.ID, nil).status)

	s.key = "key-globex-456"
	for _, path := range []string{"/v1/jobs/" + j.ID, "/v1/jobs/" + j.ID + "/chunks", "/v1/jobs/" + j.ID + "/artifact"} {
		r := s.do(http.MethodGet, path, nil)
		require.Equal(t, http.StatusNotFound, r.status, "another tenant's job is not found: %s", path)
	}
	s.key = ""
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/openapi.json"} {
		require.Equal(t, http.StatusOK, s.do(http.MethodGet, path, nil).status, path)
	}
	require.Contains(t, logs.String(), `"request_id"`, "requests are logged with their ids")
	for _, secret := range []string{"key-acme-123", "key-globex-456", "wrong-key-000"} {
		require.NotContains(t, logs.String(), secret, "keys never appear in logs")
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestKernelsAndOpenAPI(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{})
	r := s.do(http.MethodGet, "/v1/kernels", nil)
	require.Equal(t, http.StatusOK, r.status)
	var out struct {
		Kernels []struct {
			Name         string
			Description  string
			ParamsSchema map[string]any `json:"params_schema"`
		}
	}
	r.json(t, &out)
	var names []string
	for _, k := range out.Kernels {
		names = append(names, k.Name)
		require.NotEmpty(t, k.Description)
		require.Equal(t, "object", k.ParamsSchema["type"], k.Name)
	}
	require.ElementsMatch(t, []string{"primes", "pi", "mandelbrot", "matmul", "stats", "wordcount"}, names)

	r = s.do(http.MethodGet, "/openapi.json", nil)
	require.Equal(t, http.StatusOK, r.status)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(r.body, &doc))
	require.Equal(t, "3.1.0", doc["openapi"])
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{workers: 1})
	j := s.submit(`{"kernel":"primes","params":{"to":1000}}`)
	s.wait(j.ID, time.Minute)
	r := s.do(http.MethodGet, "/metrics", nil)
	require.Equal(t, http.StatusOK, r.status)
	body := string(r.body)
	for _, want := range []string{
		`crunch_http_requests_total{code="202",method="POST",route="/v1/jobs"} 1`,
		`crunch_http_request_duration_seconds_bucket`,
		`crunch_jobs_submitted_total{kernel="primes"} 1`,
		`crunch_jobs_finished_total{kernel="primes",status="succeeded"} 1`,
		`asynq_tasks_enqueued_total`,
	} {
		require.Contains(t, body, want)
	}
}

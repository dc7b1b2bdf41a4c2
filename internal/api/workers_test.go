package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/worker"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

type workersBody struct {
	Workers []struct {
		ID          string     `json:"id"`
		Concurrency *int       `json:"concurrency"`
		StartedAt   *time.Time `json:"started_at"`
		LastSeen    *time.Time `json:"last_seen"`
		Running     []struct {
			JobID string `json:"job_id"`
			Step  string `json:"step"`
			Chunk *int   `json:"chunk"`
		} `json:"running"`
		OtherRunning int `json:"other_running"`
	} `json:"workers"`
	Queues []struct {
		Name     string  `json:"name"`
		Priority *string `json:"priority"`
		Pending  int     `json:"pending"`
		Active   int     `json:"active"`
	} `json:"queues"`
}

func getWorkers(t *testing.T, url, key string) (workersBody, string) {
	t.Helper()
	r := call(t, http.MethodGet, url+"/v1/workers", "Bearer "+key)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	var body workersBody
	require.NoError(t, json.Unmarshal([]byte(r.body), &body))
	return body, r.body
}

// GET /v1/workers shows a real worker with its slots and what it runs: the
// caller's own tasks by job id, another tenant's only as a count.
func TestWorkersEndpoint(t *testing.T) {
	t.Parallel()
	ns := redistest.Namespace(t)
	srv, err := api.New(api.Config{Namespace: ns, Logger: discard,
		APIKeys: map[string]string{"alice": aliceKey, "bob": bobKey}}, redistest.Client(t))
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	require.Equal(t, http.StatusUnauthorized, call(t, http.MethodGet, hs.URL+"/v1/workers", "").status)
	idle, _ := getWorkers(t, hs.URL, aliceKey)
	require.Empty(t, idle.Workers)
	require.Len(t, idle.Queues, 5, "high, normal, low, control, webhooks")

	w, err := worker.New(worker.Config{Namespace: ns, ID: "w-test-1", Concurrency: 2, Logger: discard}, redistest.Client(t))
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-done)
	})

	// Long enough to be seen running; canceled at the end.
	job := submitJob(t, hs.URL, aliceKey, `{"kernel":"primes","params":{"to":1e11},"chunks":64,"priority":"high"}`)
	t.Cleanup(func() { call(t, http.MethodPost, hs.URL+"/v1/jobs/"+job+"/cancel", "Bearer "+aliceKey) })

	var mine workersBody
	require.Eventually(t, func() bool {
		mine, _ = getWorkers(t, hs.URL, aliceKey)
		return len(mine.Workers) == 1 && slices.ContainsFunc(mine.Workers[0].Running, func(r struct {
			JobID string `json:"job_id"`
			Step  string `json:"step"`
			Chunk *int   `json:"chunk"`
		}) bool {
			return r.JobID == job && r.Step == "chunk" && r.Chunk != nil
		})
	}, 20*time.Second, 50*time.Millisecond, "alice sees her chunks on the worker")
	got := mine.Workers[0]
	require.Equal(t, "w-test-1", got.ID)
	require.NotNil(t, got.Concurrency)
	require.Equal(t, 2, *got.Concurrency)
	require.NotNil(t, got.LastSeen)
	require.WithinDuration(t, time.Now(), *got.LastSeen, 10*time.Second)
	require.NotNil(t, got.StartedAt)
	require.LessOrEqual(t, len(got.Running), 2)

	require.Eventually(t, func() bool {
		theirs, raw := getWorkers(t, hs.URL, bobKey)
		require.NotContains(t, raw, job, "bob never sees alice's job id")
		return len(theirs.Workers) == 1 && len(theirs.Workers[0].Running) == 0 && theirs.Workers[0].OtherRunning >= 1
	}, 20*time.Second, 50*time.Millisecond, "bob sees alice's tasks only as a count")

	_, raw := getWorkers(t, hs.URL, bobKey)
	var queues workersBody
	require.NoError(t, json.Unmarshal([]byte(raw), &queues))
	names := make([]string, 0, len(queues.Queues))
	for _, q := range queues.Queues {
		names = append(names, q.Name)
	}
	require.Equal(t, []string{ns + ":high", ns + ":normal", ns + ":low", ns + ":control", ns + ":webhooks"}, names)
	require.Equal(t, "high", *queues.Queues[0].Priority)
	require.Nil(t, queues.Queues[3].Priority)
	require.False(t, strings.Contains(raw, `"job_id"`), "no job ids for bob: %s", raw)
}

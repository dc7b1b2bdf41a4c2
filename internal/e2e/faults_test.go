package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/webhook"
	"github.com/crunchjobs/crunch/internal/worker"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels"
)

// boom is a kernel whose chunks panic.
type boomSpec struct{}

func (boomSpec) Name() string                  { return "boom" }
func (boomSpec) Description() string           { return "Panics in every chunk (tests only)." }
func (boomSpec) ArtifactType() string          { return "" }
func (boomSpec) ParamsSchema() json.RawMessage { return json.RawMessage(`{"type":"object"}`) }
func (boomSpec) Prepare(raw json.RawMessage) (*tasks.Prepared, error) {
	if err := tasks.NewParams(raw).Err(); err != nil {
		return nil, err
	}
	return &tasks.Prepared{Params: json.RawMessage(`{}`), Extent: 1, DefaultChunks: 1}, nil
}

type boomRunner struct{ runs *atomic.Int32 }

func (boomRunner) Name() string { return "boom" }
func (r boomRunner) Run(context.Context, tasks.Chunk) ([]byte, error) {
	r.runs.Add(1)
	panic("kernel bug")
}
func (boomRunner) Reduce(context.Context, json.RawMessage, tasks.Input, [][]byte) (*tasks.Output, error) {
	return nil, fmt.Errorf("unreachable")
}

// A chunk that panics is retried, then fails its job cleanly with
// kernel_error; the worker survives and other jobs are unaffected.
func TestPanickingKernelFailsJob(t *testing.T) {
	t.Parallel()
	runs := new(atomic.Int32)
	s := startSystem(t, systemOptions{workers: 2,
		api:    func(c *api.Config) { c.Specs = append(kernels.Specs(), boomSpec{}) },
		worker: func(c *worker.Config) { c.Runners = append(kernels.Runners(), boomRunner{runs}) },
	})
	bad := s.submit(`{"kernel":"boom","max_retries":1}`)
	good := s.submit(`{"kernel":"stats","params":{"values":[1,2,3]}}`)
	good = s.wait(good.ID, 30*time.Second)
	require.Equal(t, "succeeded", good.Status)

	bad = s.wait(bad.ID, 30*time.Second)
	require.Equal(t, "failed", bad.Status)
	require.Equal(t, "kernel_error", bad.Error.Type)
	require.Contains(t, bad.Error.Detail, "kernel panicked: kernel bug")
	require.Equal(t, int32(2), runs.Load(), "one try and one retry")
	c := s.chunks(bad.ID)[0]
	require.Equal(t, "failed", c.Status)
	require.Equal(t, 2, c.Attempts)
	require.Equal(t, 1, s.get(bad.ID).Chunks.Failed)

	// The workers still run jobs.
	again := s.wait(s.submit(`{"kernel":"primes","params":{"to":1000}}`).ID, 30*time.Second)
	require.Equal(t, "succeeded", again.Status)
}

// With API keys, each tenant has its own webhook secret, and its
// deliveries verify with that secret only.
func TestTenantWebhookSecrets(t *testing.T) {
	t.Parallel()
	keys := map[string]string{"acme": "key-acme-123", "globex": "key-globex-456"}
	s := startSystem(t, systemOptions{workers: 1,
		api: func(c *api.Config) {
			c.APIKeys, c.WebhookSecret, c.WebhookAllowPrivate = keys, testSecret, true
		},
		worker: func(c *worker.Config) { c.WebhookSecret, c.WebhookAllowPrivate = testSecret, true },
	})
	secrets := map[string]string{}
	for tenant, key := range keys {
		s.key = key
		r := s.do(http.MethodGet, "/v1/webhooks/secret", nil)
		require.Equal(t, http.StatusOK, r.status)
		var sec struct{ Secret string }
		r.json(t, &sec)
		require.True(t, strings.HasPrefix(sec.Secret, "whsec_"))
		secrets[tenant] = sec.Secret
	}
	require.NotEqual(t, secrets["acme"], secrets["globex"])
	require.NotEqual(t, testSecret, secrets["acme"])

	rc := newReceiver(t, func(int, string) int { return http.StatusOK })
	s.key = keys["acme"]
	s.submit(fmt.Sprintf(`{"kernel":"stats","params":{"values":[1]},"webhook":{"url":%q}}`, rc.URL))
	d := rc.waitFor(t, 1, 20*time.Second)[0]
	require.NoError(t, webhook.Verify(secrets["acme"], d.header, d.body))
	require.Error(t, webhook.Verify(secrets["globex"], d.header, d.body), "another tenant cannot forge it")
	require.Error(t, webhook.Verify(testSecret, d.header, d.body))
}

// Per-tenant limits hold: a submission rate (token bucket in Redis) and a
// cap on unfinished jobs, both answered with 429 and Retry-After; other
// tenants are unaffected.
func TestTenantLimits(t *testing.T) {
	t.Parallel()
	keys := map[string]string{"acme": "key-acme-123", "globex": "key-globex-456"}
	s := startSystem(t, systemOptions{api: func(c *api.Config) {
		// One token per 100 s: no refill can happen during the test,
		// however slow the machine.
		c.APIKeys, c.TenantRate, c.TenantBurst, c.TenantMaxActiveJobs = keys, 0.01, 3, 5
	}})
	s.key = keys["acme"]
	body := []byte(`{"kernel":"stats","params":{"values":[1]}}`)
	var ids []string
	for range 3 {
		r := s.do(http.MethodPost, "/v1/jobs", body)
		require.Equal(t, http.StatusAccepted, r.status)
		var j job
		r.json(t, &j)
		ids = append(ids, j.ID)
	}
	r := s.do(http.MethodPost, "/v1/jobs", body)
	require.Equal(t, http.StatusTooManyRequests, r.status, "burst of 3 used up")
	r.problem(t)
	retryAfter, err := strconv.Atoi(r.header.Get("Retry-After"))
	require.NoError(t, err)
	require.InDelta(t, 100, retryAfter, 5, "one token every 100 s")

	s.key = keys["globex"]
	require.Equal(t, http.StatusAccepted, s.do(http.MethodPost, "/v1/jobs", body).status, "another tenant has its own bucket")

	// Unfinished jobs: globex may have 5.
	s2 := startSystem(t, systemOptions{api: func(c *api.Config) {
		c.APIKeys, c.TenantMaxActiveJobs = keys, 2
	}})
	s2.key = keys["globex"]
	first := s2.submit(string(body))
	s2.submit(string(body))
	r = s2.do(http.MethodPost, "/v1/jobs", body)
	require.Equal(t, http.StatusTooManyRequests, r.status, "2 unfinished jobs is the cap")
	r.problem(t)
	require.Equal(t, http.StatusAccepted, s2.do(http.MethodPost, "/v1/jobs/"+first.ID+"/cancel", nil).status)
	s2.submit(string(body)) // a finished job frees its place
}

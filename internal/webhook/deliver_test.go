package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/tasks"
)

// received is one request a receiver got.
type received struct {
	path   string
	header http.Header
	body   []byte
	at     time.Time
}

// receiver is a real webhook receiver on 127.0.0.1.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

// newReceiver starts a receiver that answers its n-th request (from 1)
// with respond.
func newReceiver(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int)) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{path: r.URL.Path, header: r.Header.Clone(), body: b, at: time.Now()})
		n := len(rc.reqs)
		rc.mu.Unlock()
		respond(w, r, n)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

func status(code int) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(code) }
}

type testBundle struct {
	store   *store.Store
	job     *store.Job
	d       *Deliverer
	cfg     Config
	payload tasks.WebhookPayload
}

// setup stores a job of tenant "acme" whose webhook targets url, and
// returns a Deliverer configured by cfg (its Store, MasterSecret,
// MultiTenant and Logger filled in unless set).
func setup(t *testing.T, url string, cfg Config) *testBundle {
	t.Helper()
	ns := redistest.Namespace(t)
	st := store.New(redistest.Client(t), store.Config{Namespace: ns})
	now := time.Now().UTC()
	job := &store.Job{
		Job: crunchtype.Job{
			ID: "job_" + ns, Kernel: "primes", Status: crunchtype.StatusQueued,
			Params: json.RawMessage(`{"from":0,"to":100}`), Chunks: crunchtype.ChunkCounts{Total: 2},
			Priority: queue.PriorityNormal, CreatedAt: now,
			Webhook: &crunchtype.Webhook{URL: url, Events: DefaultEvents},
		},
		Tenant: "acme", Deadline: now.Add(time.Hour), MaxRetries: 3, Extent: 100,
	}
	require.NoError(t, st.Create(t.Context(), job, nil))
	job, err := st.Get(t.Context(), job.ID)
	require.NoError(t, err)

	if cfg.MasterSecret == "" {
		cfg.MasterSecret, cfg.MultiTenant = testMaster, true
	}
	cfg.Store = st
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(d.Close)
	p, err := NewPayload(job, EventSucceeded, now)
	require.NoError(t, err)
	return &testBundle{store: st, job: job, d: d, cfg: cfg, payload: p}
}

func (b *testBundle) task(t *testing.T) *asynq.Task {
	t.Helper()
	raw, err := json.Marshal(b.payload)
	require.NoError(t, err)
	return asynq.NewTask(tasks.TypeWebhook, raw)
}

func (b *testBundle) deliveries(t *testing.T) []crunchtype.Delivery {
	t.Helper()
	ds, err := b.store.Deliveries(t.Context(), b.job.ID)
	require.NoError(t, err)
	return ds
}

func acmeSecret(t *testing.T) string {
	t.Helper()
	s, err := Secret(testMaster, "acme", true)
	require.NoError(t, err)
	return s
}

func TestDeliverSigned(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, status(http.StatusNoContent))
	b := setup(t, rc.URL+"/hooks/crunch", Config{AllowPrivate: true})

	require.NoError(t, b.d.Handle(t.Context(), b.task(t)))

	reqs := rc.received()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, "/hooks/crunch", r.path)
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	require.Equal(t, "crunch-webhooks/1", r.header.Get("User-Agent"))
	require.Equal(t, b.payload.WebhookID, r.header.Get("webhook-id"))
	require.Equal(t, string(b.payload.Body), string(r.body), "the body is sent as built")
	require.Regexp(t, `^v1,[A-Za-z0-9+/]{43}=$`, r.header.Get("webhook-signature"))
	ts, err := strconv.ParseInt(r.header.Get("webhook-timestamp"), 10, 64)
	require.NoError(t, err)
	require.InDelta(t, time.Now().Unix(), ts, 5)

	// The tenant's own secret verifies it; the master secret and another
	// tenant's do not.
	require.NoError(t, Verify(acmeSecret(t), r.header, r.body))
	require.Error(t, Verify(testMaster, r.header, r.body))
	other, err := Secret(testMaster, "globex", true)
	require.NoError(t, err)
	require.Error(t, Verify(other, r.header, r.body))
	require.Error(t, Verify(acmeSecret(t), r.header, append(r.body, ' ')), "a changed body fails")

	ds := b.deliveries(t)
	require.Len(t, ds, 1)
	require.Equal(t, EventSucceeded, ds[0].Event)
	require.Equal(t, b.payload.WebhookID, ds[0].WebhookID)
	require.Equal(t, 1, ds[0].Attempt)
	require.NotNil(t, ds[0].StatusCode)
	require.Equal(t, http.StatusNoContent, *ds[0].StatusCode)
	require.Nil(t, ds[0].Error)
	require.Positive(t, ds[0].DurationMS)
	require.WithinDuration(t, time.Now(), ds[0].At, 5*time.Second)
	require.Equal(t, time.UTC, ds[0].At.Location())
}

func TestDeliverSingleTenantUsesMaster(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, status(http.StatusOK))
	b := setup(t, rc.URL, Config{MasterSecret: testMaster, AllowPrivate: true})
	require.NoError(t, b.d.Handle(t.Context(), b.task(t)))
	r := rc.received()[0]
	require.NoError(t, Verify(testMaster, r.header, r.body))
}

// A 503 is retried: the attempt is recorded with its status, and the next
// attempt carries the same webhook id and body under a new timestamp and
// signature.
func TestDeliverRetrySameID(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	var calls atomic.Int64
	start := time.Now()
	b := setup(t, rc.URL, Config{AllowPrivate: true, Now: func() time.Time {
		return start.Add(time.Duration(calls.Add(1)-1) * 2 * time.Minute) // within the 5 min tolerance
	}})

	err := b.d.Handle(t.Context(), b.task(t))
	ae, ok := errors.AsType[*AttemptError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, http.StatusServiceUnavailable, ae.StatusCode)
	require.False(t, ae.Final)
	require.NotErrorIs(t, err, asynq.SkipRetry)
	require.NoError(t, b.d.Handle(t.Context(), b.task(t)))

	reqs := rc.received()
	require.Len(t, reqs, 2)
	require.Equal(t, reqs[0].header.Get("webhook-id"), reqs[1].header.Get("webhook-id"))
	require.Equal(t, reqs[0].body, reqs[1].body)
	require.Equal(t, strconv.FormatInt(start.Unix(), 10), reqs[0].header.Get("webhook-timestamp"))
	require.Equal(t, strconv.FormatInt(start.Add(2*time.Minute).Unix(), 10), reqs[1].header.Get("webhook-timestamp"))
	require.NotEqual(t, reqs[0].header.Get("webhook-signature"), reqs[1].header.Get("webhook-signature"))
	for _, r := range reqs {
		require.NoError(t, Verify(acmeSecret(t), r.header, r.body))
	}

	ds := b.deliveries(t)
	require.Len(t, ds, 2)
	require.Equal(t, http.StatusServiceUnavailable, *ds[0].StatusCode)
	require.Nil(t, ds[0].Error, "an answer is not an error")
	require.Equal(t, http.StatusOK, *ds[1].StatusCode)
	require.True(t, ds[0].At.Equal(start.UTC()))
	require.True(t, ds[1].At.Equal(start.Add(2*time.Minute).UTC()))
}

func TestDeliverRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for name, tc := range map[string]struct {
		header string
		code   int
		want   time.Duration
	}{
		"seconds":   {header: "7200", code: http.StatusServiceUnavailable, want: 2 * time.Hour},
		"http date": {header: now.Add(3 * time.Hour).UTC().Format(http.TimeFormat), code: http.StatusTooManyRequests, want: 3 * time.Hour},
		"capped":    {header: "999999", code: http.StatusServiceUnavailable, want: MaxRetryAfter},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Retry-After", tc.header)
				w.WriteHeader(tc.code)
			})
			b := setup(t, rc.URL, Config{AllowPrivate: true, Now: func() time.Time { return now }})
			err := b.d.Handle(t.Context(), b.task(t))
			ae, ok := errors.AsType[*AttemptError](err)
			require.True(t, ok, "%v", err)
			require.Equal(t, tc.code, ae.StatusCode)
			// HTTP dates have whole seconds.
			require.InDelta(t, tc.want.Seconds(), ae.RetryAfter.Seconds(), 1)
			require.InDelta(t, tc.want.Seconds(), b.d.RetryDelay(0, err, b.task(t)).Seconds(), 1)
			require.Equal(t, tc.code, *b.deliveries(t)[0].StatusCode)
		})
	}
}

func TestDeliverGoneStops(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, status(http.StatusGone))
	b := setup(t, rc.URL, Config{AllowPrivate: true})
	err := b.d.Handle(t.Context(), b.task(t))
	require.ErrorIs(t, err, asynq.SkipRetry, "410 is not retried")
	require.ErrorIs(t, err, ErrGone)
	ae, ok := errors.AsType[*AttemptError](err)
	require.True(t, ok)
	require.True(t, ae.Final)
	ds := b.deliveries(t)
	require.Len(t, ds, 1)
	require.Equal(t, http.StatusGone, *ds[0].StatusCode)
	require.Nil(t, ds[0].Error)
}

func TestDeliverRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.URL.Path == "/elsewhere" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	b := setup(t, rc.URL+"/hook", Config{AllowPrivate: true})
	err := b.d.Handle(t.Context(), b.task(t))
	ae, ok := errors.AsType[*AttemptError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, http.StatusTemporaryRedirect, ae.StatusCode)
	require.NotErrorIs(t, err, asynq.SkipRetry, "a redirect is a failed attempt, retried")
	reqs := rc.received()
	require.Len(t, reqs, 1)
	require.Equal(t, "/hook", reqs[0].path)
	require.Equal(t, http.StatusTemporaryRedirect, *b.deliveries(t)[0].StatusCode)
}

// A redirect is not followed with a client given in Config either.
func TestDeliverCustomClientNoRedirect(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	client := &http.Client{Transport: NewTransport(true)}
	b := setup(t, rc.URL, Config{AllowPrivate: true, HTTPClient: client})
	err := b.d.Handle(t.Context(), b.task(t))
	require.Error(t, err)
	require.Len(t, rc.received(), 1)
	require.Nil(t, client.CheckRedirect, "the caller's client is not modified")
}

func TestDeliverTimeout(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		select {
		case <-r.Context().Done(): // the client gave up
		case <-time.After(5 * time.Second):
		}
		w.WriteHeader(http.StatusOK)
	})
	b := setup(t, rc.URL, Config{AllowPrivate: true, Timeout: 200 * time.Millisecond})
	start := time.Now()
	err := b.d.Handle(t.Context(), b.task(t))
	require.Less(t, time.Since(start), 2*time.Second)
	ae, ok := errors.AsType[*AttemptError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, "timeout", ae.Reason)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Zero(t, ae.StatusCode)
	ds := b.deliveries(t)
	require.Len(t, ds, 1)
	require.Nil(t, ds[0].StatusCode)
	require.NotNil(t, ds[0].Error)
	require.Equal(t, "timeout", *ds[0].Error)
	require.GreaterOrEqual(t, ds[0].DurationMS, 200.0)
	require.Less(t, ds[0].DurationMS, 1500.0)
}

// Without AllowPrivate, a target on loopback is refused when dialling —
// by literal address and by a host name resolving to it — and no request
// reaches the receiver.
func TestDeliverRefusedAddress(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, status(http.StatusOK))
	_, port, err := net.SplitHostPort(rc.Listener.Addr().String())
	require.NoError(t, err)
	for _, url := range []string{rc.URL, "http://localhost:" + port, "http://[::ffff:127.0.0.1]:" + port} {
		t.Run(url, func(t *testing.T) {
			t.Parallel()
			b := setup(t, url, Config{})
			err := b.d.Handle(t.Context(), b.task(t))
			ae, ok := errors.AsType[*AttemptError](err)
			require.True(t, ok, "%v", err)
			require.Equal(t, "refused address", ae.Reason)
			require.ErrorIs(t, err, ErrRefusedAddress)
			ds := b.deliveries(t)
			require.Len(t, ds, 1)
			require.Nil(t, ds[0].StatusCode)
			require.Equal(t, "refused address", *ds[0].Error)
		})
	}
	t.Cleanup(func() { require.Empty(t, rc.received(), "no request reached the receiver") })
}

func TestDeliverConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	b := setup(t, "http://"+addr, Config{AllowPrivate: true})
	err = b.d.Handle(t.Context(), b.task(t))
	require.Error(t, err)
	require.NotErrorIs(t, err, asynq.SkipRetry)
	require.Equal(t, "connection refused", *b.deliveries(t)[0].Error)
}

func TestDeliverPermanentFailures(t *testing.T) {
	t.Parallel()
	b := setup(t, "http://example.invalid", Config{AllowPrivate: true})

	err := b.d.Handle(t.Context(), asynq.NewTask(tasks.TypeWebhook, []byte(`{"job_id":`)))
	require.ErrorIs(t, err, asynq.SkipRetry, "malformed JSON")
	err = b.d.Handle(t.Context(), asynq.NewTask(tasks.TypeWebhook, []byte(`{"job_id":"x"}`)))
	require.ErrorIs(t, err, asynq.SkipRetry, "missing fields")
	require.Empty(t, b.deliveries(t))

	for url, why := range map[string]string{
		"ftp://example.com/hook": "refused scheme",
		"file:///etc/passwd":     "refused scheme",
		"http:///no-host":        "invalid url",
		"gopher://x":             "refused scheme",
		"http://%zz":             "invalid url",
	} {
		b.payload.URL = url
		err = b.d.Handle(t.Context(), b.task(t))
		require.ErrorIs(t, err, asynq.SkipRetry, url)
		ds := b.deliveries(t)
		require.Equal(t, why, *ds[len(ds)-1].Error, url)
	}
}

// A failed attempt keeps a finished job until after the next attempt.
func TestDeliverKeepsJob(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, status(http.StatusInternalServerError))
	b := setup(t, rc.URL, Config{AllowPrivate: true})
	require.NoError(t, b.store.Cancel(t.Context(), b.job.ID, time.Now()))
	// Shorten the job's life as a short CRUNCH_RESULT_TTL would.
	require.NoError(t, b.store.Redis().Expire(t.Context(), b.store.Namespace()+":job:{"+b.job.ID+"}", time.Minute).Err())

	require.Error(t, b.d.Handle(t.Context(), b.task(t)))
	ttl, err := b.store.Redis().TTL(t.Context(), b.store.Namespace()+":job:{"+b.job.ID+"}").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, time.Hour, "until the next attempt (5 s) + 1 h")
	require.LessOrEqual(t, ttl, time.Hour+6*time.Second)
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	st := store.New(redistest.Client(t), store.Config{Namespace: redistest.Namespace(t)})
	_, err := New(Config{MasterSecret: "nope", Store: st})
	require.ErrorIs(t, err, ErrInvalidSecret)
	_, err = New(Config{MasterSecret: testMaster})
	require.ErrorContains(t, err, "Store")
	_, err = New(Config{MasterSecret: testMaster, Store: st, Timeout: -1})
	require.ErrorContains(t, err, "Timeout")
	d, err := New(Config{MasterSecret: testMaster, Store: st})
	require.NoError(t, err)
	d.Close()
	require.Equal(t, TimeoutDefault, d.cfg.Timeout)
}

// OnAttempt is told each attempt's outcome: a failure with retries left
// is retrying, a 2xx delivered, a 410 given up.
func TestDeliverReportsOutcomes(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		w.WriteHeader([]int{http.StatusServiceUnavailable, http.StatusOK, http.StatusGone}[min(n, 3)-1])
	})
	var mu sync.Mutex
	var got []string
	b := setup(t, rc.URL, Config{AllowPrivate: true, OnAttempt: func(event, outcome string) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, event+" "+outcome)
	}})
	for range 3 {
		_ = b.d.Handle(t.Context(), b.task(t))
	}
	require.Equal(t, []string{"job.succeeded retrying", "job.succeeded delivered", "job.succeeded given_up"}, got)
}

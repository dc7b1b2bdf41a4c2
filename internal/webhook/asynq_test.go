package webhook

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/tasks"
)

// serve runs the webhook queue of b's namespace on a real asynq server, as
// the worker does, with Deliverer.RetryDelay divided by scale so the whole
// schedule runs in moments. It returns the errors Handle returned.
func serve(t *testing.T, b *testBundle, scale time.Duration) func() []error {
	t.Helper()
	rdb := redistest.Client(t)
	names := queue.NamesFor(b.store.Namespace())
	var (
		mu   sync.Mutex
		errs []error
	)
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:              2,
		Queues:                   map[string]int{names.Webhooks: 1},
		TaskCheckInterval:        5 * time.Millisecond,
		DelayedTaskCheckInterval: 20 * time.Millisecond,
		RetryDelayFunc: func(n int, err error, task *asynq.Task) time.Duration {
			return b.d.RetryDelay(n, err, task) / scale
		},
		LogLevel: asynq.FatalLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(_ context.Context, _ *asynq.Task, err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}),
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(tasks.TypeWebhook, b.d.Handle)
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)

	enq := queue.NewEnqueuer(rdb, b.store.Namespace())
	require.NoError(t, enq.Webhook(t.Context(), b.payload))
	require.NoError(t, enq.Webhook(t.Context(), b.payload), "a duplicate is harmless")
	return func() []error {
		mu.Lock()
		defer mu.Unlock()
		return append([]error(nil), errs...)
	}
}

// Through asynq, attempts are numbered from asynq's retry count, keep their
// webhook id, and stop at the first 2xx.
func TestAsynqRetriesUntilSuccess(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n < 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	b := setup(t, rc.URL, Config{AllowPrivate: true})
	serve(t, b, 1_000_000)

	require.Eventually(t, func() bool { return len(b.deliveries(t)) == 3 }, 10*time.Second, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // nothing follows a success
	ds := b.deliveries(t)
	require.Len(t, ds, 3)
	for i, d := range ds {
		require.Equal(t, i+1, d.Attempt)
		require.Equal(t, b.payload.WebhookID, d.WebhookID)
	}
	require.Equal(t, []int{502, 502, 200}, []int{*ds[0].StatusCode, *ds[1].StatusCode, *ds[2].StatusCode})
	reqs := rc.received()
	require.Len(t, reqs, 3, "the duplicate enqueue sent nothing")
	// (asynq schedules retries in whole seconds, so the scaled delays are
	// not measurable here; TestRetryDelay covers them.)
	for _, r := range reqs {
		require.Equal(t, b.payload.WebhookID, r.header.Get("webhook-id"))
		require.NoError(t, Verify(acmeSecret(t), r.header, r.body))
	}
}

// After the ninth retry fails, the delivery is given up: ten attempts, the
// last one final.
func TestAsynqGivesUp(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, status(http.StatusInternalServerError))
	b := setup(t, rc.URL, Config{AllowPrivate: true})
	// Scaled down a million times: 5 µs … 86 ms, about 0.3 s in all.
	errs := serve(t, b, 1_000_000)

	require.Eventually(t, func() bool { return len(errs()) == 10 }, 20*time.Second, 10*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // no eleventh attempt
	require.Len(t, rc.received(), 10)
	ds := b.deliveries(t)
	require.Len(t, ds, 10)
	for i, d := range ds {
		require.Equal(t, i+1, d.Attempt)
		require.Equal(t, http.StatusInternalServerError, *d.StatusCode)
	}
	got := errs()
	for i, err := range got {
		ae, ok := errors.AsType[*AttemptError](err)
		require.True(t, ok, "%v", err)
		require.Equal(t, i+1, ae.Attempt)
		require.Equal(t, i == 9, ae.Final, "attempt %d", i+1)
	}
	require.ErrorContains(t, got[9], "given up")
}

// A 410 ends the delivery through asynq too: one attempt, archived.
func TestAsynqGone(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, status(http.StatusGone))
	b := setup(t, rc.URL, Config{AllowPrivate: true})
	errs := serve(t, b, 1_000_000)
	require.Eventually(t, func() bool { return len(errs()) == 1 }, 10*time.Second, 10*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	require.Len(t, rc.received(), 1)
	require.Len(t, b.deliveries(t), 1)

	insp := asynq.NewInspectorFromRedisClient(redistest.Client(t))
	archived, err := insp.ListArchivedTasks(queue.NamesFor(b.store.Namespace()).Webhooks)
	require.NoError(t, err)
	require.Len(t, archived, 1)
}

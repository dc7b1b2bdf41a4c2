package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/client"
)

// The Go client against a real API and two workers: every call, and every
// error as a *client.Problem.
func TestClient(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{workers: 2})
	c := client.New(s.url)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a hang fails the test, not the run
	defer cancel()

	job, err := c.Submit(ctx, client.JobRequest{Kernel: "primes", Params: map[string]any{"to": 2e6}, Chunks: 4,
		Metadata: map[string]any{"customer": "42"}, IdempotencyKey: "client-test-1"})
	require.NoError(t, err)
	require.Equal(t, client.StatusQueued, job.Status)
	require.Equal(t, 4, job.Chunks.Total)

	var seen []client.Status
	done, err := c.Wait(ctx, job.ID, func(j *client.Job) { seen = append(seen, j.Status) })
	require.NoError(t, err)
	require.Equal(t, client.StatusSucceeded, done.Status)
	require.JSONEq(t, `{"count":148933,"sum":"142913828922","first":2,"last":1999993}`, string(done.Result))
	require.Equal(t, client.StatusSucceeded, seen[len(seen)-1], "every state seen, the last one too: %v", seen)

	again, err := c.Submit(ctx, client.JobRequest{Kernel: "primes", Params: map[string]any{"to": 2e6}, Chunks: 4,
		Metadata: map[string]any{"customer": "42"}, IdempotencyKey: "client-test-1"})
	require.NoError(t, err)
	require.Equal(t, job.ID, again.ID, "the same idempotency key and body give the first job")

	got, err := c.Get(ctx, job.ID)
	require.NoError(t, err)
	require.Equal(t, done.Result, got.Result)
	require.JSONEq(t, `{"customer":"42"}`, string(got.Metadata))
	chunks, err := c.Chunks(ctx, job.ID)
	require.NoError(t, err)
	require.Len(t, chunks, 4)
	for i, ch := range chunks {
		require.Equal(t, i, ch.Index)
		require.Equal(t, client.StatusSucceeded, ch.Status)
		require.NotNil(t, ch.Worker)
	}
	page, err := c.List(ctx, client.ListOptions{Kernel: "primes", Status: client.StatusSucceeded, Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Jobs, 1)
	require.Equal(t, job.ID, page.Jobs[0].ID)
	require.Nil(t, page.NextCursor)

	kernels, err := c.Kernels(ctx)
	require.NoError(t, err)
	require.Len(t, kernels, 6)

	img, err := c.Submit(ctx, client.JobRequest{Kernel: "mandelbrot", Params: json.RawMessage(`{"width":64,"height":48}`)})
	require.NoError(t, err)
	_, err = c.Wait(ctx, img.ID, nil)
	require.NoError(t, err)
	png, mediaType, err := c.Artifact(ctx, img.ID)
	require.NoError(t, err)
	require.Equal(t, "image/png", mediaType)
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")))

	long, err := c.Submit(ctx, client.JobRequest{Kernel: "primes", Params: map[string]any{"to": 1e11}, Chunks: 256})
	require.NoError(t, err)
	canceled, err := c.Cancel(ctx, long.ID)
	require.NoError(t, err)
	require.Equal(t, client.StatusCanceled, canceled.Status)
	final, err := c.Wait(ctx, long.ID, nil)
	require.NoError(t, err)
	require.Equal(t, client.StatusCanceled, final.Status)
	require.Equal(t, "canceled", final.Error.Type)

	for _, tt := range []struct {
		name   string
		call   func() error
		status int
		field  string
	}{
		{"invalid params", func() error {
			_, err := c.Submit(ctx, client.JobRequest{Kernel: "primes", Params: map[string]any{"to": -1}})
			return err
		}, http.StatusUnprocessableEntity, "params.to"},
		{"unknown job", func() error { _, err := c.Get(ctx, "job_nope"); return err }, http.StatusNotFound, ""},
		{"cancel a finished job", func() error { _, err := c.Cancel(ctx, job.ID); return err }, http.StatusConflict, ""},
		{"wait for an unknown job", func() error { _, err := c.Wait(ctx, "job_nope", nil); return err }, http.StatusNotFound, ""},
		{"artifact of a job without one", func() error { _, _, err := c.Artifact(ctx, job.ID); return err }, http.StatusNotFound, ""},
	} {
		err := tt.call()
		var p *client.Problem
		require.True(t, errors.As(err, &p), "%s: %v", tt.name, err)
		require.Equal(t, tt.status, p.Status, tt.name)
		require.NotEmpty(t, p.Title, tt.name)
		if tt.field != "" {
			require.Equal(t, tt.field, p.Errors[0].Field, tt.name)
		}
	}
}

// Wait survives a proxy that drops the event stream: it reconnects with
// Last-Event-ID and still returns the job's final state.
func TestClientWaitReconnects(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{workers: 1})
	target, err := url.Parse(s.url)
	require.NoError(t, err)
	var streams, resumed atomic.Int32
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Header.Get("Content-Type") != "text/event-stream" {
			return nil
		}
		if resp.Request.Header.Get("Last-Event-ID") != "" {
			resumed.Add(1)
		}
		if streams.Add(1) <= 2 { // the first two streams break after their first event
			resp.Body = &firstEventOnly{r: resp.Body}
		}
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)

	c := client.New(front.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	job, err := c.Submit(ctx, client.JobRequest{Kernel: "primes", Params: map[string]any{"to": 1e9}, Chunks: 8})
	require.NoError(t, err)
	done, err := c.Wait(ctx, job.ID, nil)
	require.NoError(t, err)
	require.Equal(t, client.StatusSucceeded, done.Status)
	require.JSONEq(t, `{"count":50847534,"sum":"24739512092254535","first":2,"last":999999937}`, string(done.Result))
	require.GreaterOrEqual(t, streams.Load(), int32(2), "the stream was broken at least once")
	require.Equal(t, streams.Load()-1, resumed.Load(), "every reconnect sent Last-Event-ID")
}

// firstEventOnly passes on a stream up to the end of its first event, then
// ends it, as a proxy dropping the connection would.
type firstEventOnly struct {
	r    io.ReadCloser
	seen []byte
	done bool
}

func (f *firstEventOnly) Read(p []byte) (int, error) {
	if f.done {
		return 0, io.EOF
	}
	n, err := f.r.Read(p)
	f.seen = append(f.seen, p[:n]...)
	if i := bytes.Index(f.seen, []byte("\n\n")); i >= 0 {
		f.done = true
		keep := n - (len(f.seen) - (i + 2))
		return max(keep, 0), nil
	}
	return n, err
}

func (f *firstEventOnly) Close() error { return f.r.Close() }

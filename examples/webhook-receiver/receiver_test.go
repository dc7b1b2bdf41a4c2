package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/client"
	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/worker"
)

func TestMain(m *testing.M) { redistest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newSecret(t *testing.T) string {
	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(t, err)
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

// startSystem runs an API and a worker in this process on the test Redis,
// signing webhooks with secret and allowed to deliver them to 127.0.0.1.
func startSystem(t *testing.T, secret string) (*client.Client, string) {
	t.Helper()
	ns := redistest.Namespace(t)
	srv, err := api.New(api.Config{Namespace: ns, Logger: quiet, WebhookSecret: secret, WebhookAllowPrivate: true}, redistest.Client(t))
	require.NoError(t, err)
	w, err := worker.New(worker.Config{Namespace: ns, Concurrency: 2, Logger: quiet, WebhookSecret: secret, WebhookAllowPrivate: true}, redistest.Client(t))
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
	base := "http://" + ln.Addr().String()
	return client.New(base), base
}

func submit(t *testing.T, c *client.Client, url string, events ...string) *client.Job {
	t.Helper()
	j, err := c.Submit(t.Context(), client.JobRequest{
		Kernel: "stats", Params: map[string]any{"values": []float64{1, 2, 3, 4}}, Chunks: 2,
		Webhook: &client.Webhook{URL: url, Events: events},
	})
	require.NoError(t, err)
	return j
}

type delivery struct {
	Event      string `json:"event"`
	WebhookID  string `json:"webhook_id"`
	Attempt    int    `json:"attempt"`
	StatusCode *int   `json:"status_code"`
}

// deliveries reads GET /v1/jobs/{id}/deliveries (the client has no method
// for it).
func deliveries(t *testing.T, base, id string) []delivery {
	t.Helper()
	res, err := http.Get(base + "/v1/jobs/" + id + "/deliveries")
	require.NoError(t, err)
	defer res.Body.Close()
	var out struct{ Deliveries []delivery }
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	return out.Deliveries
}

// The example's main: it gets the secret from the API, and prints one JSON
// line per event that a real worker delivers.
func TestMainPrintsEvents(t *testing.T) {
	t.Parallel()
	secret := newSecret(t)
	c, base := startSystem(t, secret)

	ctx, cancel := context.WithCancel(t.Context())
	stdoutR, stdoutW := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, func(k string) string {
			return map[string]string{"CRUNCH_URL": base}[k]
		}, stdoutW, stderr)
		stdoutW.Close()
	}()
	var addr string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`listening on (\S+)`).FindStringSubmatch(stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	}, 10*time.Second, 10*time.Millisecond, "stderr: %s", stderr)

	j := submit(t, c, "http://"+addr+"/hooks/crunch", "job.started", "job.succeeded")
	lines := bufio.NewScanner(stdoutR)
	var got []map[string]any
	for len(got) < 2 && lines.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(lines.Bytes(), &line))
		got = append(got, line)
	}
	require.Len(t, got, 2)
	// Events are delivered independently, so in any order.
	byType := map[any]map[string]any{got[0]["type"]: got[0], got[1]["type"]: got[1]}
	started, succeeded := byType["job.started"], byType["job.succeeded"]
	require.NotNil(t, started, "%v", got)
	require.NotNil(t, succeeded, "%v", got)
	require.Equal(t, j.ID, started["job"])
	require.Equal(t, j.ID, succeeded["job"])
	require.Equal(t, "succeeded", succeeded["status"])
	require.Equal(t, 2.5, succeeded["result"].(map[string]any)["mean"])
	require.NotEqual(t, started["webhook_id"], succeeded["webhook_id"], "one id per event")

	cancel()
	go io.Copy(io.Discard, stdoutR)
	require.NoError(t, <-done)
}

// A real worker's deliveries: the receiver handles each event once, also
// when crunch delivers it again because the first answer was lost, and
// refuses what crunch did not sign.
func TestReceiverDropsDuplicatesAndRefusesForgeries(t *testing.T) {
	t.Parallel()
	secret := newSecret(t)
	c, base := startSystem(t, secret)

	var (
		mu      sync.Mutex
		handled []string // webhook-id of each call of Handle
	)
	rc, err := NewReceiver(Config{Secret: secret, Logger: quiet, Handle: func(_ context.Context, id string, e Event) error {
		mu.Lock()
		defer mu.Unlock()
		handled = append(handled, id+" "+e.Type+" "+string(e.Data.Status))
		return nil
	}})
	require.NoError(t, err)

	// The first delivery reaches the receiver, which handles it, but its
	// answer is lost: the client sees 503, as after a proxy's timeout. So
	// crunch delivers the same event again ~5 s later.
	var (
		first   sync.Once
		capBody []byte
		capHdr  http.Header
	)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lost := false
		first.Do(func() {
			lost = true
			body, _ := io.ReadAll(r.Body)
			capBody, capHdr = body, r.Header.Clone()
			r.Body = io.NopCloser(bytes.NewReader(body))
			rec := httptest.NewRecorder()
			rc.ServeHTTP(rec, r)
			require.Equal(t, http.StatusOK, rec.Code)
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		if !lost {
			rc.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(front.Close)

	j := submit(t, c, front.URL, "job.succeeded")
	var ds []delivery
	require.Eventually(t, func() bool {
		ds = deliveries(t, base, j.ID)
		return len(ds) == 2
	}, 60*time.Second, 50*time.Millisecond, "crunch delivers again after the 503")
	require.Equal(t, ds[0].WebhookID, ds[1].WebhookID, "a retry keeps its webhook-id")
	require.Equal(t, 503, *ds[0].StatusCode)
	require.Equal(t, 200, *ds[1].StatusCode, "the duplicate is acknowledged")
	require.Equal(t, 1, rc.Duplicates())
	mu.Lock()
	require.Equal(t, []string{ds[0].WebhookID + " job.succeeded succeeded"}, handled, "handled once")
	mu.Unlock()

	// Forgeries, built from the captured real delivery.
	post := func(body []byte, header http.Header) int {
		req, err := http.NewRequest(http.MethodPost, front.URL, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header = header
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	signed := func(secret, id string, at time.Time, body []byte) http.Header {
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		sig, err := wh.Sign(id, at, body)
		require.NoError(t, err)
		return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {itoa(at.Unix())}, "Webhook-Signature": {sig},
			"Content-Type": {"application/json"}}
	}
	tampered := bytes.Replace(capBody, []byte(`"succeeded"`), []byte(`"failed"`), 1)
	require.NotEqual(t, capBody, tampered)
	for _, tt := range []struct {
		name   string
		body   []byte
		header http.Header
		want   int
	}{
		{"signed with another secret", capBody, signed(newSecret(t), "msg_forged1", time.Now(), capBody), http.StatusUnauthorized},
		{"tampered body, crunch's headers", tampered, capHdr.Clone(), http.StatusUnauthorized},
		{"no signature", capBody, http.Header{"Webhook-Id": {"msg_forged2"}, "Webhook-Timestamp": {itoa(time.Now().Unix())}}, http.StatusUnauthorized},
		{"signed with the secret but an hour old", capBody, signed(secret, "msg_old", time.Now().Add(-time.Hour), capBody), http.StatusUnauthorized},
		{"crunch's delivery replayed", capBody, capHdr.Clone(), http.StatusOK},
		{"a new event signed with the secret", capBody, signed(secret, "msg_new", time.Now(), capBody), http.StatusOK},
	} {
		require.Equal(t, tt.want, post(tt.body, tt.header), tt.name)
	}
	require.Equal(t, 2, rc.Duplicates(), "the replay is a duplicate")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{ds[0].WebhookID + " job.succeeded succeeded", "msg_new job.succeeded succeeded"}, handled)
}

// A failing handler answers 500 and forgets the id: crunch's retry is
// handled afresh.
func TestReceiverRetriesAfterAFailedHandler(t *testing.T) {
	t.Parallel()
	secret := newSecret(t)
	c, base := startSystem(t, secret)
	var mu sync.Mutex
	calls := 0
	rc, err := NewReceiver(Config{Secret: secret, Logger: quiet, Handle: func(context.Context, string, Event) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return errors.New("database away")
		}
		return nil
	}})
	require.NoError(t, err)
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)

	j := submit(t, c, srv.URL, "job.succeeded")
	var ds []delivery
	require.Eventually(t, func() bool {
		ds = deliveries(t, base, j.ID)
		return len(ds) == 2
	}, 60*time.Second, 50*time.Millisecond)
	require.Equal(t, 500, *ds[0].StatusCode)
	require.Equal(t, 200, *ds[1].StatusCode)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, 2, calls)
	require.Zero(t, rc.Duplicates())
}

// Remembered ids are bounded by MaxIDs and Remember.
func TestReceiverForgetsOldIDs(t *testing.T) {
	t.Parallel()
	rc, err := NewReceiver(Config{Secret: newSecret(t), MaxIDs: 3, Remember: time.Hour, Logger: quiet,
		Handle: func(context.Context, string, Event) error { return nil }})
	require.NoError(t, err)
	for _, id := range []string{"a", "b", "c", "d"} {
		require.True(t, rc.claim(id))
		rc.done(id)
	}
	require.Len(t, rc.seen, 3)
	require.True(t, rc.claim("a"), "the oldest was forgotten")
	require.False(t, rc.claim("d"))

	rc.release("a")
	require.True(t, rc.claim("a"), "a released id is handled again")
	rc.order[0].at = time.Now().Add(-2 * time.Hour)
	require.True(t, rc.claim("e"))
	require.LessOrEqual(t, len(rc.seen), 3)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

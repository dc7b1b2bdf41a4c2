package e2e_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/webhook"
	"github.com/crunchjobs/crunch/internal/worker"
)

// longPrimes is a job that runs for minutes, split into many chunks.
const longPrimes = `{"kernel":"primes","params":{"from":0,"to":1e11},"chunks":256}`

// waitRunningChunk waits until at least one chunk of the job is running.
func (s *system) waitRunningChunk(id string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, c := range s.chunks(id) {
			if c.Status == "running" {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatalf("no chunk of %s started running", id)
}

// activeTasks counts the chunk tasks asynq still has in flight.
func (s *system) activeTasks() int {
	s.t.Helper()
	insp := asynq.NewInspectorFromRedisClient(s.rdb)
	n := 0
	for _, q := range []string{queue.NamesFor(s.ns).Normal, queue.NamesFor(s.ns).Control} {
		info, err := insp.GetQueueInfo(q)
		if err != nil {
			continue // the queue does not exist yet
		}
		n += info.Active
	}
	return n
}

// Cancel answers 202 with the job already canceled; running chunks stop
// within 2 s and are not retried; nothing completes afterwards.
func TestCancelStopsRunningChunks(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{workers: 2, concurrency: 2})
	j := s.submit(longPrimes)
	s.waitRunningChunk(j.ID)

	r := s.do(http.MethodPost, "/v1/jobs/"+j.ID+"/cancel", nil)
	require.Equal(t, http.StatusAccepted, r.status, "body: %s", r.body)
	canceledAt := time.Now()
	var got job
	r.json(t, &got)
	require.Equal(t, "canceled", got.Status)
	require.Equal(t, "canceled", got.Error.Type)
	doneAtCancel := got.Chunks.Done

	// Every running chunk's handler returns within 2 s.
	for s.activeTasks() > 0 {
		require.Less(t, time.Since(canceledAt), 2*time.Second, "chunks still running after cancel")
		time.Sleep(10 * time.Millisecond)
	}
	stopped := time.Since(canceledAt)
	t.Logf("running chunks stopped %s after cancel", stopped)

	// Nothing is retried, nothing completes, the status stands.
	time.Sleep(1500 * time.Millisecond)
	after := s.get(j.ID)
	require.Equal(t, "canceled", after.Status)
	require.Equal(t, doneAtCancel, after.Chunks.Done)
	insp := asynq.NewInspectorFromRedisClient(s.rdb)
	info, err := insp.GetQueueInfo(queue.NamesFor(s.ns).Normal)
	require.NoError(t, err)
	require.Zero(t, info.Retry, "canceled chunks are not retried")
	require.Zero(t, info.Archived)
	require.Zero(t, s.activeTasks())
	for _, c := range s.chunks(j.ID) {
		require.NotEqual(t, "running", c.Status)
		require.NotEqual(t, "queued", c.Status)
	}

	// A finished job cannot be canceled again.
	r = s.do(http.MethodPost, "/v1/jobs/"+j.ID+"/cancel", nil)
	require.Equal(t, http.StatusConflict, r.status)
	r.problem(t)
	r = s.do(http.MethodPost, "/v1/jobs/job_01J00000000000000000000000/cancel", nil)
	require.Equal(t, http.StatusNotFound, r.status)
}

// A job still unfinished when its timeout passes fails with type timeout
// within 2 s, and its chunks stop.
func TestTimeout(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{workers: 1, concurrency: 2})
	j := s.submit(`{"kernel":"primes","params":{"to":1e11},"chunks":64,"timeout_seconds":1}`)
	created := time.Now()
	j = s.wait(j.ID, 10*time.Second)
	require.Less(t, time.Since(created), 3*time.Second, "timed out 1 s after creation, within 2 s")
	require.Equal(t, "failed", j.Status)
	require.Equal(t, "timeout", j.Error.Type)
	for s.activeTasks() > 0 {
		require.Less(t, time.Since(created), 3*time.Second, "chunks still running after the timeout")
		time.Sleep(10 * time.Millisecond)
	}
}

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	id, event string
	job       job
}

func (s *system) readEvents(id, lastEventID string) []sseEvent {
	s.t.Helper()
	req, err := http.NewRequestWithContext(s.t.Context(), http.MethodGet, s.url+"/v1/jobs/"+id+"/events", nil)
	require.NoError(s.t, err)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := s.client.Do(req)
	require.NoError(s.t, err)
	defer res.Body.Close()
	require.Equal(s.t, http.StatusOK, res.StatusCode)
	require.Equal(s.t, "text/event-stream", res.Header.Get("Content-Type"))
	var events []sseEvent
	var cur sseEvent
	first := s.onFirstEvent
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.event != "" {
				events = append(events, cur)
				if first != nil {
					first()
					first = nil
				}
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			require.NoError(s.t, json.Unmarshal([]byte(line[6:]), &cur.job))
		}
	}
	require.NoError(s.t, sc.Err())
	return events
}

// The event stream carries progress and status events to the terminal
// status, then ends; a reconnect with Last-Event-ID gets the terminal
// status again.
func TestEventStream(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{concurrency: 1}) // workers come after the stream is open
	j := s.submit(`{"kernel":"primes","params":{"to":3e7},"chunks":12}`)
	opened := make(chan struct{})
	s.onFirstEvent = func() { close(opened) }
	go func() {
		<-opened
		s.addWorker()
		s.addWorker()
	}()
	events := s.readEvents(j.ID, "")
	s.onFirstEvent = nil
	require.NotEmpty(t, events)
	last := events[len(events)-1]
	require.Equal(t, "status", last.event)
	require.Equal(t, "succeeded", last.job.Status)
	progress := 0
	for i, e := range events {
		require.Contains(t, []string{"status", "progress"}, e.event)
		require.Equal(t, j.ID, e.job.ID)
		if i > 0 {
			require.GreaterOrEqual(t, e.job.Chunks.Done, events[i-1].job.Chunks.Done, "progress never goes back")
		}
		if e.event == "progress" {
			progress++
		}
	}
	require.Equal(t, "queued", events[0].job.Status, "the stream opened before any worker ran")
	require.Positive(t, progress, "progress events were sent: %+v", events)

	again := s.readEvents(j.ID, last.id)
	require.Len(t, again, 1, "a finished job's stream is its terminal status, then the end")
	require.Equal(t, "succeeded", again[0].job.Status)
}

// Listing is newest first, filtered, and every job appears exactly once
// across pages even while new jobs arrive.
func TestListJobs(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{}) // no workers: jobs stay queued
	var created []string
	for i := range 20 {
		kernel := `"kernel":"stats","params":{"values":[1]}`
		if i%4 == 0 {
			kernel = `"kernel":"pi","params":{"samples":10}`
		}
		created = append(created, s.submit("{"+kernel+"}").ID)
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		new []string
	)
	wg.Go(func() { // jobs keep arriving while we page
		for range 10 {
			r := s.send(false, http.MethodPost, "/v1/jobs", []byte(`{"kernel":"stats","params":{"values":[2]}}`))
			var j job
			if json.Unmarshal(r.body, &j) == nil {
				mu.Lock()
				new = append(new, j.ID)
				mu.Unlock()
			}
		}
	})
	seen := map[string]int{}
	var order []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 50)
		path := "/v1/jobs?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := s.do(http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var page struct {
			Jobs       []job
			NextCursor *string `json:"next_cursor"`
		}
		r.json(t, &page)
		require.LessOrEqual(t, len(page.Jobs), 3)
		for _, j := range page.Jobs {
			seen[j.ID]++
			order = append(order, j.ID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	wg.Wait()
	for _, id := range created {
		require.Equal(t, 1, seen[id], "job %s listed exactly once", id)
	}
	for id, n := range seen {
		require.Equal(t, 1, n, "job %s listed once", id)
	}
	for i := 1; i < len(order); i++ {
		require.Greater(t, order[i-1], order[i], "newest first")
	}

	r := s.do(http.MethodGet, "/v1/jobs?kernel=pi&status=queued&limit=1000", nil)
	require.Equal(t, http.StatusOK, r.status)
	var pis struct{ Jobs []job }
	r.json(t, &pis)
	require.Len(t, pis.Jobs, 5)
	for _, j := range pis.Jobs {
		require.Equal(t, "pi", j.Kernel)
	}
	for _, bad := range []string{"?limit=0", "?limit=1001", "?limit=x", "?status=done", "?kernel=fft", "?cursor=garbage", "?sort=asc"} {
		r := s.do(http.MethodGet, "/v1/jobs"+bad, nil)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, bad)
		r.problem(t)
	}
}

// Concurrent duplicate POSTs with one Idempotency-Key create one job; the
// same key with another body is a conflict.
func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{})
	const n = 12
	statuses := make([]int, n)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Same JSON, different key order and spacing.
			body := `{"kernel":"stats","params":{"values":[1,2,3]},"metadata":{"a":1}}`
			if i%2 == 1 {
				body = `{ "metadata": {"a":1}, "params": {"values": [1, 2, 3]}, "kernel": "stats" }`
			}
			r := s.send(false, http.MethodPost, "/v1/jobs", []byte(body), "Idempotency-Key", "order-42")
			statuses[i] = r.status
			var j job
			if json.Unmarshal(r.body, &j) == nil {
				ids[i] = j.ID
			}
		})
	}
	wg.Wait()
	created := 0
	for i := range n {
		require.Contains(t, []int{http.StatusAccepted, http.StatusOK}, statuses[i])
		if statuses[i] == http.StatusAccepted {
			created++
		}
		require.Equal(t, ids[0], ids[i], "every duplicate returns the first job")
	}
	require.Equal(t, 1, created)

	r := s.do(http.MethodPost, "/v1/jobs", []byte(`{"kernel":"stats","params":{"values":[1,2,3]},"metadata":{"a":1}}`), "Idempotency-Key", "order-42")
	require.Equal(t, http.StatusOK, r.status)
	r = s.do(http.MethodPost, "/v1/jobs", []byte(`{"kernel":"stats","params":{"values":[9]}}`), "Idempotency-Key", "order-42")
	require.Equal(t, http.StatusConflict, r.status)
	r.problem(t)
	r = s.do(http.MethodPost, "/v1/jobs", []byte(`{"kernel":"stats","params":{"values":[9]}}`), "Idempotency-Key", strings.Repeat("k", 256))
	require.Equal(t, http.StatusUnprocessableEntity, r.status)

	n2, err := s.rdb.ZCard(t.Context(), s.ns+":tenant:anonymous:jobs").Result()
	require.NoError(t, err)
	require.Equal(t, int64(1), n2, "one job stored")
}

// receiver is a webhook endpoint on 127.0.0.1 that records deliveries.
type receiver struct {
	*httptest.Server
	mu         sync.Mutex
	deliveries []delivery
	// answer is the status code for a delivery: the n-th (0-based) of its
	// event type.
	answer func(n int, event string) int
	byType map[string]int
}

type delivery struct {
	at     time.Time
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, answer func(n int, event string) int) *receiver {
	rc := &receiver{answer: answer, byType: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev struct{ Type string }
		_ = json.Unmarshal(b, &ev)
		rc.mu.Lock()
		n := rc.byType[ev.Type]
		rc.byType[ev.Type]++
		rc.deliveries = append(rc.deliveries, delivery{at: time.Now(), header: r.Header.Clone(), body: b})
		rc.mu.Unlock()
		w.WriteHeader(rc.answer(n, ev.Type))
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.deliveries...)
}

func (rc *receiver) waitFor(t *testing.T, n int, timeout time.Duration) []delivery {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for len(rc.got()) < n {
		require.True(t, time.Now().Before(deadline), "got %d deliveries, want %d", len(rc.got()), n)
		time.Sleep(20 * time.Millisecond)
	}
	return rc.got()
}

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func webhookSystem(t *testing.T, workers int) *system {
	return startSystem(t, systemOptions{workers: workers, concurrency: 2,
		api: func(c *api.Config) { c.WebhookSecret, c.WebhookAllowPrivate = testSecret, true },
		worker: func(c *worker.Config) {
			c.WebhookSecret, c.WebhookAllowPrivate = testSecret, true
		},
	})
}

// Webhooks are signed per the Standard Webhooks scheme, sent for the
// events asked for, retried with the same webhook-id after a 503, and
// every attempt is visible in the delivery log.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	s := webhookSystem(t, 2)
	rc := newReceiver(t, func(n int, event string) int {
		if event == webhook.EventSucceeded && n == 0 {
			return http.StatusServiceUnavailable // the first job.succeeded attempt fails
		}
		return http.StatusNoContent
	})
	r := s.do(http.MethodGet, "/v1/webhooks/secret", nil)
	require.Equal(t, http.StatusOK, r.status)
	var sec struct{ Secret string }
	r.json(t, &sec)
	require.Equal(t, testSecret, sec.Secret, "without tenants the secret is the master secret")

	j := s.submit(fmt.Sprintf(`{"kernel":"stats","params":{"values":[1,2,3]},"chunks":2,
		"webhook":{"url":%q,"events":["job.started","job.succeeded"]}}`, rc.URL+"/hook"))
	got := rc.waitFor(t, 3, 20*time.Second)
	types := map[string][]delivery{}
	for _, d := range got {
		require.NoError(t, webhook.Verify(sec.Secret, d.header, d.body), "signature verifies")
		var ev struct {
			Type      string
			Timestamp time.Time
			Data      job
		}
		require.NoError(t, json.Unmarshal(d.body, &ev))
		require.Equal(t, j.ID, ev.Data.ID)
		types[ev.Type] = append(types[ev.Type], d)
	}
	require.Len(t, types["job.started"], 1)
	require.Len(t, types["job.succeeded"], 2, "retried after the 503")
	first, retry := types["job.succeeded"][0], types["job.succeeded"][1]
	require.Equal(t, first.header.Get("webhook-id"), retry.header.Get("webhook-id"), "same webhook-id on a retry")
	require.Equal(t, first.body, retry.body)
	require.NotEqual(t, types["job.started"][0].header.Get("webhook-id"), first.header.Get("webhook-id"))
	require.GreaterOrEqual(t, retry.at.Sub(first.at), 4*time.Second, "retried after about 5 s")

	r = s.do(http.MethodGet, "/v1/jobs/"+j.ID+"/deliveries", nil)
	require.Equal(t, http.StatusOK, r.status)
	var log struct {
		Deliveries []struct {
			Event      string
			WebhookID  string `json:"webhook_id"`
			Attempt    int
			StatusCode *int `json:"status_code"`
		}
	}
	r.json(t, &log)
	require.Len(t, log.Deliveries, 3)
	var succeeded []int
	for _, d := range log.Deliveries {
		if d.Event == "job.succeeded" {
			succeeded = append(succeeded, *d.StatusCode)
		}
	}
	require.Equal(t, []int{503, 204}, succeeded)
}

// 410 Gone stops the retries at once.
func TestWebhookGoneStopsRetries(t *testing.T) {
	t.Parallel()
	s := webhookSystem(t, 1)
	rc := newReceiver(t, func(int, string) int { return http.StatusGone })
	j := s.submit(fmt.Sprintf(`{"kernel":"stats","params":{"values":[1]},"webhook":{"url":%q}}`, rc.URL))
	rc.waitFor(t, 1, 20*time.Second)
	time.Sleep(7 * time.Second) // a retry would come after 5–5.5 s
	require.Len(t, rc.got(), 1)
	r := s.do(http.MethodGet, "/v1/jobs/"+j.ID+"/deliveries", nil)
	require.Contains(t, string(r.body), `"status_code":410`)
}

// Webhook targets are checked at submission.
func TestWebhookValidation(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{api: func(c *api.Config) { c.WebhookSecret = testSecret }})
	for _, tt := range []struct{ webhook, field string }{
		{`{"url":"http://127.0.0.1:8080/h"}`, "webhook.url"},
		{`{"url":"http://10.1.2.3/h"}`, "webhook.url"},
		{`{"url":"http://169.254.169.254/latest/meta-data"}`, "webhook.url"},
		{`{"url":"http://[::1]/h"}`, "webhook.url"},
		{`{"url":"http://localhost/h"}`, "webhook.url"},
		{`{"url":"ftp://example.com/h"}`, "webhook.url"},
		{`{"url":"not a url"}`, "webhook.url"},
		{`{"url":"https://example.com/h","events":["job.done"]}`, "webhook.events[0]"},
		{`{"url":"https://example.com/h","events":[]}`, "webhook.events"},
		{`{"events":["job.failed"]}`, "webhook.url"},
		{`{"url":"https://example.com/h","secret":"x"}`, "webhook.secret"},
		{`"https://example.com/h"`, "webhook"},
	} {
		r := s.do(http.MethodPost, "/v1/jobs", []byte(`{"kernel":"stats","params":{"values":[1]},"webhook":`+tt.webhook+`}`))
		require.Equal(t, http.StatusUnprocessableEntity, r.status, tt.webhook)
		p := r.problem(t)
		require.Equal(t, tt.field, p.Errors[0].Field, tt.webhook)
	}
	r := s.do(http.MethodPost, "/v1/jobs", []byte(`{"kernel":"stats","params":{"values":[1]},"webhook":{"url":"https://example.com/h"}}`))
	require.Equal(t, http.StatusAccepted, r.status)
	var j struct{ Webhook struct{ Events []string } }
	r.json(t, &j)
	require.Equal(t, []string{"job.succeeded", "job.failed", "job.canceled"}, j.Webhook.Events, "default events")

	r = s.do(http.MethodPost, "/v1/jobs", []byte(`{"kernel":"stats","params":{"values":[1]},
		"webhook":{"url":"https://example.com/h","events":["job.succeeded","job.failed","job.succeeded"]}}`))
	require.Equal(t, http.StatusAccepted, r.status)
	r.json(t, &j)
	require.Equal(t, []string{"job.succeeded", "job.failed"}, j.Webhook.Events, "echoed as given, without repeats")
}

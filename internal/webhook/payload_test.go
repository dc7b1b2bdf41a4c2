package webhook

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/store"
)

func sampleJob() *store.Job {
	created := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
	finished := created.Add(1500 * time.Millisecond)
	return &store.Job{
		Job: crunchtype.Job{
			ID: "job_01JTEST", Kernel: "primes", Status: crunchtype.StatusFailed,
			Params: json.RawMessage(`{"from":0,"to":100}`), Chunks: crunchtype.ChunkCounts{Total: 4, Done: 3, Failed: 1},
			Progress: 0.75, Error: &crunchtype.Problem{Type: "kernel_error", Title: "Kernel error", Status: 500, Detail: "<boom> & co"},
			Priority: "normal", Metadata: json.RawMessage(`{"customer":"42"}`),
			Webhook:   &crunchtype.Webhook{URL: "https://example.com/hook", Events: DefaultEvents},
			CreatedAt: created, StartedAt: &created, FinishedAt: &finished,
		},
		Tenant: "acme",
	}
}

func TestNewPayload(t *testing.T) {
	t.Parallel()
	job := sampleJob()
	now := time.Date(2026, 11, 23, 11, 0, 0, 5, time.FixedZone("CET", 3600))
	p, err := NewPayload(job, EventFailed, now)
	require.NoError(t, err)

	require.Equal(t, job.ID, p.JobID)
	require.Equal(t, "acme", p.Tenant)
	require.Equal(t, EventFailed, p.Event)
	require.Equal(t, "https://example.com/hook", p.URL)
	require.Equal(t, WebhookID(job.ID, EventFailed), p.WebhookID)

	// Field order type, timestamp, data; timestamp in UTC.
	require.Regexp(t, `^\{"type":"job.failed","timestamp":"2026-11-23T10:00:00.000000005Z","data":\{`, string(p.Body))
	var got struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(p.Body, &got))
	require.True(t, got.Timestamp.Equal(now))
	// data is the Job exactly as the API serves it (encoding/json, as Echo).
	want, err := json.Marshal(job)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got.Data))
	require.NotContains(t, string(p.Body), `"tenant"`, "bookkeeping fields are not sent")
}

func TestNewPayloadErrors(t *testing.T) {
	t.Parallel()
	noHook := sampleJob()
	noHook.Webhook = nil
	_, err := NewPayload(noHook, EventSucceeded, time.Now())
	require.ErrorIs(t, err, ErrNoWebhook)

	_, err = NewPayload(sampleJob(), "job.exploded", time.Now())
	require.ErrorContains(t, err, "unknown event")
}

// knownID is WebhookID("job_01JTEST", "job.succeeded"), computed
// independently (Python's hashlib and base64).
const knownID = "msg_l3yokqw4ktzn4zxrozoe7r4p2q"

func TestWebhookID(t *testing.T) {
	t.Parallel()
	format := regexp.MustCompile(`^msg_[a-z2-7]{26}$`)
	seen := map[string]string{}
	for _, job := range []string{"job_01JA", "job_01JB", "job_01JA\x00job.started"} {
		for _, ev := range Events {
			id := WebhookID(job, ev)
			require.Regexp(t, format, id)
			require.Equal(t, id, WebhookID(job, ev), "stable")
			require.NotContains(t, seen, id, "%s %s collides with %s", job, ev, seen[id])
			seen[id] = job + " " + ev
		}
	}
	// Fixed: ids already handed out must not change in a new release.
	require.Equal(t, knownID, WebhookID("job_01JTEST", EventSucceeded))
}

package webhook

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/tasks"
)

// body is what a webhook POSTs, in this field order.
type body struct {
	Type      string     `json:"type"`
	Timestamp time.Time  `json:"timestamp"`
	Data      *store.Job `json:"data"`
}

// NewPayload builds the delivery of event for job, as it is at now: the
// body {"type", "timestamp", "data"} carries the Job exactly as the API
// serves it, and is sent unchanged on every attempt. The webhook id is
// [WebhookID] of the job and event.
func NewPayload(job *store.Job, event string, now time.Time) (tasks.WebhookPayload, error) {
	if job.Webhook == nil || job.Webhook.URL == "" {
		return tasks.WebhookPayload{}, fmt.Errorf("webhook %s of %s: %w", event, job.ID, ErrNoWebhook)
	}
	if !KnownEvent(event) {
		return tasks.WebhookPayload{}, fmt.Errorf("webhook of %s: unknown event %q", job.ID, event)
	}
	b, err := json.Marshal(body{Type: event, Timestamp: now.UTC(), Data: job})
	if err != nil {
		return tasks.WebhookPayload{}, fmt.Errorf("webhook %s of %s: encode body: %w", event, job.ID, err)
	}
	return tasks.WebhookPayload{
		JobID:     job.ID,
		Tenant:    job.Tenant,
		Event:     event,
		WebhookID: WebhookID(job.ID, event),
		URL:       job.Webhook.URL,
		Body:      b,
	}, nil
}

// idEncoding is lowercase base32 without padding: header-safe, no dots
// (the signed content joins id, timestamp and body with dots).
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// WebhookID returns the webhook id of event of job jobID: "msg_" and 26
// characters from a SHA-256 of both. The same event of the same job always
// has the same id — on every retry, and when the event is announced twice,
// so the queue's task id dedupes it — and different events have different
// ids. Receivers use it to drop duplicates.
func WebhookID(jobID, event string) string {
	sum := sha256.Sum256([]byte("crunch webhook id v1\x00" + jobID + "\x00" + event))
	return "msg_" + idEncoding.EncodeToString(sum[:16])
}

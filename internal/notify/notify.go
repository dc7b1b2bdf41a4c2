// Package notify tells the outside world that a job changed: live
// subscribers (SSE) through Redis pub/sub, and the job's webhook through a
// delivery task. The API (cancel) and the workers (start, progress, end)
// both change jobs, so both call it.
//
// The job's status in Redis is always written first; notifications only
// follow it. A lost pub/sub message costs a subscriber a little freshness
// (it re-reads the job on its next heartbeat); webhook tasks are enqueued
// with the webhook id as task id, so an event announced twice is sent once.
package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/internal/webhook"
)

// Notifier announces job changes.
type Notifier struct {
	store   *store.Store
	enqueue *queue.Enqueuer
	now     func() time.Time
}

// New returns a Notifier.
func New(s *store.Store, e *queue.Enqueuer, now func() time.Time) *Notifier {
	return &Notifier{store: s, enqueue: e, now: now}
}

// Progress announces that more chunks of job id are done.
func (n *Notifier) Progress(ctx context.Context, id string) error {
	return n.store.Publish(ctx, id, store.EventProgress)
}

// Status announces that job reached a new status, named by its webhook
// event (job.started, job.succeeded, …). job must be the state after the
// change: it is the webhook's data.
func (n *Notifier) Status(ctx context.Context, job *store.Job, event string) error {
	err := n.store.Publish(ctx, job.ID, store.EventStatus)
	if job.Webhook == nil || !slices.Contains(job.Webhook.Events, event) {
		return err
	}
	p, perr := webhook.NewPayload(job, event, n.now())
	if perr == nil {
		perr = n.enqueue.Webhook(ctx, p)
	}
	if perr != nil {
		err = errors.Join(err, fmt.Errorf("webhook %s of %s: %w", event, job.ID, perr))
	}
	return err
}

// EventFor is the webhook event of a terminal status.
func EventFor(s store.Status) string {
	switch s {
	case store.StatusSucceeded:
		return webhook.EventSucceeded
	case store.StatusFailed:
		return webhook.EventFailed
	case store.StatusCanceled:
		return webhook.EventCanceled
	default:
		return webhook.EventStarted
	}
}

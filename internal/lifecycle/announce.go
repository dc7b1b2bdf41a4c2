package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/internal/webhook"
)

// Progress announces that more chunks of job id are done.
func (l *Lifecycle) Progress(ctx context.Context, id string) {
	if err := l.store.Publish(ctx, id, store.EventProgress); err != nil {
		l.log.WarnContext(ctx, "publish progress", slog.String("job", id), slog.Any("err", err))
	}
}

// announce tells live subscribers and the job's webhook that job reached
// the status of event (job.started, job.succeeded, …). job must be the
// state after the change: it is the webhook's data.
func (l *Lifecycle) announce(ctx context.Context, job *store.Job, event string) {
	err := l.store.Publish(ctx, job.ID, store.EventStatus)
	if job.Webhook != nil && slices.Contains(job.Webhook.Events, event) {
		p, perr := webhook.NewPayload(job, event, l.now())
		if perr == nil {
			perr = l.queue.Webhook(ctx, p)
		}
		if perr != nil {
			err = errors.Join(err, fmt.Errorf("webhook %s: %w", event, perr))
		}
	}
	if err != nil {
		l.log.ErrorContext(ctx, "announce job status", slog.String("job", job.ID), slog.String("event", event), slog.Any("err", err))
	}
}

// EventFor is the webhook event of a status a job moves to.
func EventFor(s crunchtype.Status) string {
	switch s {
	case crunchtype.StatusSucceeded:
		return webhook.EventSucceeded
	case crunchtype.StatusFailed:
		return webhook.EventFailed
	case crunchtype.StatusCanceled:
		return webhook.EventCanceled
	default:
		return webhook.EventStarted
	}
}

package lifecycle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/tasks"
)

// Errors.
var (
	// ErrTenantBusy: the tenant already has as many unfinished jobs as it
	// may have.
	ErrTenantBusy = errors.New("tenant has too many unfinished jobs")
	// ErrNotActive: the job has already ended.
	ErrNotActive = store.ErrNotActive
)

// Config configures a Lifecycle.
type Config struct {
	// Store and Queue are where jobs and their tasks live. Required.
	Store *store.Store
	Queue *queue.Enqueuer
	// Logger receives failed announcements. Defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// Lifecycle makes jobs' transitions. It is safe for concurrent use.
type Lifecycle struct {
	store *store.Store
	queue *queue.Enqueuer
	log   *slog.Logger
	now   func() time.Time
}

// New returns a Lifecycle.
func New(cfg Config) *Lifecycle {
	l := &Lifecycle{store: cfg.Store, queue: cfg.Queue, log: cmp.Or(cfg.Logger, slog.Default()), now: cfg.Now}
	if l.now == nil {
		l.now = time.Now
	}
	return l
}

// Submit accepts a new queued job with its bulk input (nil for none):
// it counts the job among its tenant's unfinished jobs (ErrTenantBusy when
// the tenant already has maxActive; 0 means no limit), stores it and
// enqueues its plan and deadline. On error nothing of the job remains.
// ctx should not end with the client's request: a job half made is undone,
// which needs Redis too.
func (l *Lifecycle) Submit(ctx context.Context, job *store.Job, input []byte, maxActive int) error {
	if maxActive <= 0 {
		maxActive = int(^uint32(0) >> 1)
	}
	ok, err := l.store.AdmitActive(ctx, job.Tenant, maxActive)
	if err != nil {
		return err
	}
	if !ok {
		return ErrTenantBusy
	}
	if err := l.store.Create(ctx, job, input); err != nil {
		return errors.Join(err, l.store.ReleaseActive(ctx, job.Tenant))
	}
	if err := errors.Join(l.queue.Plan(ctx, job.ID), l.queue.Deadline(ctx, job.ID, job.Deadline)); err != nil {
		// Delete also releases the tenant's count. A plan enqueued before
		// the deadline failed finds no job and does nothing.
		if delErr := l.store.Delete(ctx, job); delErr != nil {
			l.log.ErrorContext(ctx, "delete job after failed enqueue", slog.String("job", job.ID), slog.Any("err", delErr))
		}
		return err
	}
	return nil
}

// StartChunk marks chunk index of job id running on worker, unless the
// job has ended or the chunk already completed (see store.StartChunk).
// The first chunk to start moves the job to running and announces it.
func (l *Lifecycle) StartChunk(ctx context.Context, id string, index int, worker string, now time.Time) (store.Started, error) {
	st, err := l.store.StartChunk(ctx, id, index, worker, now)
	if err == nil && st.JobStarted {
		l.announceCurrent(ctx, id, crunchtype.StatusRunning)
	}
	return st, err
}

// Cancel ends a queued or running job as canceled at the client's
// request and returns it as it is now; ErrNotActive when it had already
// ended.
func (l *Lifecycle) Cancel(ctx context.Context, id string) (*store.Job, error) {
	if err := l.store.Cancel(ctx, id, l.now()); err != nil {
		return nil, err
	}
	return l.ended(ctx, id, crunchtype.StatusCanceled)
}

// Fail ends a queued or running job as failed with p. It returns the job
// as it is now, or nil when the job had already ended (losing the race to
// a cancel or a reduce is fine: the first ending stands).
func (l *Lifecycle) Fail(ctx context.Context, id string, p *crunchtype.Problem) (*store.Job, error) {
	ok, err := l.store.Fail(ctx, id, p, l.now())
	if err != nil || !ok {
		return nil, err
	}
	return l.ended(ctx, id, crunchtype.StatusFailed)
}

// Succeed ends a running job with its merged output. It returns the job
// as it is now, or nil when the job had already ended.
func (l *Lifecycle) Succeed(ctx context.Context, id string, out *tasks.Output) (*store.Job, error) {
	ok, err := l.store.Succeed(ctx, id, out.Result, out.Artifact, l.now())
	if err != nil || !ok {
		return nil, err
	}
	return l.ended(ctx, id, crunchtype.StatusSucceeded)
}

// ended makes the announcements of a job that this caller just ended with
// status, in the package's one order, and returns the job after the
// change. Only reading the job back can fail; the ending stands anyway.
func (l *Lifecycle) ended(ctx context.Context, id string, status crunchtype.Status) (*store.Job, error) {
	if status != crunchtype.StatusSucceeded { // a succeeded job has nothing left running
		if err := l.store.PublishStop(ctx, id); err != nil {
			// The workers' watchers read the status from Redis within a second.
			l.log.WarnContext(ctx, "publish stop", slog.String("job", id), slog.Any("err", err))
		}
	}
	job := l.announceCurrent(ctx, id, status)
	if err := l.queue.ForgetDeadline(ctx, id); err != nil {
		l.log.WarnContext(ctx, "delete deadline task", slog.String("job", id), slog.Any("err", err))
	}
	if job == nil {
		return nil, fmt.Errorf("read job %s after it was %s", id, status)
	}
	return job, nil
}

// announceCurrent reads the job as it is now and announces its move to
// status; it returns the job, or nil when it could not be read.
func (l *Lifecycle) announceCurrent(ctx context.Context, id string, status crunchtype.Status) *store.Job {
	job, err := l.store.Get(ctx, id)
	if err != nil {
		l.log.ErrorContext(ctx, "announce job status", slog.String("job", id), slog.String("status", string(status)), slog.Any("err", err))
		return nil
	}
	l.announce(ctx, job, EventFor(status))
	return job
}

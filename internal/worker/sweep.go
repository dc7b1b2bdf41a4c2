package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/tasks"
)

// Liveness timing. A killed worker's tasks are handed back within
// heartbeatTTL + deadGrace + sweepInterval (about 8 s) instead of asynq's
// ~3 minutes.
const (
	heartbeatInterval = time.Second
	heartbeatTTL      = 5 * time.Second
	sweepInterval     = time.Second
)

// heartbeat keeps this worker's liveness key fresh until ctx is done, and
// hands back the tasks it left behind: entries of its running set whose
// handler ended while Redis was unreachable, so that neither the entry
// nor asynq's record of the task could be updated.
func (w *Worker) heartbeat(ctx context.Context) {
	tick := time.NewTicker(heartbeatInterval)
	defer tick.Stop()
	started := time.Now()
	for {
		if err := w.store.Heartbeat(ctx, w.cfg.ID, heartbeatTTL); err != nil && ctx.Err() == nil {
			w.log.Warn("heartbeat", slog.Any("err", err))
		} else if left, err := w.store.RunningOn(ctx, w.cfg.ID); err == nil {
			for _, o := range left {
				if !w.running.isTracked(o.Key()) {
					w.handBack(ctx, o)
				}
			}
		}
		// For GET /v1/workers: this worker's slots and when it was last seen.
		if err := w.store.Announce(ctx, w.cfg.ID, w.cfg.Concurrency, started, time.Now(), heartbeatTTL); err != nil && ctx.Err() == nil {
			w.log.Debug("announce", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sweep hands back the tasks of dead workers. Every worker runs it; one
// at a time leads (a lease in Redis), so a dead worker's tasks are
// reclaimed once.
func (w *Worker) sweep(ctx context.Context) {
	tick := time.NewTicker(sweepInterval)
	defer tick.Stop()
	deadSince := map[string]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		lead, err := w.store.LeadSweeper(ctx, w.cfg.ID, 3*sweepInterval)
		if err != nil || !lead {
			clear(deadSince)
			continue
		}
		w.sweepOnce(ctx, deadSince)
	}
}

// deadGrace is how long a worker's heartbeat must stay lapsed before its
// tasks are handed back. It covers a Redis restart, after which every
// heartbeat key has expired until its worker beats again (within 1 s).
const deadGrace = 2 * time.Second

func (w *Worker) sweepOnce(ctx context.Context, deadSince map[string]time.Time) {
	orphans, idle, err := w.store.Orphans(ctx)
	if err != nil {
		return
	}
	now := time.Now()
	seen := map[string]bool{}
	for _, o := range orphans {
		seen[o.Worker] = true
		if _, ok := deadSince[o.Worker]; !ok {
			deadSince[o.Worker] = now
		}
		if now.Sub(deadSince[o.Worker]) >= deadGrace {
			w.handBack(ctx, o)
		}
	}
	for worker := range deadSince {
		if !seen[worker] {
			delete(deadSince, worker)
		}
	}
	for _, dead := range idle {
		_ = w.store.Forget(ctx, dead)
	}
}

// track records that this worker runs t, in Redis (where the sweeper
// looks for the tasks of dead workers) and here (where the heartbeat looks
// for entries left behind), until the returned func is called. It is
// called before the task starts its work, so that if this worker dies
// from then on the sweeper finds the task and hands it back.
func (w *Worker) track(ctx context.Context, t store.RunningTask) (untrack func(), err error) {
	t.Worker = w.cfg.ID
	w.running.track(t.Key(), true)
	if err := w.store.Track(ctx, t); err != nil {
		w.running.track(t.Key(), false)
		return nil, err
	}
	return func() {
		if err := w.store.Untrack(context.WithoutCancel(ctx), t); err != nil {
			w.log.WarnContext(ctx, "untrack task", slog.String("task", t.Key()), slog.Any("err", err))
		}
		w.running.track(t.Key(), false) // after the Redis entry is gone, or failed to go
	}, nil
}

// handBack enqueues again a task that o's worker no longer runs. A plan or
// reduce step is queued again unless its job ended; its entry is dropped
// only then, so that a sweep that fails half way is simply done again.
func (w *Worker) handBack(ctx context.Context, o store.RunningTask) {
	if o.Step == store.StepChunk {
		w.handBackChunk(ctx, o)
		return
	}
	job, err := w.activeJob(ctx, o.JobID)
	if err != nil {
		return
	}
	if job != nil {
		if o.Step == store.StepPlan {
			err = w.enqueue.ResumePlan(ctx, job.ID, o.Worker)
		} else {
			err = w.enqueue.ResumeReduce(ctx, job.ID, o.Worker)
		}
		if err != nil {
			w.log.Error("hand back task", slog.String("task", o.Key()), slog.Any("err", err))
			return
		}
		w.metrics.handedBack.WithLabelValues(o.Step).Inc()
		w.log.Warn("handed back a task", slog.String("from_worker", o.Worker), slog.String("job", job.ID), slog.String("step", o.Step))
	}
	if err := w.store.Untrack(ctx, o); err != nil {
		w.log.Warn("untrack task", slog.String("task", o.Key()), slog.Any("err", err))
	}
}

// handBackChunk enqueues again a chunk that o's worker no longer runs,
// unless it completed meanwhile — then the job may lack its next chunk or
// its reduce.
func (w *Worker) handBackChunk(ctx context.Context, o store.RunningTask) {
	attempts, ok, err := w.store.ReclaimChunk(ctx, o, w.cfg.Now())
	if err != nil {
		return
	}
	if !ok {
		if err := w.advance(ctx, o.JobID); err != nil {
			w.log.Warn("advance job", slog.String("job", o.JobID), slog.Any("err", err))
		}
		return
	}
	job, err := w.store.Get(ctx, o.JobID)
	if err != nil {
		return
	}
	p := tasks.ChunkPayload{JobID: job.ID, Index: o.Index, Range: tasks.ChunkRange(job.Extent, job.Chunks.Total, o.Index)}
	if err := w.enqueue.HandBack(ctx, p, job.MaxRetries, job.Deadline, attempts); err != nil {
		w.log.Error("hand back chunk", slog.String("job", job.ID), slog.Int("chunk", o.Index), slog.Any("err", err))
		return
	}
	w.metrics.handedBack.WithLabelValues(o.Step).Inc()
	w.log.Warn("handed back a chunk", slog.String("from_worker", o.Worker),
		slog.String("job", job.ID), slog.Int("chunk", o.Index), slog.Int("attempts", attempts))
}

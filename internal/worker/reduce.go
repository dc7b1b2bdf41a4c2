package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/tasks"
)

// handleReduce merges a job's partial results in chunk order and ends the
// job as succeeded.
func (w *Worker) handleReduce(ctx context.Context, t *asynq.Task) error {
	var p tasks.ReducePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode reduce payload: %v: %w", err, asynq.SkipRetry)
	}
	job, err := w.activeJob(ctx, p.JobID)
	if job == nil {
		return err
	}
	runner := w.runners[job.Kernel]
	if runner == nil {
		return fmt.Errorf("unknown kernel %q", job.Kernel) // another worker may know it
	}
	untrack, err := w.track(ctx, store.RunningTask{JobID: job.ID, Step: store.StepReduce})
	if err != nil {
		return err
	}
	defer untrack()
	partials, err := w.store.Partials(ctx, job.ID, job.Chunks.Total)
	if err != nil {
		return err
	}
	runCtx, cancel := w.running.start(ctx, job.ID, job.Deadline)
	defer cancel()
	var input tasks.Input
	if job.HasInput {
		if input, err = w.store.Input(runCtx, job.ID); err != nil {
			return err
		}
	}
	out, err := safely(func() (*tasks.Output, error) { return runner.Reduce(runCtx, job.Params, input, partials) })
	if err != nil {
		switch {
		case errors.Is(context.Cause(runCtx), errStopped):
			return revoked()
		case !w.cfg.Now().Before(job.Deadline):
			w.failJob(ctx, job, timeoutError(job))
			return revoked()
		case ctx.Err() != nil:
			return ctx.Err()
		}
		retried, _ := asynq.GetRetryCount(ctx)
		maxRetry, _ := asynq.GetMaxRetry(ctx)
		if retried >= maxRetry || errors.Is(err, tasks.ErrPermanent) {
			w.failJob(ctx, job, kernelError(fmt.Sprintf("reduce failed: %v", err)))
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
		return err
	}
	ended, err := w.jobs.Succeed(ctx, job.ID, out)
	if err != nil {
		return err
	}
	if ended != nil {
		w.log.InfoContext(ctx, "job succeeded", slog.String("job", job.ID), slog.String("kernel", job.Kernel))
		w.observeEnded(ended)
	}
	return nil
}

// handleDeadline fails a job that is still unfinished when its timeout
// passes. Chunks running at that moment stop through their own deadline;
// this task covers a job none of whose chunks is running.
func (w *Worker) handleDeadline(ctx context.Context, t *asynq.Task) error {
	var p tasks.DeadlinePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode deadline payload: %v: %w", err, asynq.SkipRetry)
	}
	job, err := w.activeJob(ctx, p.JobID)
	if job != nil {
		w.failJob(ctx, job, timeoutError(job))
	}
	return err
}

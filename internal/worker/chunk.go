package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/hibiken/asynq"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/tasks"
)

// errStopped is the cause of a chunk's context when its job ended early
// (canceled or timed out). Work stopped for it is revoked, not retried.
var errStopped = errors.New("job stopped")

// revoked tells asynq to neither retry nor archive a task whose job ended.
func revoked() error { return fmt.Errorf("%w: %w", errStopped, asynq.RevokeTask) }

// handleChunk runs one chunk of a job.
func (w *Worker) handleChunk(ctx context.Context, t *asynq.Task) error {
	var p tasks.ChunkPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode chunk payload: %v: %w", err, asynq.SkipRetry)
	}
	job, err := w.activeJob(ctx, p.JobID)
	if job == nil {
		return err
	}
	runner := w.runners[job.Kernel]
	if runner == nil {
		w.failJob(ctx, job, kernelError(fmt.Sprintf("worker %s does not run kernel %s", w.cfg.ID, job.Kernel)))
		return fmt.Errorf("unknown kernel %q: %w", job.Kernel, asynq.SkipRetry)
	}
	if !w.cfg.Now().Before(job.Deadline) {
		w.failJob(ctx, job, timeoutError(job))
		return revoked()
	}
	untrack, err := w.track(ctx, store.RunningTask{JobID: job.ID, Step: store.StepChunk, Index: p.Index})
	if err != nil {
		return err
	}
	defer untrack()
	started := w.cfg.Now()
	st, err := w.jobs.StartChunk(ctx, job.ID, p.Index, w.cfg.ID, started)
	if err != nil {
		return err
	}
	if st.Verdict == store.StartDone {
		// Run again after completing: the first run may have died before
		// it released the next chunk or enqueued the reduce.
		return w.advance(ctx, job.ID)
	}
	if st.Verdict != store.StartOK {
		return nil // the job ended: nothing to do
	}

	runCtx, cancel := w.running.start(ctx, job.ID, job.Deadline)
	defer cancel()
	chunk := tasks.Chunk{Index: p.Index, Total: job.Chunks.Total, Range: p.Range, Params: job.Params}
	if job.HasInput {
		in, err := w.store.Input(runCtx, job.ID)
		if err != nil {
			return err
		}
		chunk.Input = in
	}
	partial, err := safely(func() ([]byte, error) { return runner.Run(runCtx, chunk) })
	finished := w.cfg.Now()
	w.metrics.chunkDuration.WithLabelValues(job.Kernel).Observe(finished.Sub(started).Seconds())
	attempt := store.Attempt{Index: p.Index, Worker: w.cfg.ID, N: st.Attempts, Started: started}
	if err != nil {
		return w.chunkFailed(ctx, runCtx, job, attempt, err)
	}
	c, err := w.store.CompleteChunk(ctx, job.ID, attempt, finished, partial)
	if err != nil {
		return err
	}
	if c.Superseded {
		// This worker lost the chunk (it was cut off, and the chunk was
		// handed back and started again elsewhere): the newer run's result
		// stands, this one is dropped.
		w.metrics.chunks.WithLabelValues(job.Kernel, "superseded").Inc()
		w.log.WarnContext(ctx, "chunk result refused: a newer attempt runs elsewhere",
			slog.String("job", job.ID), slog.Int("chunk", p.Index), slog.Int("attempt", st.Attempts))
		return revoked()
	}
	w.metrics.chunks.WithLabelValues(job.Kernel, "succeeded").Inc()
	if c.Counted {
		w.jobs.Progress(ctx, job.ID)
	}
	// What follows is enqueued before this task is acknowledged: if the
	// worker dies here, the chunk runs again and, finding itself done,
	// calls advance, which does it again.
	if c.AllDone() {
		return w.enqueue.Reduce(ctx, job.ID)
	}
	if next := w.cfg.Window + c.Done - 1; c.Counted && next < c.Total {
		return w.enqueueChunk(ctx, job, next) // keep the job's window full
	}
	return nil
}

// advance moves a running job on after a crash may have interrupted it:
// it releases the chunks its window is missing, or enqueues the reduce
// once every chunk has completed. Task ids make both harmless to repeat.
func (w *Worker) advance(ctx context.Context, id string) error {
	job, err := w.activeJob(ctx, id)
	if job == nil || !job.Planned {
		return err
	}
	if job.Chunks.Done < job.Chunks.Total {
		return w.release(ctx, job)
	}
	return w.enqueue.Reduce(ctx, id)
}

// chunkFailed decides what a failed chunk means: its job ended (revoke),
// the job's timeout passed (fail the job), the worker is shutting down
// (hand the task back), or the kernel failed (retry, then fail the job).
func (w *Worker) chunkFailed(ctx, runCtx context.Context, job *store.Job, a store.Attempt, cause error) error {
	index := a.Index
	now := w.cfg.Now()
	switch {
	case errors.Is(context.Cause(runCtx), errStopped):
		w.metrics.chunks.WithLabelValues(job.Kernel, "stopped").Inc()
		return revoked()
	case !now.Before(job.Deadline):
		w.metrics.chunks.WithLabelValues(job.Kernel, "timeout").Inc()
		w.failJob(ctx, job, timeoutError(job))
		return revoked()
	case ctx.Err() != nil:
		return ctx.Err() // asynq stopped us (shutdown); it hands the task back
	}
	w.metrics.chunks.WithLabelValues(job.Kernel, "failed").Inc()
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	final := retried >= maxRetry
	recorded, err := w.store.RecordChunkError(ctx, job.ID, a, now, cause, final)
	if err != nil {
		return errors.Join(cause, err)
	}
	if !recorded { // the job ended, or a newer attempt runs elsewhere
		return revoked()
	}
	attrs := []any{slog.String("job", job.ID), slog.Int("chunk", index),
		slog.Int("attempt", retried+1), slog.Bool("final", final), slog.Any("err", cause)}
	var pe *panicError
	if errors.As(cause, &pe) {
		attrs = append(attrs, slog.String("stack", string(pe.stack)))
	}
	w.log.WarnContext(ctx, "chunk failed", attrs...)
	if !final {
		return cause
	}
	w.failJob(ctx, job, kernelError(fmt.Sprintf("chunk %d failed after %d attempts: %v", index, retried+1, cause)))
	return fmt.Errorf("%w: %w", cause, asynq.SkipRetry)
}

// failJob ends an unfinished job as failed; the lifecycle tells every
// worker to stop its chunks. Losing the race to another ending (a cancel,
// the reduce) is fine: the first ending stands.
func (w *Worker) failJob(ctx context.Context, job *store.Job, p *crunchtype.Problem) {
	ended, err := w.jobs.Fail(ctx, job.ID, p)
	if err != nil {
		w.log.ErrorContext(ctx, "end job", slog.String("job", job.ID), slog.Any("err", err))
		return
	}
	if ended != nil {
		w.log.InfoContext(ctx, "job failed", slog.String("job", job.ID), slog.String("error_type", p.Type), slog.String("detail", p.Detail))
		w.observeEnded(ended)
	}
}

// observeEnded records the metrics of a job this worker ended.
func (w *Worker) observeEnded(job *store.Job) {
	w.metrics.jobs.WithLabelValues(job.Kernel, string(job.Status)).Inc()
	w.metrics.jobDuration.WithLabelValues(job.Kernel, string(job.Status)).Observe(w.cfg.Now().Sub(job.CreatedAt).Seconds())
}

func kernelError(detail string) *crunchtype.Problem {
	return &crunchtype.Problem{Type: crunchtype.TypeKernelError, Title: "Kernel failed", Detail: detail}
}

func timeoutError(job *store.Job) *crunchtype.Problem {
	return &crunchtype.Problem{Type: crunchtype.TypeTimeout, Title: "Job timed out",
		Detail: fmt.Sprintf("The job did not finish within %s of its creation.", job.Deadline.Sub(job.CreatedAt))}
}

// panicError is a kernel panic turned into an error. Its message is what
// clients see; the stack goes to the worker's log only.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("kernel panicked: %v", e.value) }

// safely runs f, turning a panic into an error so that a crashing kernel
// takes the same path as a failing one.
func safely[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return f()
}

// activeJob returns the job named id, or nil when it has ended or no
// longer exists (it expired, or was never accepted): a task of such a job
// has nothing left to do and is dropped rather than retried. An error is
// returned only when the job could not be read.
func (w *Worker) activeJob(ctx context.Context, id string) (*store.Job, error) {
	job, err := w.store.Get(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case job.Status.Terminal():
		return nil, nil
	}
	return job, nil
}

package worker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/crunchjobs/crunch/tasks"
)

// runningChunks tracks the contexts of the chunks (and reduces) running in
// this worker, by job, so that a job that ends early stops them all.
type runningChunks struct {
	mu    sync.Mutex
	next  uint64
	byJob map[string]map[uint64]context.CancelCauseFunc
	// tracked are the tasks (store.RunningTask.Key) this worker's handlers hold;
	// an entry of this worker's running set in Redis that is not here was
	// left behind (its handler ended while Redis was unreachable).
	tracked map[string]bool
}

func newRunningChunks() *runningChunks {
	return &runningChunks{byJob: map[string]map[uint64]context.CancelCauseFunc{}, tracked: map[string]bool{}}
}

func (r *runningChunks) track(key string, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if on {
		r.tracked[key] = true
	} else {
		delete(r.tracked, key)
	}
}

func (r *runningChunks) isTracked(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tracked[key]
}

// start derives the context a chunk of job runs in: it ends at the job's
// deadline, or when the job is stopped. The returned func releases it.
func (r *runningChunks) start(ctx context.Context, job string, deadline time.Time) (context.Context, context.CancelFunc) {
	ctx = tasks.WithJobID(ctx, job) // for kernels that name the job, such as exec kernels
	ctx, cancelDeadline := context.WithDeadline(ctx, deadline)
	ctx, cancel := context.WithCancelCause(ctx)
	r.mu.Lock()
	r.next++
	id := r.next
	if r.byJob[job] == nil {
		r.byJob[job] = map[uint64]context.CancelCauseFunc{}
	}
	r.byJob[job][id] = cancel
	r.mu.Unlock()
	return ctx, func() {
		r.mu.Lock()
		delete(r.byJob[job], id)
		if len(r.byJob[job]) == 0 {
			delete(r.byJob, job)
		}
		r.mu.Unlock()
		cancel(nil)
		cancelDeadline()
	}
}

// stop cancels every running chunk of job with cause.
func (r *runningChunks) stop(job string, cause error) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cancel := range r.byJob[job] {
		cancel(cause)
	}
	return len(r.byJob[job])
}

// jobs returns the jobs with running chunks.
func (r *runningChunks) jobs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	jobs := make([]string, 0, len(r.byJob))
	for job := range r.byJob {
		jobs = append(jobs, job)
	}
	return jobs
}

// watchStops stops the chunks of jobs that end early. A message on the
// cancel channel stops them within milliseconds; re-reading the status of
// every job with running chunks each watchInterval stops them even when a
// message was lost (the status in Redis is the truth).
func (w *Worker) watchStops(ctx context.Context) {
	sub := w.rdb.Subscribe(ctx, w.store.CancelChannel())
	defer sub.Close()
	msgs := sub.Channel()
	tick := time.NewTicker(watchInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-msgs:
			if !ok {
				return
			}
			if n := w.running.stop(msg.Payload, errStopped); n > 0 {
				w.log.Info("stopping chunks of ended job", slog.String("job", msg.Payload), slog.Int("chunks", n))
			}
		case <-tick.C:
			w.checkRunning(ctx)
		}
	}
}

func (w *Worker) checkRunning(ctx context.Context) {
	jobs := w.running.jobs()
	if len(jobs) == 0 {
		return
	}
	statuses, err := w.store.Statuses(ctx, jobs)
	if err != nil {
		return // Redis is away; the chunks' own deadlines still hold
	}
	for i, st := range statuses {
		if st == "" || st.Terminal() {
			w.running.stop(jobs[i], errStopped)
		}
	}
}

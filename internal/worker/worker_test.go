package worker

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/stats"
)

func TestMain(m *testing.M) { redistest.Main(m) }

type testBundle struct {
	worker *Worker
	store  *store.Store
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	rdb := redistest.Client(t)
	w, err := New(Config{
		Namespace: redistest.Namespace(t),
		ID:        "test-worker",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, rdb)
	require.NoError(t, err)
	return &testBundle{worker: w, store: w.store}
}

// createJob stores a job the way the API does and returns it.
func (b *testBundle) createJob(t *testing.T, spec tasks.Spec, params string, chunks int) *store.Job {
	t.Helper()
	prep, err := spec.Prepare(json.RawMessage(params))
	require.NoError(t, err)
	now := time.Now().UTC()
	job := &store.Job{
		Job: crunchtype.Job{
			ID: "job_" + redistest.Namespace(t), Kernel: spec.Name(), Status: crunchtype.StatusQueued,
			Params: prep.Params, Chunks: crunchtype.ChunkCounts{Total: chunks}, Priority: queue.PriorityNormal,
			CreatedAt: now,
		},
		Tenant: "anonymous", Deadline: now.Add(time.Hour), MaxRetries: 3, Extent: prep.Extent,
	}
	require.NoError(t, b.store.Create(t.Context(), job, prep.Input))
	return job
}

func chunkTask(t *testing.T, job *store.Job, i int) *asynq.Task {
	t.Helper()
	b, err := json.Marshal(tasks.ChunkPayload{JobID: job.ID, Index: i, Range: tasks.ChunkRange(job.Extent, job.Chunks.Total, i)})
	require.NoError(t, err)
	return asynq.NewTask(tasks.TypeChunk, b)
}

// A chunk task executed twice — as asynq does when a worker dies after
// computing but before acknowledging — must not change the progress counts
// or the result.
func TestChunkExecutedTwiceCountsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	params := `{"values":[1e16, 1, -1e16, 3.5, 7, -2.25, 1e-300, 42]}`
	job := b.createJob(t, stats.Spec{}, params, 3)

	require.NoError(t, b.worker.handleChunk(ctx, chunkTask(t, job, 0)))
	require.NoError(t, b.worker.handleChunk(ctx, chunkTask(t, job, 0)))
	got, err := b.store.Get(ctx, job.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.Chunks.Done, "a chunk run twice is counted once")
	require.Equal(t, crunchtype.StatusRunning, got.Status)

	require.NoError(t, b.worker.handleChunk(ctx, chunkTask(t, job, 1)))
	require.NoError(t, b.worker.handleChunk(ctx, chunkTask(t, job, 2)))
	require.NoError(t, b.worker.handleChunk(ctx, chunkTask(t, job, 2)))
	got, err = b.store.Get(ctx, job.ID)
	require.NoError(t, err)
	require.Equal(t, crunchtype.ChunkCounts{Total: 3, Done: 3}, got.Chunks)
	require.Equal(t, 1.0, got.Progress)

	reduce := asynq.NewTask(tasks.TypeReduce, []byte(`{"job_id":"`+job.ID+`"}`))
	require.NoError(t, b.worker.handleReduce(ctx, reduce))
	require.NoError(t, b.worker.handleReduce(ctx, reduce), "a second reduce is a no-op")
	// And a chunk arriving after the job ended changes nothing.
	require.NoError(t, b.worker.handleChunk(ctx, chunkTask(t, job, 1)))

	got, err = b.store.Get(ctx, job.ID)
	require.NoError(t, err)
	require.Equal(t, crunchtype.StatusSucceeded, got.Status)
	require.Equal(t, crunchtype.ChunkCounts{Total: 3, Done: 3}, got.Chunks)
	want := kerneltest.MustRun(t, stats.Spec{}, stats.Runner{}, params, 1)
	require.JSONEq(t, string(want.Result), string(got.Result))

	chunks, err := b.store.Chunks(ctx, got)
	require.NoError(t, err)
	require.Len(t, chunks, 3)
	for _, c := range chunks {
		require.Equal(t, crunchtype.StatusSucceeded, c.Status)
		require.Equal(t, "test-worker", *c.Worker)
	}
	require.Equal(t, 1, chunks[0].Attempts, "a run that finds its chunk done does not count as an attempt")
}

// The plan task is idempotent: planning twice enqueues each chunk of the
// job's first window once.
func TestPlanTwiceEnqueuesOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	job := b.createJob(t, stats.Spec{}, `{"values":[1,2,3,4,5]}`, 5)
	plan := asynq.NewTask(tasks.TypePlan, []byte(`{"job_id":"`+job.ID+`"}`))
	require.NoError(t, b.worker.handlePlan(ctx, plan))
	// A crash before MarkPlanned would make asynq run it again.
	require.NoError(t, b.store.Redis().HDel(ctx, b.store.Namespace()+":job:{"+job.ID+"}", "planned").Err())
	require.NoError(t, b.worker.handlePlan(ctx, plan))

	insp := asynq.NewInspectorFromRedisClient(b.store.Redis())
	info, err := insp.GetQueueInfo(queue.NamesFor(b.store.Namespace()).Normal)
	require.NoError(t, err)
	require.Equal(t, queue.WindowDefault, info.Pending, "the first window of the job's 5 chunks, each once")
	unplanned, err := b.store.Unplanned(ctx, time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.NotContains(t, unplanned, job.ID)
}

// A job past its deadline is failed with a timeout by the deadline task.
func TestDeadlineFailsUnfinishedJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	job := b.createJob(t, stats.Spec{}, `{"values":[1]}`, 1)
	task := asynq.NewTask(tasks.TypeDeadline, []byte(`{"job_id":"`+job.ID+`"}`))
	require.NoError(t, b.worker.handleDeadline(ctx, task))
	got, err := b.store.Get(ctx, job.ID)
	require.NoError(t, err)
	require.Equal(t, crunchtype.StatusFailed, got.Status)
	require.Equal(t, "timeout", got.Error.Type)
	require.NotNil(t, got.FinishedAt)
	// Nothing late can overwrite the terminal status.
	ok, err := b.store.Succeed(ctx, job.ID, json.RawMessage(`{}`), nil, time.Now())
	require.NoError(t, err)
	require.False(t, ok)
}

// A job stored without its plan task (the API died between the two) is
// planned by the reconciler once it has been pending for reconcileAge.
func TestReconcilerPlansLostJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	job := b.createJob(t, stats.Spec{}, `{"values":[1,2,3]}`, 2)
	insp := asynq.NewInspectorFromRedisClient(b.store.Redis())
	control := queue.NamesFor(b.store.Namespace()).Control

	b.worker.reconcileOnce(ctx) // too young: the API may still be enqueueing it
	_, err := insp.GetQueueInfo(control)
	require.ErrorContains(t, err, "does not exist", "no plan task yet")

	b.worker.cfg.Now = func() time.Time { return time.Now().Add(reconcileAge + time.Second) }
	b.worker.reconcileOnce(ctx)
	b.worker.reconcileOnce(ctx) // a second reconciler changes nothing
	info, err := insp.GetQueueInfo(control)
	require.NoError(t, err)
	require.Equal(t, 1, info.Pending, "one plan task for the lost job %s", job.ID)
}

// A worker killed while it plans or reduces a job leaves the step in its
// running set; the sweeper enqueues the step again under a new task id
// once the worker's heartbeat has lapsed for deadGrace, instead of leaving
// the job to asynq's own recovery (about three minutes).
func TestSweeperResumesADeadWorkersPlanAndReduce(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		step    string
		handle  func(w *Worker) func(context.Context, *asynq.Task) error
		pending int // control tasks queued after the sweep
	}{
		{store.StepPlan, func(w *Worker) func(context.Context, *asynq.Task) error { return w.handlePlan }, 1},
		{store.StepReduce, func(w *Worker) func(context.Context, *asynq.Task) error { return w.handleReduce }, 2},
	} {
		t.Run(tt.step, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := t.Context()
			params := `{"values":[1e16, 1, -1e16, 3.5]}`
			job := b.createJob(t, stats.Spec{}, params, 2)
			if tt.step == store.StepReduce {
				for i := range 2 {
					require.NoError(t, b.worker.handleChunk(ctx, chunkTask(t, job, i)))
				}
			}
			// The dead worker's last heartbeat expires at once, and it was
			// running the step when it died.
			dead := store.RunningTask{Worker: "dead-worker", JobID: job.ID, Step: tt.step}
			require.NoError(t, b.store.Heartbeat(ctx, dead.Worker, time.Millisecond))
			require.NoError(t, b.store.Track(ctx, dead))
			time.Sleep(5 * time.Millisecond)

			b.worker.sweepOnce(ctx, map[string]time.Time{})
			running, err := b.store.RunningOn(ctx, dead.Worker)
			require.NoError(t, err)
			require.Equal(t, []store.RunningTask{dead}, running, "not handed back before deadGrace")

			lapsed := map[string]time.Time{dead.Worker: time.Now().Add(-deadGrace)}
			b.worker.sweepOnce(ctx, lapsed)
			b.worker.sweepOnce(ctx, lapsed) // a second sweep finds nothing left
			running, err = b.store.RunningOn(ctx, dead.Worker)
			require.NoError(t, err)
			require.Empty(t, running)

			insp := asynq.NewInspectorFromRedisClient(b.store.Redis())
			control := queue.NamesFor(b.store.Namespace()).Control
			id := b.store.Namespace() + ":" + job.ID + ":" + tt.step + ":after:" + dead.Worker
			info, err := insp.GetTaskInfo(control, id)
			require.NoError(t, err, "the step is queued again")
			pending, err := insp.ListPendingTasks(control)
			require.NoError(t, err)
			require.Len(t, pending, tt.pending, "once (beside the reduce that the last chunk enqueued)")

			require.NoError(t, tt.handle(b.worker)(ctx, asynq.NewTask(info.Type, info.Payload)))
			got, err := b.store.Get(ctx, job.ID)
			require.NoError(t, err)
			if tt.step == store.StepPlan {
				require.True(t, got.Planned)
				return
			}
			require.Equal(t, crunchtype.StatusSucceeded, got.Status)
			want := kerneltest.MustRun(t, stats.Spec{}, stats.Runner{}, params, 1)
			require.JSONEq(t, string(want.Result), string(got.Result))
		})
	}
}

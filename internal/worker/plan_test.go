package worker

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/tasks"
)

// planning is a kernel whose size only its runner can tell.
type planning struct {
	extent int64
	chunks int
	err    error

	mu    sync.Mutex
	jobID string // the job id Plan saw in its context
	calls int
}

func (*planning) Name() string                  { return "planning" }
func (*planning) Description() string           { return "A kernel planned by its runner." }
func (*planning) ParamsSchema() json.RawMessage { return json.RawMessage(`{"type":"object"}`) }
func (*planning) ArtifactType() string          { return "" }
func (*planning) Prepare(json.RawMessage) (*tasks.Prepared, error) {
	return &tasks.Prepared{Params: json.RawMessage(`{}`), Extent: tasks.ExtentUnknown}, nil
}
func (*planning) Run(context.Context, tasks.Chunk) ([]byte, error) { return []byte(`0`), nil }
func (*planning) Reduce(context.Context, json.RawMessage, tasks.Input, [][]byte) (*tasks.Output, error) {
	return &tasks.Output{Result: json.RawMessage(`{}`)}, nil
}

func (p *planning) Plan(ctx context.Context, _ json.RawMessage) (int64, int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jobID, p.calls = tasks.JobID(ctx), p.calls+1
	return p.extent, p.chunks, p.err
}

func setupPlanning(t *testing.T, k *planning) *testBundle {
	t.Helper()
	w, err := New(Config{
		Namespace: redistest.Namespace(t),
		ID:        "test-worker",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Runners:   []tasks.Runner{k},
	}, redistest.Client(t))
	require.NoError(t, err)
	return &testBundle{worker: w, store: w.store}
}

// A job of unknown extent is planned by its runner: the extent and, unless
// the request fixed it, the chunk count are stored before the chunks are
// released, over exactly that extent.
func TestPlanAsksThePlannerForTheExtent(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name        string
		fixed, want int
	}{
		{"chunks from the plan", 0, 3},
		{"chunks fixed by the request", 5, 5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := &planning{extent: 10, chunks: 3}
			b := setupPlanning(t, k)
			ctx := t.Context()
			job := b.createJob(t, k, `{}`, tt.fixed)
			before, err := b.store.Get(ctx, job.ID)
			require.NoError(t, err)
			require.Equal(t, int64(tasks.ExtentUnknown), before.Extent)
			require.Equal(t, tt.fixed, before.Chunks.Total)
			require.Zero(t, before.Progress)
			chunks, err := b.store.Chunks(ctx, before)
			require.NoError(t, err)
			require.Len(t, chunks, tt.fixed)

			plan := asynq.NewTask(tasks.TypePlan, []byte(`{"job_id":"`+job.ID+`"}`))
			require.NoError(t, b.worker.handlePlan(ctx, plan))
			got, err := b.store.Get(ctx, job.ID)
			require.NoError(t, err)
			require.Equal(t, int64(10), got.Extent)
			require.Equal(t, tt.want, got.Chunks.Total)
			require.True(t, got.Planned)
			require.Equal(t, job.ID, k.jobID, "Plan's context names the job")

			insp := asynq.NewInspectorFromRedisClient(b.store.Redis())
			pending, err := insp.ListPendingTasks(queue.NamesFor(b.store.Namespace()).Normal)
			require.NoError(t, err)
			require.Len(t, pending, min(tt.want, queue.WindowDefault))
			covered := int64(0)
			for _, task := range pending {
				var p tasks.ChunkPayload
				require.NoError(t, json.Unmarshal(task.Payload, &p))
				require.Equal(t, tasks.ChunkRange(10, tt.want, p.Index), p.Range)
				covered += p.Range.Len()
			}
			require.Positive(t, covered)

			// Planning again (a retry, a resumed plan) does not run the step again.
			require.NoError(t, b.store.Redis().HDel(ctx, b.store.Namespace()+":job:{"+job.ID+"}", "planned").Err())
			require.NoError(t, b.worker.handlePlan(ctx, plan))
			require.Equal(t, 1, k.calls)
		})
	}
}

// A failing plan fails the job with a kernel_error naming the cause, and
// is not retried; so does a plan whose answer is out of bounds.
func TestFailedPlanFailsTheJob(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		k      *planning
		detail string
	}{
		{"error", &planning{err: errors.New("exit status 3; stderr:\nboom")}, "plan failed: exit status 3; stderr:\nboom"},
		{"no chunks", &planning{extent: 10, chunks: 0}, "plan failed: plan gave extent 10 and 0 chunks"},
		{"negative extent", &planning{extent: -5, chunks: 1}, "plan failed: plan gave extent -5 and 1 chunks"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupPlanning(t, tt.k)
			ctx := t.Context()
			job := b.createJob(t, tt.k, `{}`, 0)
			err := b.worker.handlePlan(ctx, asynq.NewTask(tasks.TypePlan, []byte(`{"job_id":"`+job.ID+`"}`)))
			require.ErrorIs(t, err, asynq.SkipRetry)
			got, err := b.store.Get(ctx, job.ID)
			require.NoError(t, err)
			require.Equal(t, crunchtype.StatusFailed, got.Status)
			require.Equal(t, "kernel_error", got.Error.Type)
			require.Contains(t, got.Error.Detail, tt.detail)
			require.Equal(t, int64(tasks.ExtentUnknown), got.Extent)
		})
	}
}

// SetPlan keeps the first answer: a second planner of the same job gets
// the stored extent and chunks back, and an ended job is not changed.
func TestSetPlanKeepsTheFirstAnswer(t *testing.T) {
	t.Parallel()
	k := &planning{}
	b := setupPlanning(t, k)
	ctx := t.Context()
	job := b.createJob(t, k, `{}`, 0)
	extent, total, err := b.store.SetPlan(ctx, job.ID, 100, 4)
	require.NoError(t, err)
	require.Equal(t, int64(100), extent)
	require.Equal(t, 4, total)
	extent, total, err = b.store.SetPlan(ctx, job.ID, 7, 2)
	require.NoError(t, err)
	require.Equal(t, int64(100), extent)
	require.Equal(t, 4, total)

	t.Run("ended", func(t *testing.T) {
		other := b.createJob(t, k, `{}`, 0) // another id: createJob names the job after t
		require.NotEqual(t, job.ID, other.ID)
		_, err := b.store.Fail(ctx, other.ID, kernelError("x"), other.CreatedAt)
		require.NoError(t, err)
		_, _, err = b.store.SetPlan(ctx, other.ID, 100, 4)
		require.ErrorIs(t, err, store.ErrNotActive)
		_, _, err = b.store.SetPlan(ctx, "job_missing", 100, 4)
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

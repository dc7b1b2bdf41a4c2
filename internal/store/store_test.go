package store_test

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/store"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// testBundle is one store on its own namespace of the test Redis.
type testBundle struct {
	rdb   *redis.Client
	store *store.Store
	ns    string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	rdb := redistest.Client(t)
	ns := redistest.Namespace(t)
	return &testBundle{rdb: rdb, ns: ns, store: store.New(rdb, store.Config{Namespace: ns, ResultTTL: time.Hour})}
}

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// newJob stores a queued job of chunks chunks (and input, when not nil).
func (b *testBundle) newJob(t *testing.T, name string, chunks int, input []byte) *store.Job {
	t.Helper()
	j := &store.Job{
		Job: crunchtype.Job{
			ID: "job_" + b.ns + name, Kernel: "pi", Status: crunchtype.StatusQueued,
			Params: json.RawMessage(`{"samples":10}`), Chunks: crunchtype.ChunkCounts{Total: chunks},
			Priority: "normal", Metadata: json.RawMessage(`{"k":"v"}`), CreatedAt: t0,
		},
		Tenant: "acme", Deadline: t0.Add(time.Hour), MaxRetries: 3, Extent: 10,
	}
	require.NoError(t, b.store.Create(t.Context(), j, input))
	return j
}

func TestCreateGet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	j := b.newJob(t, "a", 4, []byte("0123456789"))
	got, err := b.store.Get(t.Context(), j.ID)
	require.NoError(t, err)
	require.Equal(t, j.Job, got.Job)
	require.Equal(t, j.Tenant, got.Tenant)
	require.True(t, j.Deadline.Equal(got.Deadline))
	require.Equal(t, int64(10), got.Extent)
	require.True(t, got.HasInput)
	require.False(t, got.Planned)

	_, err = b.store.Get(t.Context(), "job_missing"+b.ns)
	require.ErrorIs(t, err, store.ErrNotFound)

	unplanned, err := b.store.Unplanned(t.Context(), t0.Add(time.Second), 10)
	require.NoError(t, err)
	require.Equal(t, []string{j.ID}, unplanned)
	require.NoError(t, b.store.MarkPlanned(t.Context(), j.ID))
	unplanned, err = b.store.Unplanned(t.Context(), t0.Add(time.Second), 10)
	require.NoError(t, err)
	require.Empty(t, unplanned)
}

func TestInputReadsRanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	j := b.newJob(t, "in", 1, []byte("hello, world"))
	in, err := b.store.Input(t.Context(), j.ID)
	require.NoError(t, err)
	require.Equal(t, int64(12), in.Size())
	buf := make([]byte, 5)
	n, err := in.ReadAt(buf, 7)
	require.NoError(t, err)
	require.Equal(t, "world", string(buf[:n]))
	n, err = in.ReadAt(make([]byte, 4), 10)
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, 2, n)
	_, err = in.ReadAt(buf, -1)
	require.Error(t, err)
}

func TestStartChunkVerdicts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	j := b.newJob(t, "s", 2, nil)

	st, err := b.store.StartChunk(ctx, j.ID, 0, "w1", t0)
	require.NoError(t, err)
	require.Equal(t, store.Started{Verdict: store.StartOK, Attempts: 1, JobStarted: true}, st)
	got, _ := b.store.Get(ctx, j.ID)
	require.Equal(t, crunchtype.StatusRunning, got.Status)
	require.NotNil(t, got.StartedAt)

	st, err = b.store.StartChunk(ctx, j.ID, 1, "w2", t0)
	require.NoError(t, err)
	require.Equal(t, store.Started{Verdict: store.StartOK, Attempts: 1}, st, "only the first chunk starts the job")

	c, err := b.store.CompleteChunk(ctx, j.ID, store.Attempt{Index: 0, Worker: "w1", N: 1, Started: t0}, t0.Add(time.Second), []byte(`"p0"`))
	require.NoError(t, err)
	require.Equal(t, store.Completed{Done: 1, Total: 2, Counted: true, JobActive: true}, c)
	st, err = b.store.StartChunk(ctx, j.ID, 0, "w3", t0)
	require.NoError(t, err)
	require.Equal(t, store.StartDone, st.Verdict, "a completed chunk is not run again")

	missing, err := b.store.StartChunk(ctx, "job_gone"+b.ns, 0, "w1", t0)
	require.NoError(t, err)
	require.Equal(t, store.StartMissing, missing.Verdict)

	require.NoError(t, b.store.Cancel(ctx, j.ID, t0))
	st, err = b.store.StartChunk(ctx, j.ID, 1, "w2", t0)
	require.NoError(t, err)
	require.Equal(t, store.StartTerminal, st.Verdict)
}

func TestCompleteChunkCountsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	j := b.newJob(t, "c", 8, nil)
	// Every chunk completes twice, concurrently, as after a crash: each is
	// counted once and the last completion sees all done.
	var wg sync.WaitGroup
	results := make(chan store.Completed, 16)
	for i := range 8 {
		for range 2 {
			wg.Go(func() {
				c, err := b.store.CompleteChunk(ctx, j.ID, store.Attempt{Index: i, Worker: "w", Started: t0}, t0, []byte(strconv.Itoa(i)))
				require.NoError(t, err)
				results <- c
			})
		}
	}
	wg.Wait()
	close(results)
	counted, allDone := 0, 0
	for c := range results {
		if c.Counted {
			counted++
		}
		if c.AllDone() && c.Counted {
			allDone++
		}
	}
	require.Equal(t, 8, counted)
	require.Equal(t, 1, allDone, "exactly one counted completion finishes the job's chunks")
	partials, err := b.store.Partials(ctx, j.ID, 8)
	require.NoError(t, err)
	for i, p := range partials {
		require.Equal(t, strconv.Itoa(i), string(p))
	}
	done, err := b.store.Completed(ctx, j.ID)
	require.NoError(t, err)
	require.Len(t, done, 8)
	_, err = b.store.Partials(ctx, j.ID, 9)
	require.ErrorContains(t, err, "partial 8")
}

func TestFinishIsOneCompareAndSet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()

	j := b.newJob(t, "f", 1, []byte("x"))
	ok, err := b.store.Succeed(ctx, j.ID, json.RawMessage(`{}`), nil, t0)
	require.NoError(t, err)
	require.False(t, ok, "a queued job cannot succeed: only a running one")

	// Cancel and fail race; one wins, the other reports the job ended.
	var wg sync.WaitGroup
	var canceled, failed bool
	wg.Go(func() { canceled = b.store.Cancel(ctx, j.ID, t0) == nil })
	wg.Go(func() {
		failed, err = b.store.Fail(ctx, j.ID, &crunchtype.Problem{Type: crunchtype.TypeKernelError, Title: "x"}, t0)
		require.NoError(t, err)
	})
	wg.Wait()
	require.True(t, canceled != failed, "exactly one ending stands (canceled %v, failed %v)", canceled, failed)
	require.ErrorIs(t, b.store.Cancel(ctx, j.ID, t0), store.ErrNotActive)

	got, err := b.store.Get(ctx, j.ID)
	require.NoError(t, err)
	require.True(t, got.Status.Terminal())
	require.NotNil(t, got.Error)
	require.NotNil(t, got.FinishedAt)
	for _, key := range []string{b.ns + ":job:{" + j.ID + "}", b.ns + ":job:{" + j.ID + "}:input"} {
		ttl, err := b.rdb.TTL(ctx, key).Result()
		require.NoError(t, err)
		require.InDelta(t, time.Hour.Seconds(), ttl.Seconds(), 5, "%s gets the result TTL", key)
	}

	// A running job succeeds with its artifact; its partials are dropped.
	r := b.newJob(t, "r", 1, nil)
	_, err = b.store.StartChunk(ctx, r.ID, 0, "w", t0)
	require.NoError(t, err)
	_, err = b.store.CompleteChunk(ctx, r.ID, store.Attempt{Index: 0, Worker: "w", N: 1, Started: t0}, t0, []byte(`"p"`))
	require.NoError(t, err)
	ok, err = b.store.Succeed(ctx, r.ID, json.RawMessage(`{"n":1}`), []byte("PNG"), t0)
	require.NoError(t, err)
	require.True(t, ok)
	art, err := b.store.Artifact(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, "PNG", string(art))
	_, err = b.store.Partials(ctx, r.ID, 1)
	require.Error(t, err, "partials are deleted when the job ends")
	totals, err := b.store.FinishedTotals(ctx)
	require.NoError(t, err)
	require.Contains(t, totals, store.Total{Kernel: "pi", Status: crunchtype.StatusSucceeded, Count: 1})
}

func TestChunksOfAnEndedJobAreCanceled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	j := b.newJob(t, "k", 3, nil)
	_, err := b.store.StartChunk(ctx, j.ID, 0, "w1", t0)
	require.NoError(t, err)
	_, err = b.store.CompleteChunk(ctx, j.ID, store.Attempt{Index: 0, Worker: "w1", N: 1, Started: t0}, t0.Add(1500*time.Microsecond), []byte("0"))
	require.NoError(t, err)
	_, err = b.store.StartChunk(ctx, j.ID, 1, "w2", t0)
	require.NoError(t, err)
	recorded, err := b.store.RecordChunkError(ctx, j.ID, store.Attempt{Index: 1, Worker: "w2", N: 1, Started: t0}, t0.Add(time.Second), errors.New("boom"), false)
	require.NoError(t, err)
	require.True(t, recorded)

	got, _ := b.store.Get(ctx, j.ID)
	chunks, err := b.store.Chunks(ctx, got)
	require.NoError(t, err)
	require.Equal(t, crunchtype.StatusSucceeded, chunks[0].Status)
	require.Equal(t, 1.5, *chunks[0].DurationMS)
	require.Equal(t, crunchtype.StatusQueued, chunks[1].Status, "waiting for its retry")
	require.Equal(t, "boom", *chunks[1].Error)
	require.Equal(t, crunchtype.StatusQueued, chunks[2].Status)
	require.Nil(t, chunks[2].Worker)

	require.NoError(t, b.store.Cancel(ctx, j.ID, t0))
	got, _ = b.store.Get(ctx, j.ID)
	chunks, err = b.store.Chunks(ctx, got)
	require.NoError(t, err)
	require.Equal(t, []crunchtype.Status{crunchtype.StatusSucceeded, crunchtype.StatusCanceled, crunchtype.StatusCanceled},
		[]crunchtype.Status{chunks[0].Status, chunks[1].Status, chunks[2].Status})
	recorded, err = b.store.RecordChunkError(ctx, j.ID, store.Attempt{Index: 2, Worker: "w2", Started: t0}, t0, errors.New("late"), true)
	require.NoError(t, err)
	require.False(t, recorded)
	got, _ = b.store.Get(ctx, j.ID)
	require.Zero(t, got.Chunks.Failed, "an ended job's chunks are not recorded any more")
}

func TestAdmitActiveCapsAndReleases(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for range 10 {
		wg.Go(func() {
			ok, err := b.store.AdmitActive(ctx, b.ns, 3)
			require.NoError(t, err)
			if ok {
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, 3, admitted)
	for range 5 { // never below zero
		require.NoError(t, b.store.ReleaseActive(ctx, b.ns))
	}
	ok, err := b.store.AdmitActive(ctx, b.ns, 1)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = b.store.AdmitActive(ctx, b.ns, 1)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestEndingAndDeletingReleaseTheTenant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	j := b.newJob(t, "t", 1, nil)
	for _, step := range []func() error{
		func() error { return b.store.Cancel(ctx, j.ID, t0) },
		func() error { return b.store.Delete(ctx, b.newJob(t, "d", 1, nil)) },
	} {
		ok, err := b.store.AdmitActive(ctx, "acme", 1)
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, step())
	}
	ok, err := b.store.AdmitActive(ctx, "acme", 1)
	require.NoError(t, err)
	require.True(t, ok, "both the ended and the deleted job gave their place back")
	_, err = b.store.Get(ctx, "job_"+b.ns+"d")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestIdempotencyClaim(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	first := store.Idempotency{JobID: "job_1", BodyHash: "h1"}
	second := store.Idempotency{JobID: "job_2", BodyHash: "h2"}
	held, err := b.store.ClaimIdempotency(ctx, b.ns, "k", first)
	require.NoError(t, err)
	require.Equal(t, first, held)
	held, err = b.store.ClaimIdempotency(ctx, b.ns, "k", second)
	require.NoError(t, err)
	require.Equal(t, first, held, "the first claim holds")
	require.NoError(t, b.store.ReleaseIdempotency(ctx, b.ns, "k", second), "releasing a claim one does not hold is a no-op")
	held, _ = b.store.ClaimIdempotency(ctx, b.ns, "k", second)
	require.Equal(t, first, held)
	require.NoError(t, b.store.ReleaseIdempotency(ctx, b.ns, "k", first))
	held, _ = b.store.ClaimIdempotency(ctx, b.ns, "k", second)
	require.Equal(t, second, held)
}

func TestSweeperLeaseAndOrphans(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	lead, err := b.store.LeadSweeper(ctx, "w1", time.Minute)
	require.NoError(t, err)
	require.True(t, lead)
	lead, _ = b.store.LeadSweeper(ctx, "w2", time.Minute)
	require.False(t, lead, "one sweeper at a time")
	lead, _ = b.store.LeadSweeper(ctx, "w1", time.Minute)
	require.True(t, lead, "the leader extends its term")

	j := b.newJob(t, "o", 2, nil)
	require.NoError(t, b.store.Heartbeat(ctx, "dead", 50*time.Millisecond))
	require.NoError(t, b.store.Heartbeat(ctx, "alive", time.Minute))
	chunk := store.RunningTask{Worker: "dead", JobID: j.ID, Step: store.StepChunk, Index: 1}
	reduce := store.RunningTask{Worker: "dead", JobID: j.ID, Step: store.StepReduce}
	for _, task := range []store.RunningTask{chunk, reduce, {Worker: "alive", JobID: j.ID, Step: store.StepChunk}} {
		require.NoError(t, b.store.Track(ctx, task))
	}
	_, err = b.store.StartChunk(ctx, j.ID, 1, "dead", t0)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		orphans, _, err := b.store.Orphans(ctx)
		return err == nil && len(orphans) == 2
	}, 5*time.Second, 20*time.Millisecond, "the dead worker's two tasks are orphans once its heartbeat lapses")

	attempts, ok, err := b.store.ReclaimChunk(ctx, chunk, t0)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 1, attempts)
	again, ok, err := b.store.ReclaimChunk(ctx, chunk, t0)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, attempts, again, "sweepers racing on one chunk name the same task, so it is enqueued once")
	_, err = b.store.StartChunk(ctx, j.ID, 1, "alive", t0)
	require.NoError(t, err)
	_, ok, err = b.store.ReclaimChunk(ctx, chunk, t0)
	require.NoError(t, err)
	require.False(t, ok, "once another worker runs the chunk, the dead one's claim is refused")
	require.NoError(t, b.store.Track(ctx, chunk)) // ReclaimChunk dropped the entry; the test below needs it

	require.NoError(t, b.store.Forget(ctx, "dead"))
	orphans, _, err := b.store.Orphans(ctx)
	require.NoError(t, err)
	require.Len(t, orphans, 2, "a worker with tasks left is not forgotten")
	require.NoError(t, b.store.Untrack(ctx, chunk))
	require.NoError(t, b.store.Untrack(ctx, reduce))
	_, idle, err := b.store.Orphans(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"dead"}, idle)
	require.NoError(t, b.store.Forget(ctx, "dead"))
	orphans, idle, err = b.store.Orphans(ctx)
	require.NoError(t, err)
	require.Empty(t, orphans)
	require.Empty(t, idle)
}

func TestKeepAtLeastFollowsTheJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	j := b.newJob(t, "w", 1, nil)
	jobKey := b.ns + ":job:{" + j.ID + "}"
	require.NoError(t, b.store.KeepAtLeast(ctx, j.ID, 48*time.Hour))
	ttl, _ := b.rdb.TTL(ctx, jobKey).Result()
	require.Equal(t, time.Duration(-1), ttl, "an unfinished job keeps no TTL")
	require.NoError(t, b.store.Cancel(ctx, j.ID, t0))
	require.NoError(t, b.store.KeepAtLeast(ctx, j.ID, 48*time.Hour))
	ttl, _ = b.rdb.TTL(ctx, jobKey).Result()
	require.InDelta(t, (48 * time.Hour).Seconds(), ttl.Seconds(), 5)
	require.NoError(t, b.store.KeepAtLeast(ctx, j.ID, time.Minute))
	ttl, _ = b.rdb.TTL(ctx, jobKey).Result()
	require.Greater(t, ttl, time.Hour, "a TTL is only ever raised")
}

func TestStatusesInOneRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	a, c := b.newJob(t, "a", 1, nil), b.newJob(t, "c", 1, nil)
	require.NoError(t, b.store.Cancel(ctx, c.ID, t0))
	got, err := b.store.Statuses(ctx, []string{a.ID, "job_none", c.ID})
	require.NoError(t, err)
	require.Equal(t, []crunchtype.Status{crunchtype.StatusQueued, "", crunchtype.StatusCanceled}, got)
}

// A run that was superseded — its worker was cut off, the chunk was handed
// back and started again elsewhere — can neither complete nor fail the
// chunk; the newer run's outcome stands.
func TestSupersededAttemptsAreRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	j := b.newJob(t, "late", 2, nil)
	first, err := b.store.StartChunk(ctx, j.ID, 0, "cut-off", t0)
	require.NoError(t, err)
	old := store.Attempt{Index: 0, Worker: "cut-off", N: first.Attempts, Started: t0}
	_, ok, err := b.store.ReclaimChunk(ctx, store.RunningTask{Worker: "cut-off", JobID: j.ID, Step: store.StepChunk, Index: 0}, t0)
	require.NoError(t, err)
	require.True(t, ok)
	second, err := b.store.StartChunk(ctx, j.ID, 0, "healthy", t0.Add(time.Second))
	require.NoError(t, err)
	require.Equal(t, first.Attempts+1, second.Attempts)

	c, err := b.store.CompleteChunk(ctx, j.ID, old, t0.Add(2*time.Second), []byte(`"stale"`))
	require.NoError(t, err)
	require.True(t, c.Superseded)
	require.False(t, c.Counted)
	recorded, err := b.store.RecordChunkError(ctx, j.ID, old, t0.Add(2*time.Second), errors.New("late failure"), true)
	require.NoError(t, err)
	require.False(t, recorded, "a superseded run's failure does not fail the chunk")

	c, err = b.store.CompleteChunk(ctx, j.ID, store.Attempt{Index: 0, Worker: "healthy", N: second.Attempts, Started: t0.Add(time.Second)}, t0.Add(3*time.Second), []byte(`"fresh"`))
	require.NoError(t, err)
	require.True(t, c.Counted)
	partials, err := b.store.Partials(ctx, j.ID, 1)
	require.NoError(t, err)
	require.Equal(t, `"fresh"`, string(partials[0]))
	got, _ := b.store.Get(ctx, j.ID)
	chunks, err := b.store.Chunks(ctx, got)
	require.NoError(t, err)
	require.Equal(t, "healthy", *chunks[0].Worker)
	require.Zero(t, got.Chunks.Failed)
}

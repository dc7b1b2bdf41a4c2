package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crunchjobs/crunch/crunchtype"
)

// StartVerdict says whether a chunk may run.
type StartVerdict string

// Start verdicts.
const (
	// StartOK: run the chunk.
	StartOK StartVerdict = "ok"
	// StartDone: the chunk already completed (it is being run twice).
	StartDone StartVerdict = "done"
	// StartTerminal: the job has finished, failed or been canceled.
	StartTerminal StartVerdict = "terminal"
	// StartMissing: the job does not exist (it expired).
	StartMissing StartVerdict = "missing"
)

// Started is the outcome of StartChunk.
type Started struct {
	Verdict StartVerdict
	// Attempts counts the runs of this chunk, this one included.
	Attempts int
	// JobStarted is true for the first chunk to start: the job moved from
	// queued to running.
	JobStarted bool
}

// StartChunk marks chunk index of job id running on worker, unless the job
// has finished or the chunk already completed.
func (s *Store) StartChunk(ctx context.Context, id string, index int, worker string, now time.Time) (Started, error) {
	k := s.keys(id)
	rec, err := json.Marshal(chunkRecord{Status: crunchtype.StatusRunning, Worker: worker, StartedAt: now.UTC()})
	if err != nil {
		return Started{}, err
	}
	res, err := startChunk.Run(ctx, s.rdb, []string{k.job, k.chunks, k.done}, index, rec, formatTime(now), worker).Slice()
	if err != nil {
		return Started{}, fmt.Errorf("start chunk %d of %s: %w", index, id, err)
	}
	verdict, _ := res[0].(string)
	attempts, _ := res[1].(int64)
	started, _ := res[2].(int64)
	return Started{Verdict: StartVerdict(verdict), Attempts: int(attempts), JobStarted: started == 1}, nil
}

// Attempt is one run of one chunk: the chunk's index, the worker running
// it, the attempt number StartChunk returned for it, and when it started.
// Completing or failing a chunk names its attempt, so that a run which has
// been superseded — its worker was cut off, the chunk was handed back and
// another worker started it again — cannot overwrite the newer run.
type Attempt struct {
	Index   int
	Worker  string
	N       int
	Started time.Time
}

// Completed is the outcome of CompleteChunk.
type Completed struct {
	// Done and Total count the job's chunks after this completion.
	Done, Total int
	// Counted is false when the chunk had already completed.
	Counted bool
	// JobActive is false when the job had already finished.
	JobActive bool
	// Superseded is true when a newer attempt of the chunk had started:
	// this attempt's result was refused.
	Superseded bool
}

// AllDone reports whether this completion finished the job's last chunk.
func (c Completed) AllDone() bool { return c.JobActive && c.Done == c.Total }

// CompleteChunk stores the partial result of attempt a and counts the
// chunk, once, unless a newer attempt has started since a.
func (s *Store) CompleteChunk(ctx context.Context, id string, a Attempt, now time.Time, partial []byte) (Completed, error) {
	k := s.keys(id)
	rec, err := json.Marshal(chunkRecord{
		Status: crunchtype.StatusSucceeded, Worker: a.Worker, StartedAt: a.Started.UTC(),
		FinishedAt: ptr(now.UTC()), DurationMS: ptr(durationMS(now.Sub(a.Started))),
	})
	if err != nil {
		return Completed{}, err
	}
	res, err := completeChunk.Run(ctx, s.rdb, []string{k.job, k.chunks, k.done, k.partials}, a.Index, rec, partial, a.N).Int64Slice()
	if err != nil {
		return Completed{}, fmt.Errorf("complete chunk %d of %s: %w", a.Index, id, err)
	}
	switch res[0] {
	case -1:
		return Completed{}, nil
	case -2:
		return Completed{JobActive: true, Superseded: true}, nil
	}
	return Completed{Done: int(res[0]), Total: int(res[1]), Counted: res[2] == 1, JobActive: true}, nil
}

// RecordChunkError records the failure of attempt a; final marks the
// chunk failed for good (it will not be retried). It reports false, and
// records nothing, when the job has ended or a newer attempt has started.
func (s *Store) RecordChunkError(ctx context.Context, id string, a Attempt, now time.Time, cause error, final bool) (bool, error) {
	k := s.keys(id)
	status := crunchtype.StatusQueued // waiting for its retry
	if final {
		status = crunchtype.StatusFailed
	}
	rec, err := json.Marshal(chunkRecord{
		Status: status, Worker: a.Worker, StartedAt: a.Started.UTC(),
		FinishedAt: ptr(now.UTC()), DurationMS: ptr(durationMS(now.Sub(a.Started))),
		Error: cause.Error(),
	})
	if err != nil {
		return false, err
	}
	flag := "0"
	if final {
		flag = "1"
	}
	n, err := recordChunk.Run(ctx, s.rdb, []string{k.job, k.chunks}, a.Index, rec, flag, a.N).Int()
	if err != nil {
		return false, fmt.Errorf("record chunk %d of %s: %w", a.Index, id, err)
	}
	return n == 1, nil
}

// Succeed ends a running job with its result and artifact (nil for none).
// It returns false when the job had already ended.
func (s *Store) Succeed(ctx context.Context, id string, result json.RawMessage, artifact []byte, now time.Time) (bool, error) {
	return s.finish(ctx, id, crunchtype.StatusSucceeded, "result", string(result), artifact, now, crunchtype.StatusRunning)
}

// Fail ends a queued or running job with an error. It returns false when
// the job had already ended.
func (s *Store) Fail(ctx context.Context, id string, p *crunchtype.Problem, now time.Time) (bool, error) {
	return s.endWithProblem(ctx, id, crunchtype.StatusFailed, p, now)
}

// Cancel ends a queued or running job as canceled. It returns
// ErrNotActive when the job had already ended.
func (s *Store) Cancel(ctx context.Context, id string, now time.Time) error {
	ok, err := s.endWithProblem(ctx, id, crunchtype.StatusCanceled, &crunchtype.Problem{
		Type: crunchtype.TypeCanceled, Title: "Job canceled", Detail: "The job was canceled at the client's request.",
	}, now)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotActive
	}
	return nil
}

func (s *Store) endWithProblem(ctx context.Context, id string, status crunchtype.Status, p *crunchtype.Problem, now time.Time) (bool, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return false, err
	}
	return s.finish(ctx, id, status, "error", string(b), nil, now, crunchtype.StatusQueued, crunchtype.StatusRunning)
}

func (s *Store) finish(ctx context.Context, id string, status crunchtype.Status, field, value string, artifact []byte, now time.Time, from ...crunchtype.Status) (bool, error) {
	k := s.keys(id)
	args := []any{string(status), formatTime(now), field, value, int64(s.cfg.ResultTTL / time.Second), artifact}
	if artifact == nil {
		args[5] = ""
	}
	for _, st := range from {
		args = append(args, string(st))
	}
	ended, err := finish.Run(ctx, s.rdb, k.all(), args...).Text()
	if err != nil {
		return false, fmt.Errorf("finish job %s as %s: %w", id, status, err)
	}
	kernel, tenant, ok := strings.Cut(ended, " ")
	if !ok {
		return false, nil
	}
	// Bookkeeping outside the job's slot: the job no longer counts as
	// active for its tenant, and the deployment-wide totals.
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, s.pendingKey(), id)
		p.HIncrBy(ctx, s.totalsKey(), kernel+":"+string(status), 1)
		p.Eval(ctx, releaseActive, []string{s.activeKey(tenant)})
		return nil
	})
	return true, err
}

// Chunks returns every chunk of a job, by index. Chunks of a finished job
// that never completed are reported canceled: they were stopped.
func (s *Store) Chunks(ctx context.Context, j *Job) ([]crunchtype.Chunk, error) {
	m, err := s.rdb.HGetAll(ctx, s.keys(j.ID).chunks).Result()
	if err != nil {
		return nil, fmt.Errorf("chunks of %s: %w", j.ID, err)
	}
	chunks := make([]crunchtype.Chunk, j.Chunks.Total)
	for i := range chunks {
		c := crunchtype.Chunk{Index: i, Status: crunchtype.StatusQueued}
		key := strconv.Itoa(i)
		c.Attempts, _ = strconv.Atoi(m[key+":n"])
		if raw, ok := m[key]; ok {
			var rec chunkRecord
			if err := json.Unmarshal([]byte(raw), &rec); err != nil {
				return nil, fmt.Errorf("decode chunk %d of %s: %w", i, j.ID, err)
			}
			c.Status = rec.Status
			c.Worker = &rec.Worker
			c.StartedAt = &rec.StartedAt
			c.FinishedAt = rec.FinishedAt
			c.DurationMS = rec.DurationMS
			if rec.Error != "" {
				c.Error = &rec.Error
			}
		}
		if j.Status.Terminal() && (c.Status == crunchtype.StatusQueued || c.Status == crunchtype.StatusRunning) {
			c.Status = crunchtype.StatusCanceled
		}
		chunks[i] = c
	}
	return chunks, nil
}

// Partials returns the partial results of chunks 0..total-1, in order.
func (s *Store) Partials(ctx context.Context, id string, total int) ([][]byte, error) {
	fields := make([]string, total)
	for i := range fields {
		fields[i] = strconv.Itoa(i)
	}
	vals, err := s.rdb.HMGet(ctx, s.keys(id).partials, fields...).Result()
	if err != nil {
		return nil, fmt.Errorf("partials of %s: %w", id, err)
	}
	partials := make([][]byte, total)
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("partial %d of %s is missing", i, id)
		}
		partials[i] = []byte(str)
	}
	return partials, nil
}

// Artifact returns a job's artifact; ErrNotFound when there is none.
func (s *Store) Artifact(ctx context.Context, id string) ([]byte, error) {
	b, err := s.rdb.Get(ctx, s.keys(id).artifact).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("artifact of %s: %w", id, err)
	}
	return b, nil
}

// Input returns a reader of a job's bulk input that fetches only the byte
// ranges asked for.
func (s *Store) Input(ctx context.Context, id string) (*Input, error) {
	key := s.keys(id).input
	n, err := s.rdb.StrLen(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("input of %s: %w", id, err)
	}
	return &Input{ctx: ctx, rdb: s.rdb, key: key, size: n}, nil
}

// Input is a job's bulk input read from Redis with GETRANGE. It implements
// tasks.Input.
type Input struct {
	ctx  context.Context
	rdb  redis.UniversalClient
	key  string
	size int64
}

// Size is the input's length in bytes.
func (in *Input) Size() int64 { return in.size }

// maxRead caps one GETRANGE, so a large read does not block Redis.
const maxRead = 4 << 20

// ReadAt reads len(p) bytes at off, as io.ReaderAt.
func (in *Input) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("store: negative offset")
	}
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at >= in.size {
			return n, io.EOF
		}
		end := min(at+int64(len(p)-n), at+maxRead, in.size)
		b, err := in.rdb.GetRange(in.ctx, in.key, at, end-1).Bytes()
		if err != nil {
			return n, fmt.Errorf("read input: %w", err)
		}
		if len(b) == 0 {
			return n, io.EOF
		}
		n += copy(p[n:], b)
	}
	return n, nil
}

func ptr[T any](v T) *T { return &v }

func durationMS(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Liveness of workers. asynq alone recovers the task of a killed worker
// only after its 30 s lease has been expired for another 30 s and a retry
// delay has passed — about three minutes. crunch workers instead refresh a
// heartbeat key every second and record which chunks they run; when a
// heartbeat lapses, one elected sweeper hands the dead worker's chunks,
// and the plan or reduce step it was running, back to the queue under new
// task ids.
//
// Every liveness key carries the hash tag {workers}, so that forgetWorker
// and Retire, which touch several of them at once, stay in one Redis
// Cluster hash slot.
func (s *Store) workersKey() string { return s.cfg.Namespace + ":{workers}" }
func (s *Store) aliveKey(worker string) string {
	return s.cfg.Namespace + ":{workers}:" + worker + ":alive"
}
func (s *Store) runningKey(worker string) string {
	return s.cfg.Namespace + ":{workers}:" + worker + ":chunks"
}
func (s *Store) sweeperKey() string { return s.cfg.Namespace + ":sweeper" }

// Heartbeat records that worker is alive for the next ttl.
func (s *Store) Heartbeat(ctx context.Context, worker string, ttl time.Duration) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.aliveKey(worker), 1, ttl)
		p.SAdd(ctx, s.workersKey(), worker)
		return nil
	})
	return err
}

// Retire removes a worker that stops cleanly.
func (s *Store) Retire(ctx context.Context, worker string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.aliveKey(worker), s.runningKey(worker))
		p.SRem(ctx, s.workersKey(), worker)
		return nil
	})
	return err
}

// The steps of a job a worker runs: its plan, its chunks, its reduce.
const (
	StepPlan   = "plan"
	StepChunk  = "chunk"
	StepReduce = "reduce"
)

// A RunningTask is a step of a job recorded as running on a worker.
type RunningTask struct {
	Worker string
	JobID  string
	Step   string // StepPlan, StepChunk or StepReduce
	Index  int    // the chunk's index, for StepChunk
}

// Key names the task among its worker's running tasks: "job/3" for chunk
// 3 of job, "job/plan", "job/reduce".
func (t RunningTask) Key() string {
	if t.Step == StepChunk {
		return t.JobID + "/" + strconv.Itoa(t.Index)
	}
	return t.JobID + "/" + t.Step
}

// Track records that t runs on its worker.
func (s *Store) Track(ctx context.Context, t RunningTask) error {
	return s.rdb.SAdd(ctx, s.runningKey(t.Worker), t.Key()).Err()
}

// Untrack records that t no longer runs on its worker.
func (s *Store) Untrack(ctx context.Context, t RunningTask) error {
	return s.rdb.SRem(ctx, s.runningKey(t.Worker), t.Key()).Err()
}

// LeadSweeper makes worker the sweeper for ttl if no other worker is, or
// extends its term if it already is. It reports whether worker leads.
func (s *Store) LeadSweeper(ctx context.Context, worker string, ttl time.Duration) (bool, error) {
	n, err := leadSweeper.Run(ctx, s.rdb, []string{s.sweeperKey()}, worker, ttl.Milliseconds()).Int()
	return n == 1, err
}

var leadSweeper = redis.NewScript(`
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`)

// Orphans returns the tasks recorded as running on workers whose
// heartbeat has lapsed, and the dead workers that run nothing any more.
func (s *Store) Orphans(ctx context.Context) (orphans []RunningTask, idle []string, err error) {
	workers, err := s.rdb.SMembers(ctx, s.workersKey()).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("list workers: %w", err)
	}
	for _, w := range workers {
		alive, err := s.rdb.Exists(ctx, s.aliveKey(w)).Result()
		if err != nil {
			return nil, nil, err
		}
		if alive == 1 {
			continue
		}
		entries, err := s.rdb.SMembers(ctx, s.runningKey(w)).Result()
		if err != nil {
			return nil, nil, err
		}
		if len(entries) == 0 {
			idle = append(idle, w)
		}
		orphans = append(orphans, parseEntries(w, entries)...)
	}
	return orphans, idle, nil
}

// RunningOn returns the tasks recorded as running on worker.
func (s *Store) RunningOn(ctx context.Context, worker string) ([]RunningTask, error) {
	entries, err := s.rdb.SMembers(ctx, s.runningKey(worker)).Result()
	if err != nil {
		return nil, err
	}
	return parseEntries(worker, entries), nil
}

func parseEntries(worker string, entries []string) []RunningTask {
	out := make([]RunningTask, 0, len(entries))
	for _, e := range entries {
		id, step, ok := strings.Cut(e, "/")
		if !ok {
			continue
		}
		t := RunningTask{Worker: worker, JobID: id, Step: step}
		if step != StepPlan && step != StepReduce {
			i, err := strconv.Atoi(step)
			if err != nil {
				continue
			}
			t.Step, t.Index = StepChunk, i
		}
		out = append(out, t)
	}
	return out
}

// Forget drops a dead worker that runs nothing, unless it came back.
func (s *Store) Forget(ctx context.Context, worker string) error {
	return forgetWorker.Run(ctx, s.rdb, []string{s.aliveKey(worker), s.runningKey(worker), s.workersKey()}, worker).Err()
}

var forgetWorker = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('SCARD', KEYS[2]) > 0 then return 0 end
return redis.call('SREM', KEYS[3], ARGV[1])
`)

// ReclaimChunk hands chunk index of job id back from a worker that no
// longer runs it (dead, or its handler ended while Redis was away): unless
// the chunk completed, its job ended, or another worker has started it
// since, it is marked queued again and the number of attempts so far is
// returned, to name the new task. The entry is dropped either way.
func (s *Store) ReclaimChunk(ctx context.Context, o RunningTask, now time.Time) (attempts int, ok bool, err error) {
	k := s.keys(o.JobID)
	rec := fmt.Sprintf(`{"status":"queued","worker":%q,"started_at":%q,"error":"worker %s stopped answering; chunk handed back"}`,
		o.Worker, formatTime(now), o.Worker)
	n, err := reclaimChunk.Run(ctx, s.rdb, []string{k.job, k.chunks, k.done}, o.Index, o.Worker, rec).Int()
	if err != nil {
		return 0, false, fmt.Errorf("reclaim chunk %d of %s: %w", o.Index, o.JobID, err)
	}
	if err := s.Untrack(ctx, o); err != nil {
		return 0, false, err
	}
	return n, n >= 0, nil
}

// reclaimChunk: KEYS job, chunks, done. ARGV index, dead worker, record.
var reclaimChunk = redis.NewScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' and status ~= 'queued' then return -1 end
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return -1 end
local holder = redis.call('HGET', KEYS[2], ARGV[1] .. ':w')
if holder and holder ~= ARGV[2] then return -1 end
redis.call('HDEL', KEYS[2], ARGV[1] .. ':w')
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return tonumber(redis.call('HGET', KEYS[2], ARGV[1] .. ':n') or '0')
`)

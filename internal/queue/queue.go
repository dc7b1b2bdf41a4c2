// Package queue names crunch's asynq queues and enqueues its tasks.
//
// Every task that must happen at most once per job or chunk is enqueued
// with a deterministic asynq TaskID, so enqueueing it again — after a crash,
// a retry, or a duplicate trigger — is harmless: asynq answers
// ErrTaskIDConflict, which this package treats as success.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/crunchjobs/crunch/tasks"
)

// Priorities a job may ask for.
const (
	PriorityHigh   = "high"
	PriorityNormal = "normal"
	PriorityLow    = "low"
)

// WindowDefault is how many chunks of one job are queued or running at a
// time unless a worker is configured otherwise (worker.Config.Window): the
// next is released as one completes, so that a giant job cannot put
// thousands of tasks ahead of the jobs submitted after it. The API reads
// it too, to tell how much of a backlog is runnable now.
const WindowDefault = 4

// Names are the queue names of one namespace.
type Names struct {
	// Control carries plan, reduce and deadline tasks: bookkeeping that
	// must not wait behind chunks; workers serve it with its own server.
	Control string
	// High, Normal and Low are the first chunk queue of each priority, the
	// only one with a single shard.
	High   string
	Normal string
	Low    string
	// Webhooks carries webhook deliveries, served by their own asynq server.
	Webhooks string

	// shards holds the chunk queues of each priority (see [ShardNames]).
	shards map[string][]string
}

// NamesFor returns the queue names of namespace ns with one chunk queue per
// priority.
func NamesFor(ns string) Names { return ShardedNamesFor(ns, 1) }

// ShardedNamesFor returns the queue names of namespace ns with shards chunk
// queues per priority (at least 1, at most [MaxShards]; see [ShardNames]).
func ShardedNamesFor(ns string, shards int) Names {
	shards = min(max(shards, 1), MaxShards)
	n := Names{
		Control:  ns + ":control",
		Webhooks: ns + ":webhooks",
		shards:   make(map[string][]string, 3),
	}
	for _, p := range []string{PriorityHigh, PriorityNormal, PriorityLow} {
		n.shards[p] = ShardNames(ns+":"+p, shards)
	}
	n.High, n.Normal, n.Low = n.shards[PriorityHigh][0], n.shards[PriorityNormal][0], n.shards[PriorityLow][0]
	return n
}

// Shards is the number of chunk queues per priority.
func (n Names) Shards() int { return len(n.chunkQueues(PriorityNormal)) }

// ForPriority is the first chunk queue of a priority.
func (n Names) ForPriority(priority string) string {
	return n.ForChunk(priority, 0)
}

// ForChunk is the chunk queue of a priority that chunk index goes to: the
// chunks of one job spread over the shards round-robin by index, so every
// shard holds an equal share of every job.
func (n Names) ForChunk(priority string, index int) string {
	qs := n.chunkQueues(priority)
	return qs[index%len(qs)]
}

// ChunkQueues are the chunk queues of a priority, shard by shard.
func (n Names) ChunkQueues(priority string) []string {
	return append([]string(nil), n.chunkQueues(priority)...)
}

func (n Names) chunkQueues(priority string) []string {
	if n.shards == nil { // a Names literal: one queue per priority
		switch priority {
		case PriorityHigh:
			return []string{n.High}
		case PriorityLow:
			return []string{n.Low}
		default:
			return []string{n.Normal}
		}
	}
	switch priority {
	case PriorityHigh, PriorityLow:
	default:
		priority = PriorityNormal
	}
	return n.shards[priority]
}

// Weights of the priorities: high:normal:low as 6:3:1.
const (
	WeightHigh   = 6
	WeightNormal = 3
	WeightLow    = 1
)

// ChunkWeights are the chunk server's queue weights: every shard queue of
// a priority has the priority's weight, so high:normal:low stays 6:3:1
// whatever the number of shards. The control queue is served by its own
// server, so bookkeeping never waits for a chunk slot.
func (n Names) ChunkWeights() map[string]int {
	w := make(map[string]int, 3*n.Shards())
	for p, weight := range map[string]int{PriorityHigh: WeightHigh, PriorityNormal: WeightNormal, PriorityLow: WeightLow} {
		for _, q := range n.chunkQueues(p) {
			w[q] = weight
		}
	}
	return w
}

// Enqueuer enqueues crunch tasks.
type Enqueuer struct {
	client    *asynq.Client
	inspector *asynq.Inspector
	names     Names
	ns        string
}

// NewEnqueuer returns an Enqueuer for namespace ns on rdb, which it does
// not own, with [DefaultShards] chunk queues per priority.
func NewEnqueuer(rdb redis.UniversalClient, ns string) *Enqueuer {
	return NewShardedEnqueuer(rdb, ns, 0)
}

// NewShardedEnqueuer is NewEnqueuer with shards chunk queues per priority;
// 0 means [DefaultShards] for rdb. The API and every worker of a deployment
// must use the same number.
func NewShardedEnqueuer(rdb redis.UniversalClient, ns string, shards int) *Enqueuer {
	if shards <= 0 {
		shards = DefaultShards(rdb)
	}
	return &Enqueuer{
		client:    asynq.NewClientFromRedisClient(rdb),
		inspector: asynq.NewInspectorFromRedisClient(rdb),
		names:     ShardedNamesFor(ns, shards),
		ns:        ns,
	}
}

// Names returns the queue names.
func (e *Enqueuer) Names() Names { return e.names }

func (e *Enqueuer) enqueue(ctx context.Context, typ string, payload any, id string, opts ...asynq.Option) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode %s payload: %w", typ, err)
	}
	opts = append(opts, asynq.TaskID(e.ns+":"+id))
	_, err = e.client.EnqueueContext(ctx, asynq.NewTask(typ, b), opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueue %s %s: %w", typ, id, err)
	}
	return nil
}

// Plan enqueues the task that fans job out into chunks.
func (e *Enqueuer) Plan(ctx context.Context, jobID string) error {
	return e.plan(ctx, jobID, jobID+":plan")
}

func (e *Enqueuer) plan(ctx context.Context, jobID, id string) error {
	return e.enqueue(ctx, tasks.TypePlan, tasks.PlanPayload{JobID: jobID}, id,
		asynq.Queue(e.names.Control), asynq.MaxRetry(25))
}

// deadlineGrace lets a chunk outlive its job's deadline briefly, so that
// the worker, not asynq, stops it and records the timeout.
const deadlineGrace = time.Minute

// Chunk enqueues one chunk of a job whose deadline is jobDeadline.
func (e *Enqueuer) Chunk(ctx context.Context, p tasks.ChunkPayload, priority string, maxRetries int, jobDeadline time.Time) error {
	return e.chunk(ctx, fmt.Sprintf("%s:c%d", p.JobID, p.Index), p, priority, maxRetries, jobDeadline)
}

// HandBack enqueues again a chunk whose worker died (or lost Redis) while
// running it. It goes to the high queue (the chunk's shard of it): it is work already started, and a
// job should not finish last because one of its workers died. attempts
// (the chunk's runs so far) names the new task, so sweepers racing on one
// chunk enqueue it once.
func (e *Enqueuer) HandBack(ctx context.Context, p tasks.ChunkPayload, maxRetries int, jobDeadline time.Time, attempts int) error {
	return e.chunk(ctx, fmt.Sprintf("%s:c%d:r%d", p.JobID, p.Index, attempts), p, PriorityHigh, maxRetries, jobDeadline)
}

func (e *Enqueuer) chunk(ctx context.Context, id string, p tasks.ChunkPayload, priority string, maxRetries int, jobDeadline time.Time) error {
	return e.enqueue(ctx, tasks.TypeChunk, p, id,
		asynq.Queue(e.names.ForChunk(priority, p.Index)), asynq.MaxRetry(maxRetries),
		asynq.Deadline(jobDeadline.Add(deadlineGrace)))
}

// Reduce enqueues the task that merges a job's partial results.
func (e *Enqueuer) Reduce(ctx context.Context, jobID string) error {
	return e.reduce(ctx, jobID, jobID+":reduce")
}

func (e *Enqueuer) reduce(ctx context.Context, jobID, id string) error {
	return e.enqueue(ctx, tasks.TypeReduce, tasks.ReducePayload{JobID: jobID}, id,
		asynq.Queue(e.names.Control), asynq.MaxRetry(3))
}

// ResumePlan and ResumeReduce enqueue again the plan or reduce step of a
// job whose worker died while running it. The dead worker's task keeps its
// id until asynq recovers it, about three minutes later, and then finds
// nothing left to do; the new task is named after the dead worker, so
// sweepers racing on it enqueue it once.
func (e *Enqueuer) ResumePlan(ctx context.Context, jobID, deadWorker string) error {
	return e.plan(ctx, jobID, jobID+":plan:after:"+deadWorker)
}

// ResumeReduce: see ResumePlan.
func (e *Enqueuer) ResumeReduce(ctx context.Context, jobID, deadWorker string) error {
	return e.reduce(ctx, jobID, jobID+":reduce:after:"+deadWorker)
}

// ForgetDeadline deletes the deadline task of a job that has ended, so
// that finished jobs leave nothing behind in Redis beyond their TTL.
func (e *Enqueuer) ForgetDeadline(ctx context.Context, jobID string) error {
	err := e.inspector.DeleteTask(e.names.Control, e.ns+":"+jobID+":deadline")
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return nil
	}
	return err
}

// Deadline enqueues the task that fails job with a timeout at t if it is
// still unfinished then.
func (e *Enqueuer) Deadline(ctx context.Context, jobID string, t time.Time) error {
	return e.enqueue(ctx, tasks.TypeDeadline, tasks.DeadlinePayload{JobID: jobID}, jobID+":deadline",
		asynq.Queue(e.names.Control), asynq.ProcessAt(t), asynq.MaxRetry(25))
}

// WebhookMaxRetry is the number of retries of a webhook delivery: the
// contract's schedule has nine delays after the first attempt.
const WebhookMaxRetry = 9

// webhookRetention keeps a delivered webhook task's id taken for a day, so
// an event announced again after its delivery is not sent twice.
const webhookRetention = 24 * time.Hour

// Webhook enqueues the delivery of one webhook event. Its task id is the
// webhook id, so an event is enqueued once however often it is announced.
func (e *Enqueuer) Webhook(ctx context.Context, p tasks.WebhookPayload) error {
	return e.enqueue(ctx, tasks.TypeWebhook, p, p.WebhookID,
		asynq.Queue(e.names.Webhooks), asynq.MaxRetry(WebhookMaxRetry), asynq.Timeout(time.Minute),
		asynq.Retention(webhookRetention))
}

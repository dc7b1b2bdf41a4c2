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
	High    string
	Normal  string
	Low     string
	// Webhooks carries webhook deliveries, served by their own asynq server.
	Webhooks string
}

// NamesFor returns the queue names of namespace ns.
func NamesFor(ns string) Names {
	return Names{
		Control:  ns + ":control",
		High:     ns + ":high",
		Normal:   ns + ":normal",
		Low:      ns + ":low",
		Webhooks: ns + ":webhooks",
	}
}

// ForPriority is the chunk queue of a priority.
func (n Names) ForPriority(priority string) string {
	switch priority {
	case PriorityHigh:
		return n.High
	case PriorityLow:
		return n.Low
	default:
		return n.Normal
	}
}

// ChunkWeights are the chunk server's queue weights: high:normal:low as
// 6:3:1. The control queue is served by its own server, so bookkeeping
// never waits for a chunk slot.
func (n Names) ChunkWeights() map[string]int {
	return map[string]int{n.High: 6, n.Normal: 3, n.Low: 1}
}

// Enqueuer enqueues crunch tasks.
type Enqueuer struct {
	client    *asynq.Client
	inspector *asynq.Inspector
	names     Names
	ns        string
}

// NewEnqueuer returns an Enqueuer for namespace ns on rdb, which it does
// not own.
func NewEnqueuer(rdb redis.UniversalClient, ns string) *Enqueuer {
	return &Enqueuer{
		client:    asynq.NewClientFromRedisClient(rdb),
		inspector: asynq.NewInspectorFromRedisClient(rdb),
		names:     NamesFor(ns),
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
// running it. It goes to the high queue: it is work already started, and a
// job should not finish last because one of its workers died. attempts
// (the chunk's runs so far) names the new task, so sweepers racing on one
// chunk enqueue it once.
func (e *Enqueuer) HandBack(ctx context.Context, p tasks.ChunkPayload, maxRetries int, jobDeadline time.Time, attempts int) error {
	return e.chunk(ctx, fmt.Sprintf("%s:c%d:r%d", p.JobID, p.Index, attempts), p, PriorityHigh, maxRetries, jobDeadline)
}

func (e *Enqueuer) chunk(ctx context.Context, id string, p tasks.ChunkPayload, priority string, maxRetries int, jobDeadline time.Time) error {
	return e.enqueue(ctx, tasks.TypeChunk, p, id,
		asynq.Queue(e.names.ForPriority(priority)), asynq.MaxRetry(maxRetries),
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

package tasks

import "encoding/json"

// Task type names. They are stored in Redis with every queued task, so they
// must never be renamed: a worker of a newer build must still understand
// tasks enqueued by an older API.
const (
	// TypePlan fans a job out into its chunk tasks.
	TypePlan = "crunch:plan"
	// TypeChunk computes one chunk of a job.
	TypeChunk = "crunch:chunk"
	// TypeReduce merges the partial results of a job whose chunks are all done.
	TypeReduce = "crunch:reduce"
	// TypeDeadline ends a job that is still unfinished when its timeout passes.
	TypeDeadline = "crunch:deadline"
	// TypeWebhook delivers one webhook event of a job.
	TypeWebhook = "crunch:webhook"
)

// PlanPayload is the payload of a [TypePlan] task.
type PlanPayload struct {
	JobID string `json:"job_id"`
}

// ChunkPayload is the payload of a [TypeChunk] task. It carries the range
// of the job's work the chunk covers, never the input itself.
type ChunkPayload struct {
	JobID string `json:"job_id"`
	Index int    `json:"index"`
	Range Range  `json:"range"`
}

// ReducePayload is the payload of a [TypeReduce] task.
type ReducePayload struct {
	JobID string `json:"job_id"`
}

// DeadlinePayload is the payload of a [TypeDeadline] task.
type DeadlinePayload struct {
	JobID string `json:"job_id"`
}

// WebhookPayload is the payload of a [TypeWebhook] task: one event of one
// job. The body is built when the event happens and sent unchanged on every
// attempt, under the same webhook id.
type WebhookPayload struct {
	JobID     string          `json:"job_id"`
	Tenant    string          `json:"tenant"`
	Event     string          `json:"event"`
	WebhookID string          `json:"webhook_id"`
	URL       string          `json:"url"`
	Body      json.RawMessage `json:"body"`
}

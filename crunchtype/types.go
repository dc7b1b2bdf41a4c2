package crunchtype

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Status is a job's or a chunk's status.
type Status string

// The statuses. A job ends succeeded, failed or canceled.
const (
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusCanceled  Status = "canceled"
)

// Terminal reports whether s is a final status.
func (s Status) Terminal() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusCanceled
}

// Job error types (Job.Error.Type). More may be added; these never change.
const (
	TypeTimeout     = "timeout"
	TypeKernelError = "kernel_error"
	TypeCanceled    = "canceled"
)

// Job is a job as the API returns it.
type Job struct {
	ID         string          `json:"id"`
	Kernel     string          `json:"kernel"`
	Status     Status          `json:"status"`
	Params     json.RawMessage `json:"params"`
	Chunks     ChunkCounts     `json:"chunks"`
	Progress   float64         `json:"progress"`
	Result     json.RawMessage `json:"result"` // set once succeeded
	Error      *Problem        `json:"error"`  // set once failed or canceled
	Priority   string          `json:"priority"`
	Metadata   json.RawMessage `json:"metadata"`
	Webhook    *Webhook        `json:"webhook"`
	CreatedAt  time.Time       `json:"created_at"`
	StartedAt  *time.Time      `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at"`
}

// ChunkCounts counts a job's chunks.
type ChunkCounts struct {
	Total  int `json:"total"`
	Done   int `json:"done"`
	Failed int `json:"failed"`
}

// Webhook is where and for which events a job's signed notifications are
// sent. Events defaults to job.succeeded, job.failed and job.canceled.
type Webhook struct {
	URL    string   `json:"url"`
	Events []string `json:"events,omitempty"`
}

// Chunk is one chunk of a job.
type Chunk struct {
	Index      int        `json:"index"`
	Status     Status     `json:"status"`
	Worker     *string    `json:"worker"`
	Attempts   int        `json:"attempts"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	DurationMS *float64   `json:"duration_ms"`
	// Error says why the last attempt failed, when it did.
	Error *string `json:"error,omitempty"`
}

// Delivery is one attempt to deliver one webhook event.
type Delivery struct {
	Event      string    `json:"event"`
	WebhookID  string    `json:"webhook_id"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code"` // nil when no answer came
	Error      *string   `json:"error"`       // why, when it failed
	DurationMS float64   `json:"duration_ms"`
	// GivenUp marks the last attempt of an event that was never delivered:
	// retries ran out, the receiver answered 410 Gone, or the target is
	// refused for good.
	GivenUp bool `json:"given_up"`
}

// Kernel describes one of the server's kernels.
type Kernel struct {
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	ParamsSchema json.RawMessage `json:"params_schema"`
}

// JobRequest is the body of POST /v1/jobs. Only Kernel is required; zero
// fields are left out, so the server's defaults apply.
type JobRequest struct {
	Kernel string `json:"kernel"`
	// Params are the kernel's parameters: anything that encodes to a JSON
	// object, such as a map or a json.RawMessage.
	Params         any            `json:"params,omitempty"`
	Chunks         int            `json:"chunks,omitempty"`
	Priority       string         `json:"priority,omitempty"` // "high", "normal" (default) or "low"
	TimeoutSeconds int            `json:"timeout_seconds,omitempty"`
	MaxRetries     *int           `json:"max_retries,omitempty"`
	Webhook        *Webhook       `json:"webhook,omitempty"`
	Metadata       map[string]any `json:"metadata,omitempty"`
	// IdempotencyKey, when set, is sent as the Idempotency-Key header: the
	// same key and body within the result TTL return the first job.
	IdempotencyKey string `json:"-"`
}

// JobPage is one page of jobs, newest first.
type JobPage struct {
	Jobs       []Job   `json:"jobs"`
	NextCursor *string `json:"next_cursor"` // nil on the last page
}

// Problem is an RFC 9457 problem details object: the body of every error
// the API answers, and the error of a failed or canceled job.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Errors lists the invalid fields of a validation problem (a 422).
	Errors []FieldError `json:"errors,omitempty"`
	// RetryAfter is the Retry-After header of a 429 or 503, when a client
	// read one.
	RetryAfter time.Duration `json:"-"`
}

// FieldError is one invalid field of a request. Field is a dotted path
// such as "params.to" or "params.values[3]".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p *Problem) Error() string {
	msg := p.Title
	if p.Status != 0 {
		msg = fmt.Sprintf("%d %s", p.Status, p.Title)
	}
	if p.Detail != "" {
		msg += ": " + p.Detail
	}
	if len(p.Errors) > 0 {
		fields := make([]string, len(p.Errors))
		for i, fe := range p.Errors {
			fields[i] = fe.Field + ": " + fe.Message
		}
		msg += " [" + strings.Join(fields, "; ") + "]"
	}
	return msg
}

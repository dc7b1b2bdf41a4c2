package client

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

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

// Webhook asks for signed notifications of a job's events.
type Webhook struct {
	URL    string   `json:"url"`
	Events []string `json:"events,omitempty"`
}

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

// Chunk is one chunk of a job.
type Chunk struct {
	Index      int        `json:"index"`
	Status     Status     `json:"status"`
	Worker     *string    `json:"worker"`
	Attempts   int        `json:"attempts"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	DurationMS *float64   `json:"duration_ms"`
}

// Kernel describes one of the server's kernels.
type Kernel struct {
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	ParamsSchema json.RawMessage `json:"params_schema"`
}

// ListOptions filter and page GET /v1/jobs; zero fields are left out.
type ListOptions struct {
	Status Status
	Kernel string
	Limit  int    // 1–1000; the server's default is 50
	Cursor string // NextCursor of the previous page
}

// JobPage is one page of jobs, newest first.
type JobPage struct {
	Jobs       []Job   `json:"jobs"`
	NextCursor *string `json:"next_cursor"` // nil on the last page
}

// Problem is an error answered by the API (RFC 9457 problem details), or
// a job's error.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status,omitempty"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"` // the invalid fields of a 422
	// RetryAfter is the Retry-After header of a 429 or 503, if any.
	RetryAfter time.Duration `json:"-"`
}

// FieldError is one invalid field of a request, such as "params.to".
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

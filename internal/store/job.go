package store

import (
	"encoding/json"
	"time"

	"github.com/crunchjobs/crunch/internal/problem"
)

// Status is a job's or a chunk's status.
type Status string

// Statuses.
const (
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusCanceled  Status = "canceled"
)

// Terminal reports whether s is final.
func (s Status) Terminal() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusCanceled
}

// AnonymousTenant owns every job when no API keys are configured. It is
// reserved: no API key may name a tenant so.
const AnonymousTenant = "anonymous"

// Webhook is where and for which events a job's webhooks are sent.
type Webhook struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// ChunkCounts counts a job's chunks.
type ChunkCounts struct {
	Total  int `json:"total"`
	Done   int `json:"done"`
	Failed int `json:"failed"`
}

// Job is a job as clients see it (the contract's Job object), plus the
// bookkeeping fields the API and workers need, which are not serialised.
type Job struct {
	ID         string           `json:"id"`
	Kernel     string           `json:"kernel"`
	Status     Status           `json:"status"`
	Params     json.RawMessage  `json:"params"`
	Chunks     ChunkCounts      `json:"chunks"`
	Progress   float64          `json:"progress"`
	Result     json.RawMessage  `json:"result"`
	Error      *problem.Problem `json:"error"`
	Priority   string           `json:"priority"`
	Metadata   json.RawMessage  `json:"metadata"`
	Webhook    *Webhook         `json:"webhook"`
	CreatedAt  time.Time        `json:"created_at"`
	StartedAt  *time.Time       `json:"started_at"`
	FinishedAt *time.Time       `json:"finished_at"`

	// Tenant owns the job.
	Tenant string `json:"-"`
	// Deadline is when the job times out (created_at + timeout_seconds).
	Deadline time.Time `json:"-"`
	// MaxRetries is the retry budget of each chunk.
	MaxRetries int `json:"-"`
	// Extent is the size of the job's work, split by tasks.ChunkRange.
	Extent int64 `json:"-"`
	// HasInput reports whether bulk input is stored with the job.
	HasInput bool `json:"-"`
	// Planned reports whether every chunk task has been enqueued.
	Planned bool `json:"-"`
}

// Chunk is one chunk as clients see it (the contract's Chunk object).
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

// chunkRecord is what is stored for a chunk that has started.
type chunkRecord struct {
	Status     Status     `json:"status"`
	Worker     string     `json:"worker"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	DurationMS *float64   `json:"duration_ms,omitempty"`
	Error      string     `json:"error,omitempty"`
}

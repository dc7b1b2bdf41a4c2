package store

import (
	"time"

	"github.com/crunchjobs/crunch/crunchtype"
)

// AnonymousTenant owns every job when no API keys are configured. It is
// reserved: no API key may name a tenant so.
const AnonymousTenant = "anonymous"

// Job is a job: what clients see (crunchtype.Job, the contract's Job
// object), plus the bookkeeping the API and workers need, which is never
// serialised.
type Job struct {
	crunchtype.Job

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

// chunkRecord is what is stored for a chunk that has started.
type chunkRecord struct {
	Status     crunchtype.Status `json:"status"`
	Worker     string            `json:"worker"`
	StartedAt  time.Time         `json:"started_at"`
	FinishedAt *time.Time        `json:"finished_at,omitempty"`
	DurationMS *float64          `json:"duration_ms,omitempty"`
	Error      string            `json:"error,omitempty"`
}

package api

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/store"
)

// workerList is the body of GET /v1/workers.
type workerList struct {
	Workers []workerView `json:"workers"`
	Queues  []queueView  `json:"queues"`
}

// workerView is one live worker. Tasks of the caller's own jobs are listed;
// tasks of other tenants' jobs are only counted, so that no tenant learns
// another's job ids.
type workerView struct {
	ID string `json:"id"`
	// Concurrency is the worker's chunk slots; null when it has not said.
	Concurrency *int       `json:"concurrency"`
	StartedAt   *time.Time `json:"started_at"`
	LastSeen    *time.Time `json:"last_seen"`
	Running     []taskView `json:"running"`
	// OtherRunning counts the tasks it runs for other tenants.
	OtherRunning int `json:"other_running"`
}

// taskView is a step of one of the caller's jobs running on a worker.
type taskView struct {
	JobID string `json:"job_id"`
	// Step is "chunk", "plan" or "reduce".
	Step string `json:"step"`
	// Chunk is the chunk's index, for a chunk; else null.
	Chunk *int `json:"chunk"`
}

// queueView is the depth of one asynq queue of this deployment.
type queueView struct {
	Name string `json:"name"`
	// Priority is high, normal or low for the chunk queues, null for the
	// control and webhook queues.
	Priority  *string `json:"priority"`
	Pending   int     `json:"pending"`
	Active    int     `json:"active"`
	Scheduled int     `json:"scheduled"`
	Retry     int     `json:"retry"`
	Archived  int     `json:"archived"`
	Paused    bool    `json:"paused"`
	// LatencyMS is how long the oldest pending task has waited.
	LatencyMS float64 `json:"latency_ms"`
}

// listWorkers is GET /v1/workers: the live workers, what they run now, and
// the queue depths.
func (s *Server) listWorkers(c echo.Context) error {
	ctx := c.Request().Context()
	tenant := tenantOf(c)
	infos, err := s.store.Workers(ctx)
	if err != nil {
		return err
	}
	owner := map[string]string{} // job id → tenant; "" when the job is gone
	out := workerList{Workers: make([]workerView, 0, len(infos))}
	for _, w := range infos {
		v := workerView{ID: w.ID, Running: []taskView{}}
		if w.Concurrency > 0 {
			v.Concurrency = &w.Concurrency
		}
		if !w.StartedAt.IsZero() {
			v.StartedAt = &w.StartedAt
		}
		if !w.LastSeen.IsZero() {
			v.LastSeen = &w.LastSeen
		}
		for _, t := range w.Running {
			o, ok := owner[t.JobID]
			if !ok {
				job, err := s.store.Get(ctx, t.JobID)
				switch {
				case errors.Is(err, store.ErrNotFound):
				case err != nil:
					return err
				default:
					o = job.Tenant
				}
				owner[t.JobID] = o
			}
			if o != tenant {
				v.OtherRunning++
				continue
			}
			tv := taskView{JobID: t.JobID, Step: t.Step}
			if t.Step == store.StepChunk {
				tv.Chunk = &t.Index
			}
			v.Running = append(v.Running, tv)
		}
		out.Workers = append(out.Workers, v)
	}
	if out.Queues, err = s.queueDepths(); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// queueDepths reads the depth of every queue of the namespace, chunk
// queues first by priority. A queue asynq has not seen yet is empty.
func (s *Server) queueDepths() ([]queueView, error) {
	known, err := s.inspector.Queues()
	if err != nil {
		return nil, err
	}
	names := queue.NamesFor(s.cfg.Namespace)
	list := []struct{ name, priority string }{
		{names.High, queue.PriorityHigh},
		{names.Normal, queue.PriorityNormal},
		{names.Low, queue.PriorityLow},
		{names.Control, ""},
		{names.Webhooks, ""},
	}
	out := make([]queueView, 0, len(list))
	for _, q := range list {
		v := queueView{Name: q.name}
		if q.priority != "" {
			v.Priority = &q.priority
		}
		if slices.Contains(known, q.name) {
			info, err := s.inspector.GetQueueInfo(q.name)
			if err != nil {
				return nil, err
			}
			v.Pending, v.Active, v.Scheduled = info.Pending, info.Active, info.Scheduled
			v.Retry, v.Archived, v.Paused = info.Retry, info.Archived, info.Paused
			v.LatencyMS = float64(info.Latency.Microseconds()) / 1000
		}
		out = append(out, v)
	}
	return out, nil
}

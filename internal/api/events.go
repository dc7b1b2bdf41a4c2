package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/store"
)

// heartbeatInterval is how often an idle event stream sends a comment, so
// that proxies do not close it; the job is also re-read then, in case a
// pub/sub message was lost while Redis reconnected.
const heartbeatInterval = 15 * time.Second

// streamEvents is GET /v1/jobs/{id}/events: Server-Sent Events of the job.
//
// It watches the job through the process's hub before reading the job, so
// no change falls between the two. The first event is always the current
// state, as a status event: a client reconnecting with Last-Event-ID
// therefore never misses the terminal status. The stream ends after the
// terminal status.
func (s *Server) streamEvents(c echo.Context) error {
	ctx := c.Request().Context()
	job, err := s.loadJob(c)
	if err != nil {
		return err
	}
	w, err := s.hub.watch(ctx, job.Tenant, job.ID)
	if errors.Is(err, errTooManyStreams) {
		c.Response().Header().Set("Retry-After", "5")
		return newProblem(http.StatusTooManyRequests, typeTooManyRequests,
			fmt.Sprintf("This tenant already has %d event streams open on this server, the most it may have; close one or poll GET /v1/jobs/{id}.", s.cfg.TenantMaxStreams))
	}
	if err != nil {
		return err
	}
	defer s.hub.unwatch(w)
	if job, err = s.store.Get(ctx, job.ID); err != nil {
		return err
	}

	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set(echo.HeaderCacheControl, "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	c.Response().WriteHeader(http.StatusOK)

	sent := eventID(job)
	if err := writeEvent(c, store.EventStatus, sent, job); err != nil || job.Status.Terminal() {
		return nil
	}
	heartbeat := time.NewTicker(heartbeatInterval)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.shuttingDown:
			return nil
		case <-heartbeat.C:
			extendWriteDeadline(c)
			if _, err := fmt.Fprint(c.Response(), ": heartbeat\n\n"); err != nil {
				return nil
			}
			c.Response().Flush()
			// Re-read the job, in case a message was lost while the hub's
			// subscription reconnected.
			if latest, err := s.store.Get(ctx, job.ID); err == nil {
				w.offer(latest)
			}
		case <-w.wake:
		}
		// Send the job's newest state if it changed.
		prev := job
		if job = w.latest(); job == nil {
			job = prev
			continue
		}
		if !later(prev, job) { // an older read that the hub finished late
			job = prev
			continue
		}
		id := eventID(job)
		kind := store.EventProgress
		if job.Status != prev.Status {
			kind = store.EventStatus
		}
		if err := writeEvent(c, kind, id, job); err != nil || job.Status.Terminal() {
			return nil
		}
		sent = id
	}
}

// later reports whether next is a later state of a job than prev: chunks
// done and failed, and the status, only ever move forward.
func later(prev, next *store.Job) bool {
	rp, rn := statusRank(prev.Status), statusRank(next.Status)
	if rn < rp || next.Chunks.Done < prev.Chunks.Done || next.Chunks.Failed < prev.Chunks.Failed {
		return false
	}
	return rn > rp || next.Chunks.Done > prev.Chunks.Done || next.Chunks.Failed > prev.Chunks.Failed
}

func statusRank(s crunchtype.Status) int {
	switch {
	case s.Terminal():
		return 2
	case s == crunchtype.StatusRunning:
		return 1
	default:
		return 0
	}
}

// eventID names a state of a job: it changes whenever a chunk finishes or
// the status changes, and grows monotonically.
func eventID(j *store.Job) string {
	return fmt.Sprintf("%d-%d-%d", statusRank(j.Status), j.Chunks.Done, j.Chunks.Failed)
}

func writeEvent(c echo.Context, kind, id string, job *store.Job) error {
	extendWriteDeadline(c)
	data, err := json.Marshal(job)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(c.Response(), "id: %s\nevent: %s\ndata: %s\n\n", id, kind, data); err != nil {
		return err
	}
	c.Response().Flush()
	return nil
}

package api

import (
	"encoding/json"
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
// It subscribes to the job's channel before reading the job, so no change
// falls between the two. The first event is always the current state, as
// a status event: a client reconnecting with Last-Event-ID therefore never
// misses the terminal status. The stream ends after the terminal status.
func (s *Server) streamEvents(c echo.Context) error {
	ctx := c.Request().Context()
	job, err := s.loadJob(c)
	if err != nil {
		return err
	}
	sub := s.store.Redis().Subscribe(ctx, s.store.EventsChannel(job.ID))
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription is live
		return err
	}
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
	msgs := sub.Channel()
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
		case _, ok := <-msgs:
			if !ok {
				return nil
			}
		}
		// Whatever woke us, send the job if it changed.
		prev := job
		if job, err = s.store.Get(ctx, job.ID); err != nil {
			return nil // the client reconnects with Last-Event-ID
		}
		id := eventID(job)
		if id == sent {
			continue
		}
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

// eventID names a state of a job: it changes whenever a chunk finishes or
// the status changes, and grows monotonically.
func eventID(j *store.Job) string {
	rank := map[crunchtype.Status]int{crunchtype.StatusQueued: 0, crunchtype.StatusRunning: 1}[j.Status]
	if j.Status.Terminal() {
		rank = 2
	}
	return fmt.Sprintf("%d-%d-%d", rank, j.Chunks.Done, j.Chunks.Failed)
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

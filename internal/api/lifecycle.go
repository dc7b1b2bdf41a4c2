package api

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/lifecycle"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/internal/webhook"
	"github.com/crunchjobs/crunch/tasks"
)

// cancelJob is POST /v1/jobs/{id}/cancel. The job is canceled in Redis
// first (the truth), then every worker is told to stop its running chunks.
func (s *Server) cancelJob(c echo.Context) error {
	job, err := s.loadJob(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	canceled, err := s.jobs.Cancel(ctx, job.ID)
	if errors.Is(err, lifecycle.ErrNotActive) {
		return newProblem(http.StatusConflict, typeConflict, fmt.Sprintf("The job has already ended (%s).", job.Status))
	}
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "job canceled", slog.String("job", job.ID))
	return c.JSON(http.StatusAccepted, canceled)
}

type jobList struct {
	Jobs       []*store.Job `json:"jobs"`
	NextCursor *string      `json:"next_cursor"`
}

const (
	listLimitDefault = 50
	listLimitMax     = 1000
)

// listJobs is GET /v1/jobs.
func (s *Server) listJobs(c echo.Context) error {
	q := c.QueryParams()
	var f store.Filter
	var fieldErrs []tasks.FieldError
	for name := range q {
		switch name {
		case "status", "kernel", "limit", "cursor":
		default:
			fieldErrs = append(fieldErrs, tasks.FieldError{Field: name, Message: "unknown query parameter"})
		}
	}
	if st := q.Get("status"); st != "" {
		f.Status = crunchtype.Status(st)
		switch f.Status {
		case crunchtype.StatusQueued, crunchtype.StatusRunning, crunchtype.StatusSucceeded, crunchtype.StatusFailed, crunchtype.StatusCanceled:
		default:
			fieldErrs = append(fieldErrs, tasks.FieldError{Field: "status", Message: "must be one of queued, running, succeeded, failed, canceled"})
		}
	}
	if k := q.Get("kernel"); k != "" {
		f.Kernel = k
		if s.specs[k] == nil {
			fieldErrs = append(fieldErrs, tasks.FieldError{Field: "kernel", Message: "must be one of " + strings.Join(s.kernelNames(), ", ")})
		}
	}
	limit := listLimitDefault
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > listLimitMax {
			fieldErrs = append(fieldErrs, tasks.FieldError{Field: "limit", Message: fmt.Sprintf("must be an integer from 1 to %d", listLimitMax)})
		}
		limit = n
	}
	after := ""
	if cur := q.Get("cursor"); cur != "" {
		var ok bool
		if after, ok = decodeCursor(cur); !ok {
			fieldErrs = append(fieldErrs, tasks.FieldError{Field: "cursor", Message: "is not a cursor this API returned"})
		}
	}
	if len(fieldErrs) > 0 {
		return validationProblem(fieldErrs)
	}
	jobs, next, err := s.store.List(c.Request().Context(), tenantOf(c), f, after, limit)
	if err != nil {
		return err
	}
	out := jobList{Jobs: jobs}
	if out.Jobs == nil {
		out.Jobs = []*store.Job{}
	}
	if next != "" {
		cur := encodeCursor(next)
		out.NextCursor = &cur
	}
	return c.JSON(http.StatusOK, out)
}

// Cursors are opaque to clients: the base64 of a versioned position.
func encodeCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1:" + id))
}

func decodeCursor(cur string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(cur)
	if err != nil {
		return "", false
	}
	id, ok := strings.CutPrefix(string(b), "v1:")
	return id, ok && jobIDPattern.MatchString(id)
}

// getDeliveries is GET /v1/jobs/{id}/deliveries.
func (s *Server) getDeliveries(c echo.Context) error {
	job, err := s.loadJob(c)
	if err != nil {
		return err
	}
	ds, err := s.store.Deliveries(c.Request().Context(), job.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"deliveries": ds})
}

// getWebhookSecret is GET /v1/webhooks/secret: the caller's signing secret.
func (s *Server) getWebhookSecret(c echo.Context) error {
	if s.cfg.WebhookSecret == "" {
		return newProblem(http.StatusNotFound, typeNotFound, "Webhooks are not enabled on this server (CRUNCH_WEBHOOK_SECRET is unset).")
	}
	secret, err := webhook.Secret(s.cfg.WebhookSecret, tenantOf(c), len(s.cfg.APIKeys) > 0)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"secret": secret})
}

// Idempotency-Key handling.

const (
	idempotencyKeyMax = 255
	// idempotencyWait is how long a duplicate request waits for the first
	// request with its key to store the job.
	idempotencyWait = 10 * time.Second
)

// canonicalHash hashes a JSON body so that bodies equal as JSON (whatever
// their key order and spacing) hash the same.
func canonicalHash(body json.RawMessage) (string, error) {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v) // map keys are sorted
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

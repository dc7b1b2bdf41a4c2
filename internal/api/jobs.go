package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/oklog/ulid/v2"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/lifecycle"
	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/internal/webhook"
	"github.com/crunchjobs/crunch/tasks"
)

// Bounds of a create-job request, from the contract.
const (
	// createTimeout bounds storing and enqueueing one job, which goes on
	// even if the client disconnects.
	createTimeout     = 10 * time.Second
	timeoutDefault    = 3600
	timeoutMax        = 86400
	maxRetriesDefault = 3
	maxRetriesMax     = 10
	metadataMaxBytes  = 4096
)

// createJobRequest is a validated POST /v1/jobs body.
type createJobRequest struct {
	spec       tasks.Spec
	prepared   *tasks.Prepared
	chunks     int
	priority   string
	timeout    time.Duration
	maxRetries int
	webhook    *crunchtype.Webhook
	metadata   json.RawMessage
}

// readJSON reads the body (whatever its Content-Type) as exactly one JSON
// value: malformed JSON or trailing data is a 400, a body over the limit a 413.
func (s *Server) readJSON(c echo.Context) (json.RawMessage, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var maxBytes *http.MaxBytesError
		if errors.As(err, &maxBytes) {
			return nil, err
		}
		return nil, newProblem(http.StatusBadRequest, typeMalformed, "The request body could not be read.")
	}
	if json.Valid(body) { // exactly one value: the body itself, not a copy
		return bytes.TrimSpace(body), nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return nil, newProblem(http.StatusBadRequest, typeMalformed, "The body is not valid JSON: "+jsonErrorDetail(err))
	}
	return nil, newProblem(http.StatusBadRequest, typeMalformed, "The body has data after its JSON value.")
}

func jsonErrorDetail(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s (at byte %d).", syn.Error(), syn.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "the body is empty or truncated."
	}
	return err.Error()
}

// decodeCreateJob validates a create-job body, collecting every invalid
// field.
func (s *Server) decodeCreateJob(body json.RawMessage) (*createJobRequest, error) {
	p := tasks.NewParams(body)
	req := &createJobRequest{}

	kernel, ok := p.String("kernel")
	switch {
	case !ok && !p.Failed("kernel"):
		p.Fail("kernel", "is required")
	case ok:
		if req.spec = s.specs[kernel]; req.spec == nil {
			p.Fail("kernel", "must be one of %s", strings.Join(s.kernelNames(), ", "))
		}
	}
	chunks := p.Int("chunks", 0, 1, tasks.MaxChunks)
	req.priority = queue.PriorityNormal
	if prio, ok := p.String("priority"); ok {
		if !slices.Contains([]string{queue.PriorityHigh, queue.PriorityNormal, queue.PriorityLow}, prio) {
			p.Fail("priority", "must be one of high, normal, low")
		}
		req.priority = prio
	}
	req.timeout = time.Duration(p.Int("timeout_seconds", timeoutDefault, 1, timeoutMax)) * time.Second
	req.maxRetries = int(p.Int("max_retries", maxRetriesDefault, 0, maxRetriesMax))
	if raw, ok := p.Raw("metadata"); ok {
		if raw[0] != '{' {
			p.Fail("metadata", "must be an object")
		} else if len(raw) > metadataMaxBytes {
			p.Fail("metadata", "must be at most %d bytes as JSON", metadataMaxBytes)
		} else if md, err := reencode(raw); err == nil {
			req.metadata = md
		}
	}
	if raw, ok := p.Raw("webhook"); ok {
		req.webhook = s.decodeWebhook(p, raw)
	}
	params, _ := p.Raw("params")
	if params != nil && params[0] != '{' {
		p.Fail("params", "must be an object")
		params = nil
	}
	if req.spec != nil && !p.Failed("params") {
		prepared, err := req.spec.Prepare(params)
		var verr *tasks.ValidationError
		switch {
		case errors.As(err, &verr):
			for _, fe := range verr.Errors {
				p.Fail(joinField("params", fe.Field), "%s", fe.Message)
			}
		case err != nil:
			p.Fail("params", "%s", err.Error())
		default:
			req.prepared = prepared
		}
	}
	if err := p.Err(); err != nil {
		var verr *tasks.ValidationError
		errors.As(err, &verr)
		return nil, validationProblem(verr.Errors)
	}
	req.chunks = int(chunks)
	if req.chunks == 0 {
		req.chunks = req.prepared.DefaultChunks
	}
	return req, nil
}

// reencode decodes and re-encodes a JSON value: compact, and with any
// invalid UTF-8 in its strings replaced by U+FFFD, so that what is echoed
// back is valid JSON text whatever was sent.
func reencode(raw json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func joinField(prefix, field string) string {
	switch {
	case field == "":
		return prefix
	case strings.HasPrefix(field, "["):
		return prefix + field
	default:
		return prefix + "." + field
	}
}

func (s *Server) decodeWebhook(p *tasks.Params, raw json.RawMessage) *crunchtype.Webhook {
	if raw[0] != '{' {
		p.Fail("webhook", "must be an object with url and events")
		return nil
	}
	wp := tasks.NewParams(raw)
	hook := &crunchtype.Webhook{}
	url, ok := wp.String("url")
	if !ok && !wp.Failed("url") {
		wp.Fail("url", "is required")
	}
	if ok {
		if err := webhook.CheckURL(url, s.cfg.WebhookAllowPrivate); err != nil {
			wp.Fail("url", "%s", err.Error())
		}
		hook.URL = url
	}
	hook.Events = webhook.DefaultEvents
	if evRaw, ok := wp.Raw("events"); ok {
		var events []string
		if json.Unmarshal(evRaw, &events) != nil || len(events) == 0 {
			wp.Fail("events", "must be a non-empty array of event names")
		}
		for i, ev := range events {
			if !webhook.KnownEvent(ev) {
				wp.Fail(fmt.Sprintf("events[%d]", i), "must be one of %s", strings.Join(webhook.Events, ", "))
			}
		}
		hook.Events = nil
		for _, ev := range events { // as given, without repeats
			if !slices.Contains(hook.Events, ev) {
				hook.Events = append(hook.Events, ev)
			}
		}
	}
	if err := wp.Err(); err != nil {
		var verr *tasks.ValidationError
		errors.As(err, &verr)
		for _, fe := range verr.Errors {
			p.Fail(joinField("webhook", fe.Field), "%s", fe.Message)
		}
		return nil
	}
	if s.cfg.WebhookSecret == "" {
		p.Fail("webhook", "webhooks are not enabled on this server (CRUNCH_WEBHOOK_SECRET is unset)")
		return nil
	}
	return hook
}

func (s *Server) kernelNames() []string {
	names := make([]string, 0, len(s.specs))
	for name := range s.specs {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// createJob is POST /v1/jobs.
func (s *Server) createJob(c echo.Context) error {
	ctx := c.Request().Context()
	idemKey := c.Request().Header.Get("Idempotency-Key")
	if len(idemKey) > idempotencyKeyMax {
		return validationProblem([]tasks.FieldError{{Field: "Idempotency-Key", Message: fmt.Sprintf("must be at most %d characters", idempotencyKeyMax)}})
	}
	if err := s.checkRate(c); err != nil {
		return err
	}
	body, err := s.readJSON(c)
	if err != nil {
		return err
	}
	req, err := s.decodeCreateJob(body)
	if err != nil {
		return err
	}
	now := s.cfg.Now().UTC()
	job := &store.Job{
		Job: crunchtype.Job{
			ID:        "job_" + ulid.Make().String(),
			Kernel:    req.spec.Name(),
			Status:    crunchtype.StatusQueued,
			Params:    req.prepared.Params,
			Chunks:    crunchtype.ChunkCounts{Total: req.chunks},
			Priority:  req.priority,
			Metadata:  req.metadata,
			Webhook:   req.webhook,
			CreatedAt: now,
		},
		Tenant:     tenantOf(c),
		Deadline:   now.Add(req.timeout),
		MaxRetries: req.maxRetries,
		Extent:     req.prepared.Extent,
	}
	if job.Metadata == nil {
		job.Metadata = json.RawMessage("{}")
	}
	var release func()
	if idemKey != "" {
		var existing *store.Job
		existing, release, err = s.claimIdempotencyKey(c, idemKey, body, job.ID)
		if err != nil {
			return err
		}
		if existing != nil {
			return c.JSON(http.StatusOK, existing)
		}
		defer func() {
			if release != nil {
				release()
			}
		}()
	}
	// From here on the job is being created: a client that goes away must
	// not leave it half made (stored but not indexed, or not enqueued).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
	defer cancel()
	if err := s.jobs.Submit(ctx, job, req.prepared.Input, s.cfg.TenantMaxActiveJobs); err != nil {
		if errors.Is(err, lifecycle.ErrTenantBusy) {
			c.Response().Header().Set("Retry-After", "5")
			return newProblem(http.StatusTooManyRequests, typeTooManyRequests,
				fmt.Sprintf("This tenant already has %d unfinished jobs, the most it may have; retry when one has finished.", s.cfg.TenantMaxActiveJobs))
		}
		return err
	}
	release = nil // the job exists: the key now names it
	if err := s.store.WaitReplicas(ctx, s.cfg.RedisWaitReplicas, s.cfg.RedisWaitTimeout); err != nil {
		return err // 503: the job may not survive the master's loss; a retry with its Idempotency-Key finds it
	}
	s.metrics.jobsSubmitted.WithLabelValues(job.Kernel).Inc()
	s.log.InfoContext(ctx, "job created", slog.String("job", job.ID), slog.String("kernel", job.Kernel),
		slog.Int("chunks", job.Chunks.Total), slog.String("tenant", job.Tenant))
	c.Response().Header().Set(echo.HeaderLocation, "/v1/jobs/"+job.ID)
	return c.JSON(http.StatusAccepted, job)
}

// checkRate takes one of the tenant's submission tokens, or answers 429
// with Retry-After.
func (s *Server) checkRate(c echo.Context) error {
	if s.limiter == nil {
		return nil
	}
	ok, wait, err := s.limiter.Allow(c.Request().Context(), tenantOf(c))
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	return newProblem(http.StatusTooManyRequests, typeTooManyRequests,
		fmt.Sprintf("This tenant may submit %g jobs per second; retry after the Retry-After delay.", s.cfg.TenantRate))
}

// claimIdempotencyKey makes the request the one that creates the job for
// its Idempotency-Key, or returns the job an earlier request with the same
// key and body created. Two concurrent requests with one key create one
// job: the second waits for the first to store it. release undoes the
// claim if the job then fails to be created.
func (s *Server) claimIdempotencyKey(c echo.Context, key string, body json.RawMessage, jobID string) (existing *store.Job, release func(), err error) {
	ctx := c.Request().Context()
	hash, err := canonicalHash(body)
	if err != nil {
		return nil, nil, newProblem(http.StatusBadRequest, typeMalformed, "The body is not valid JSON.")
	}
	tenant, keyHash := tenantOf(c), hashKey(key)
	mine := store.Idempotency{JobID: jobID, BodyHash: hash}
	deadline := time.Now().Add(idempotencyWait)
	for {
		held, err := s.store.ClaimIdempotency(ctx, tenant, keyHash, mine)
		if err != nil {
			return nil, nil, err
		}
		if held == mine {
			return nil, func() {
				if err := s.store.ReleaseIdempotency(context.WithoutCancel(ctx), tenant, keyHash, mine); err != nil {
					s.log.WarnContext(ctx, "release idempotency key", slog.Any("err", err))
				}
			}, nil
		}
		if held.BodyHash != hash {
			return nil, nil, newProblem(http.StatusConflict, typeConflict, "This Idempotency-Key was already used with a different request body.")
		}
		job, err := s.store.Get(ctx, held.JobID)
		switch {
		case err == nil && job.Tenant == tenant:
			return job, nil, nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, nil, err
		case time.Now().After(deadline):
			return nil, nil, newProblem(http.StatusConflict, typeConflict, "A request with this Idempotency-Key is still being processed; retry shortly.")
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

var jobIDPattern = regexp.MustCompile(`^job_[0-9A-HJKMNP-TV-Z]{26}$`)

// loadJob returns the job named in the path if the caller's tenant owns
// it. Another tenant's job is reported as not found, never as forbidden.
func (s *Server) loadJob(c echo.Context) (*store.Job, error) {
	id := c.Param("id")
	if !jobIDPattern.MatchString(id) {
		return nil, errJobNotFound
	}
	job, err := s.store.Get(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if job.Tenant != tenantOf(c) {
		return nil, errJobNotFound
	}
	return job, nil
}

// getJob is GET /v1/jobs/{id}.
func (s *Server) getJob(c echo.Context) error {
	job, err := s.loadJob(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, job)
}

// getChunks is GET /v1/jobs/{id}/chunks.
func (s *Server) getChunks(c echo.Context) error {
	job, err := s.loadJob(c)
	if err != nil {
		return err
	}
	chunks, err := s.store.Chunks(c.Request().Context(), job)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"chunks": chunks})
}

// getArtifact is GET /v1/jobs/{id}/artifact.
func (s *Server) getArtifact(c echo.Context) error {
	job, err := s.loadJob(c)
	if err != nil {
		return err
	}
	spec := s.specs[job.Kernel]
	if spec == nil || spec.ArtifactType() == "" {
		return newProblem(http.StatusNotFound, typeNotFound, fmt.Sprintf("Kernel %s produces no artifact.", job.Kernel))
	}
	if job.Status != crunchtype.StatusSucceeded {
		return newProblem(http.StatusConflict, typeConflict, fmt.Sprintf("The job is %s; its artifact exists once it has succeeded.", job.Status))
	}
	b, err := s.store.Artifact(c.Request().Context(), job.ID)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s%s"`, job.ID, extensionFor(spec.ArtifactType())))
	return c.Blob(http.StatusOK, spec.ArtifactType(), b)
}

func extensionFor(mime string) string {
	if mime == "image/png" {
		return ".png"
	}
	return ""
}

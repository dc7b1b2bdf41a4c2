package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls one crunch API. Its methods are safe for concurrent use.
type Client struct {
	baseURL string
	apiKey  string
	http    *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey sends key as the Bearer token of every call (the server's
// CRUNCH_API_KEYS). Without it no Authorization header is sent.
func WithAPIKey(key string) Option { return func(c *Client) { c.apiKey = key } }

// WithHTTPClient makes the Client use h. The default is a client without
// an overall timeout, since Wait holds an event stream open; bound calls
// with their context instead.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// New returns a Client of the API at baseURL, such as
// "http://localhost:8080".
func New(baseURL string, opts ...Option) *Client {
	c := &Client{baseURL: strings.TrimRight(baseURL, "/"), http: &http.Client{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Submit creates a job. An IdempotencyKey already used with the same body
// returns the first job as it is now.
func (c *Client) Submit(ctx context.Context, req JobRequest) (*Job, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode job request: %w", err)
	}
	var header http.Header
	if req.IdempotencyKey != "" {
		header = http.Header{"Idempotency-Key": {req.IdempotencyKey}}
	}
	var job Job
	if err := c.call(ctx, http.MethodPost, "/v1/jobs", header, body, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// Get returns a job.
func (c *Client) Get(ctx context.Context, id string) (*Job, error) {
	var job Job
	if err := c.call(ctx, http.MethodGet, jobPath(id, ""), nil, nil, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// Cancel cancels a queued or running job and returns it, canceled.
func (c *Client) Cancel(ctx context.Context, id string) (*Job, error) {
	var job Job
	if err := c.call(ctx, http.MethodPost, jobPath(id, "/cancel"), nil, nil, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// Chunks returns the chunks of a job, by index.
func (c *Client) Chunks(ctx context.Context, id string) ([]Chunk, error) {
	var out struct {
		Chunks []Chunk `json:"chunks"`
	}
	if err := c.call(ctx, http.MethodGet, jobPath(id, "/chunks"), nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Chunks, nil
}

// List returns one page of the caller's jobs, newest first.
func (c *Client) List(ctx context.Context, opts ListOptions) (*JobPage, error) {
	q := url.Values{}
	if opts.Status != "" {
		q.Set("status", string(opts.Status))
	}
	if opts.Kernel != "" {
		q.Set("kernel", opts.Kernel)
	}
	if opts.Limit != 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Cursor != "" {
		q.Set("cursor", opts.Cursor)
	}
	path := "/v1/jobs"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var page JobPage
	if err := c.call(ctx, http.MethodGet, path, nil, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// Artifact returns the file a succeeded job produced (mandelbrot: a PNG)
// and its media type.
func (c *Client) Artifact(ctx context.Context, id string) ([]byte, string, error) {
	resp, err := c.do(ctx, http.MethodGet, jobPath(id, "/artifact"), nil, nil)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("read artifact: %w", err)
	}
	return b, resp.Header.Get("Content-Type"), nil
}

// Kernels returns the kernels the server runs, with their params' JSON
// Schema.
func (c *Client) Kernels(ctx context.Context) ([]Kernel, error) {
	var out struct {
		Kernels []Kernel `json:"kernels"`
	}
	if err := c.call(ctx, http.MethodGet, "/v1/kernels", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Kernels, nil
}

// WebhookSecret returns the caller's webhook signing secret ("whsec_…"):
// the key a receiver verifies crunch's signed deliveries with. With API
// keys on the server, each tenant has its own.
func (c *Client) WebhookSecret(ctx context.Context) (string, error) {
	var out struct {
		Secret string `json:"secret"`
	}
	if err := c.call(ctx, http.MethodGet, "/v1/webhooks/secret", nil, nil, &out); err != nil {
		return "", err
	}
	return out.Secret, nil
}

// Wait follows a job until it ends and returns it in its final state. It
// reads the job's Server-Sent Events, calling onUpdate (when not nil) with
// every state the server sends, the current one first; when the stream
// breaks before the end it reconnects with Last-Event-ID. Bound it with
// ctx.
func (c *Client) Wait(ctx context.Context, id string, onUpdate func(*Job)) (*Job, error) {
	lastID := ""
	for {
		job, seen, err := c.follow(ctx, id, lastID, onUpdate)
		if job != nil && job.Status.Terminal() {
			return job, nil
		}
		var p *Problem
		if errors.As(err, &p) && p.Status < 500 || ctx.Err() != nil {
			return nil, errors.Join(err, ctx.Err())
		}
		lastID = seen
		select { // the stream broke or Redis was away: reconnect
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// follow reads one connection of a job's event stream until it ends. It
// returns the last job it read and the id of its event.
func (c *Client) follow(ctx context.Context, id, lastID string, onUpdate func(*Job)) (*Job, string, error) {
	header := http.Header{"Accept": {"text/event-stream"}}
	if lastID != "" {
		header.Set("Last-Event-ID", lastID)
	}
	resp, err := c.do(ctx, http.MethodGet, jobPath(id, "/events"), header, nil)
	if err != nil {
		return nil, lastID, err
	}
	defer resp.Body.Close()
	var (
		job  *Job
		data []byte
		evID = lastID
	)
	// The event-stream format (HTML Living Standard §9.2.6), as far as
	// crunch uses it: "id:" and "data:" fields, ":" comments as heartbeats,
	// a blank line ending each event.
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch {
		case line == "":
			if len(data) == 0 {
				continue
			}
			var j Job
			if err := json.Unmarshal(data, &j); err != nil {
				return job, evID, fmt.Errorf("decode event of job %s: %w", id, err)
			}
			job, data = &j, nil
			if onUpdate != nil {
				onUpdate(job)
			}
			if job.Status.Terminal() {
				return job, evID, nil
			}
		case field == "id":
			evID = value
		case field == "data":
			if len(data) > 0 {
				data = append(data, '\n')
			}
			data = append(data, value...)
		}
	}
	if err := sc.Err(); err != nil {
		return job, evID, fmt.Errorf("read events of job %s: %w", id, err)
	}
	return job, evID, io.ErrUnexpectedEOF
}

func jobPath(id, suffix string) string { return "/v1/jobs/" + url.PathEscape(id) + suffix }

// call makes a request with a JSON body (or none) and decodes a JSON answer
// into out.
func (c *Client) call(ctx context.Context, method, path string, header http.Header, body []byte, out any) error {
	resp, err := c.do(ctx, method, path, header, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// do sends a request and returns a 2xx response; any other status is
// returned as a *Problem.
func (c *Client) do(ctx context.Context, method, path string, header http.Header, body []byte) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, r)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	p := &Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = json.Unmarshal(b, p) // a proxy's answer may not be problem+json
	p.Status = resp.StatusCode
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		p.RetryAfter = time.Duration(s) * time.Second
	}
	return nil, p
}

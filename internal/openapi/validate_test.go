package openapi_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/openapi"
)

const jobID = "job_01JD8X3QZK4V2M7N9P5R6T8W0Y"

// job returns a valid running primes Job, changed by edit.
func job(edit func(j map[string]any)) map[string]any {
	j := map[string]any{
		"id":          jobID,
		"kernel":      "primes",
		"status":      "running",
		"params":      map[string]any{"from": 0, "to": 1000000000},
		"chunks":      map[string]any{"total": 32, "done": 5, "failed": 0},
		"progress":    0.15625,
		"result":      nil,
		"error":       nil,
		"priority":    "normal",
		"metadata":    map[string]any{"customer": "42"},
		"webhook":     map[string]any{"url": "https://example.com/hooks/crunch", "events": []string{"job.succeeded", "job.failed"}},
		"created_at":  "2026-11-23T06:30:00.123Z",
		"started_at":  "2026-11-23T06:30:00.150Z",
		"finished_at": nil,
	}
	if edit != nil {
		edit(j)
	}
	return j
}

func succeeded(j map[string]any) {
	j["status"] = "succeeded"
	j["chunks"] = map[string]any{"total": 32, "done": 32, "failed": 0}
	j["progress"] = 1
	j["result"] = map[string]any{"count": 50847534, "sum": "24739512092254535", "first": 2, "last": 999999937}
	j["finished_at"] = "2026-11-23T06:30:41.862Z"
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

var (
	jsonHeader    = header("Content-Type", "application/json")
	problemHeader = header("Content-Type", "application/problem+json")
)

func problem(status int, extra map[string]any) map[string]any {
	p := map[string]any{"type": "not_found", "title": http.StatusText(status), "status": status, "detail": "something"}
	maps.Copy(p, extra)
	return p
}

// sse renders events as a text/event-stream body.
func sse(t *testing.T, events ...any) []byte {
	t.Helper()
	var b strings.Builder
	for _, e := range events {
		switch e := e.(type) {
		case string: // raw lines
			b.WriteString(e)
		case [2]any: // event name, data
			b.WriteString("event: " + e[0].(string) + "\n")
			b.WriteString("data: " + string(mustJSON(t, e[1])) + "\n\n")
		}
	}
	return []byte(b.String())
}

func TestValidateResponse(t *testing.T) {
	t.Parallel()

	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	tests := []struct {
		name         string
		method, path string
		status       int
		header       http.Header
		body         func(t *testing.T) []byte
		wantErr      string // "" for valid
	}{
		// Jobs.
		{
			name: "running job", method: "GET", path: "/v1/jobs/" + jobID, status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte { return mustJSON(t, job(nil)) },
		},
		{
			name: "succeeded job", method: "GET", path: "/v1/jobs/" + jobID, status: 200,
			header: header("Content-Type", "application/json; charset=utf-8"),
			body:   func(t *testing.T) []byte { return mustJSON(t, job(succeeded)) },
		},
		{
			name: "failed job", method: "GET", path: "/v1/jobs/" + jobID, status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, job(func(j map[string]any) {
					j["status"] = "failed"
					j["error"] = map[string]any{"type": "timeout", "title": "Job timed out"}
					j["finished_at"] = "2026-11-23T06:40:00Z"
				}))
			},
		},
		{
			name: "job missing status", method: "GET", path: "/v1/jobs/" + jobID, status: 200, header: jsonHeader,
			body:    func(t *testing.T) []byte { return mustJSON(t, job(func(j map[string]any) { delete(j, "status") })) },
			wantErr: "status",
		},
		{
			name: "job with bogus status", method: "GET", path: "/v1/jobs/" + jobID, status: 200, header: jsonHeader,
			body:    func(t *testing.T) []byte { return mustJSON(t, job(func(j map[string]any) { j["status"] = "bogus" })) },
			wantErr: "bogus",
		},
		{
			name: "job with an unknown field", method: "GET", path: "/v1/jobs/" + jobID, status: 200, header: jsonHeader,
			body:    func(t *testing.T) []byte { return mustJSON(t, job(func(j map[string]any) { j["finishedAt"] = nil })) },
			wantErr: "finishedAt",
		},
		{
			name: "job time not in UTC", method: "GET", path: "/v1/jobs/" + jobID, status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, job(func(j map[string]any) { j["created_at"] = "2026-11-23T08:30:00+02:00" }))
			},
			wantErr: "created_at",
		},
		{
			name: "job time not RFC 3339", method: "GET", path: "/v1/jobs/" + jobID, status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, job(func(j map[string]any) { j["started_at"] = "yesterday Z" }))
			},
			wantErr: "started_at",
		},
		{
			name: "succeeded job without result", method: "GET", path: "/v1/jobs/" + jobID, status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, job(func(j map[string]any) { succeeded(j); j["result"] = nil }))
			},
			wantErr: "result",
		},
		{
			name: "primes job with a pi result", method: "GET", path: "/v1/jobs/" + jobID, status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, job(func(j map[string]any) {
					succeeded(j)
					j["result"] = map[string]any{"samples": 10, "inside": 8, "estimate": 3.2, "stderr": 0.5}
				}))
			},
			wantErr: "result",
		},
		{
			name: "primes result with a numeric sum", method: "GET", path: "/v1/jobs/" + jobID, status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, job(func(j map[string]any) {
					succeeded(j)
					j["result"].(map[string]any)["sum"] = 17
				}))
			},
			wantErr: "sum",
		},
		{
			name: "failed job without error", method: "GET", path: "/v1/jobs/" + jobID, status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, job(func(j map[string]any) {
					j["status"] = "failed"
					j["finished_at"] = "2026-11-23T06:40:00Z"
				}))
			},
			wantErr: "error",
		},
		{
			name: "job as problem+json", method: "GET", path: "/v1/jobs/" + jobID, status: 200, header: problemHeader,
			body:    func(t *testing.T) []byte { return mustJSON(t, job(nil)) },
			wantErr: "Content-Type",
		},
		{
			name: "undocumented status", method: "GET", path: "/v1/jobs/" + jobID, status: 500, header: problemHeader,
			body:    func(t *testing.T) []byte { return mustJSON(t, problem(500, nil)) },
			wantErr: "status is not supported",
		},
		{
			name: "created with Location", method: "POST", path: "/v1/jobs", status: 202,
			header: header("Content-Type", "application/json", "Location", "/v1/jobs/"+jobID),
			body: func(t *testing.T) []byte {
				return mustJSON(t, job(func(j map[string]any) { j["status"] = "queued"; j["started_at"] = nil }))
			},
		},
		{
			name: "created without Location", method: "POST", path: "/v1/jobs", status: 202, header: jsonHeader,
			body:    func(t *testing.T) []byte { return mustJSON(t, job(nil)) },
			wantErr: "Location",
		},
		{
			name: "idempotent replay", method: "POST", path: "/v1/jobs", status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte { return mustJSON(t, job(nil)) },
		},
		{
			name: "canceled", method: "POST", path: "/v1/jobs/" + jobID + "/cancel", status: 202, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, job(func(j map[string]any) {
					j["status"] = "canceled"
					j["error"] = map[string]any{"type": "canceled", "title": "Job canceled"}
					j["finished_at"] = "2026-11-23T06:31:00Z"
				}))
			},
		},
		{
			name: "job list", method: "GET", path: "/v1/jobs?status=running&limit=2", status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, map[string]any{"jobs": []any{job(nil), job(succeeded)}, "next_cursor": "abc"})
			},
		},
		{
			name: "last page", method: "GET", path: "/v1/jobs", status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte { return mustJSON(t, map[string]any{"jobs": []any{}, "next_cursor": nil}) },
		},
		{
			name: "job list without next_cursor", method: "GET", path: "/v1/jobs", status: 200, header: jsonHeader,
			body:    func(t *testing.T) []byte { return mustJSON(t, map[string]any{"jobs": []any{}}) },
			wantErr: "next_cursor",
		},

		// Problems.
		{
			name: "not found", method: "GET", path: "/v1/jobs/job_nope", status: 404, header: problemHeader,
			body: func(t *testing.T) []byte { return mustJSON(t, problem(404, nil)) },
		},
		{
			name: "not found as application/json", method: "GET", path: "/v1/jobs/job_nope", status: 404, header: jsonHeader,
			body:    func(t *testing.T) []byte { return mustJSON(t, problem(404, nil)) },
			wantErr: "Content-Type",
		},
		{
			name: "problem without title", method: "GET", path: "/v1/jobs/job_nope", status: 404, header: problemHeader,
			body: func(t *testing.T) []byte {
				p := problem(404, nil)
				delete(p, "title")
				return mustJSON(t, p)
			},
			wantErr: "title",
		},
		{
			name: "validation problem", method: "POST", path: "/v1/jobs", status: 422, header: problemHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, problem(422, map[string]any{
					"type":   "validation_error",
					"errors": []any{map[string]any{"field": "params.to", "message": "must be greater than from (0)"}},
				}))
			},
		},
		{
			name: "validation problem without errors", method: "POST", path: "/v1/jobs", status: 422, header: problemHeader,
			body:    func(t *testing.T) []byte { return mustJSON(t, problem(422, nil)) },
			wantErr: "errors",
		},
		{
			name: "bad query", method: "GET", path: "/v1/jobs?limit=0", status: 422, header: problemHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, problem(422, map[string]any{"errors": []any{map[string]any{"field": "limit", "message": "must be between 1 and 1000"}}}))
			},
		},
		{
			name: "unauthorized", method: "GET", path: "/v1/kernels", status: 401,
			header: header("Content-Type", "application/problem+json", "WWW-Authenticate", "Bearer"),
			body:   func(t *testing.T) []byte { return mustJSON(t, problem(401, nil)) },
		},
		{
			name: "redis down", method: "GET", path: "/v1/jobs/" + jobID + "/chunks", status: 503,
			header: header("Content-Type", "application/problem+json", "Retry-After", "1"),
			body:   func(t *testing.T) []byte { return mustJSON(t, problem(503, nil)) },
		},
		{
			name: "redis down without Retry-After", method: "GET", path: "/v1/jobs/" + jobID + "/chunks", status: 503,
			header: problemHeader, body: func(t *testing.T) []byte { return mustJSON(t, problem(503, nil)) },
			wantErr: "Retry-After",
		},
		{
			name: "too large", method: "POST", path: "/v1/jobs", status: 413, header: problemHeader,
			body: func(t *testing.T) []byte { return mustJSON(t, problem(413, nil)) },
		},
		{
			name: "cancel a finished job", method: "POST", path: "/v1/jobs/" + jobID + "/cancel", status: 409, header: problemHeader,
			body: func(t *testing.T) []byte { return mustJSON(t, problem(409, nil)) },
		},
		{
			name: "cancel: 400 is not documented", method: "POST", path: "/v1/jobs/" + jobID + "/cancel", status: 400, header: problemHeader,
			body:    func(t *testing.T) []byte { return mustJSON(t, problem(400, nil)) },
			wantErr: "status is not supported",
		},

		// Sub-resources.
		{
			name: "chunks", method: "GET", path: "/v1/jobs/" + jobID + "/chunks", status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, map[string]any{"chunks": []any{
					map[string]any{"index": 0, "status": "succeeded", "worker": "host:42", "attempts": 1, "started_at": "2026-11-23T06:30:00.150Z", "finished_at": "2026-11-23T06:30:00.200Z", "duration_ms": 12.5},
					map[string]any{"index": 1, "status": "queued", "worker": nil, "attempts": 0, "started_at": nil, "finished_at": nil, "duration_ms": nil},
				}})
			},
		},
		{
			name: "chunk missing attempts", method: "GET", path: "/v1/jobs/" + jobID + "/chunks", status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, map[string]any{"chunks": []any{
					map[string]any{"index": 0, "status": "queued", "worker": nil, "started_at": nil, "finished_at": nil, "duration_ms": nil},
				}})
			},
			wantErr: "attempts",
		},
		{
			name: "chunk time not RFC 3339", method: "GET", path: "/v1/jobs/" + jobID + "/chunks", status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, map[string]any{"chunks": []any{
					map[string]any{"index": 0, "status": "running", "worker": "host:42", "attempts": 1, "started_at": "noon Z", "finished_at": nil, "duration_ms": nil},
				}})
			},
			wantErr: "started_at",
		},
		{
			name: "chunk time not UTC", method: "GET", path: "/v1/jobs/" + jobID + "/chunks", status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, map[string]any{"chunks": []any{
					map[string]any{"index": 0, "status": "running", "worker": "host:42", "attempts": 1, "started_at": "2026-11-23T08:30:00+02:00", "finished_at": nil, "duration_ms": nil},
				}})
			},
			wantErr: "started_at",
		},
		{
			name: "deliveries", method: "GET", path: "/v1/jobs/" + jobID + "/deliveries", status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, map[string]any{"deliveries": []any{
					map[string]any{"event": "job.succeeded", "webhook_id": "msg_2b8c", "attempt": 1, "at": "2026-11-23T06:30:41.870Z", "status_code": 503, "error": nil, "duration_ms": 41.2, "given_up": false},
					map[string]any{"event": "job.succeeded", "webhook_id": "msg_2b8c", "attempt": 2, "at": "2026-11-23T06:30:46.870Z", "status_code": nil, "error": "timeout", "duration_ms": 15000, "given_up": false},
				}})
			},
		},
		{
			name: "delivery of an unknown event", method: "GET", path: "/v1/jobs/" + jobID + "/deliveries", status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, map[string]any{"deliveries": []any{
					map[string]any{"event": "job.exploded", "webhook_id": "msg_2b8c", "attempt": 1, "at": "2026-11-23T06:30:41.870Z", "status_code": 200, "error": nil, "duration_ms": 41.2, "given_up": false},
				}})
			},
			wantErr: "job.exploded",
		},
		{
			name: "kernels", method: "GET", path: "/v1/kernels", status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, map[string]any{"kernels": []any{map[string]any{
					"name": "primes", "description": "Counts primes.",
					"params_schema": map[string]any{"type": "object", "additionalProperties": false}, "artifact_type": nil,
				}}})
			},
		},
		{
			name: "secret", method: "GET", path: "/v1/webhooks/secret", status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, map[string]any{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
			},
		},
		{
			name: "secret without prefix", method: "GET", path: "/v1/webhooks/secret", status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte {
				return mustJSON(t, map[string]any{"secret": "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
			},
			wantErr: "secret",
		},

		// Events.
		{
			name: "event stream", method: "GET", path: "/v1/jobs/" + jobID + "/events", status: 200,
			header: header("Content-Type", "text/event-stream"),
			body: func(t *testing.T) []byte {
				return sse(t,
					[2]any{"status", job(nil)},
					": heartbeat\n\n",
					[2]any{"progress", job(nil)},
					"id: 7\r\nretry: 3000\r\nevent: status\r\ndata: "+string(mustJSON(t, job(succeeded)))+"\r\n\r\n",
				)
			},
		},
		{
			name: "event stream with a bad event name", method: "GET", path: "/v1/jobs/" + jobID + "/events", status: 200,
			header:  header("Content-Type", "text/event-stream"),
			body:    func(t *testing.T) []byte { return sse(t, [2]any{"update", job(nil)}) },
			wantErr: "update",
		},
		{
			name: "event stream without event names", method: "GET", path: "/v1/jobs/" + jobID + "/events", status: 200,
			header:  header("Content-Type", "text/event-stream"),
			body:    func(t *testing.T) []byte { return []byte("data: " + string(mustJSON(t, job(nil))) + "\n\n") },
			wantErr: "message",
		},
		{
			name: "event stream with an invalid job", method: "GET", path: "/v1/jobs/" + jobID + "/events", status: 200,
			header: header("Content-Type", "text/event-stream"),
			body: func(t *testing.T) []byte {
				return sse(t, [2]any{"progress", job(func(j map[string]any) { delete(j, "status") })})
			},
			wantErr: "status",
		},
		{
			name: "event after the final status", method: "GET", path: "/v1/jobs/" + jobID + "/events", status: 200,
			header: header("Content-Type", "text/event-stream"),
			body: func(t *testing.T) []byte {
				return sse(t, [2]any{"status", job(succeeded)}, [2]any{"progress", job(succeeded)})
			},
			wantErr: "follows the final status",
		},
		{
			name: "truncated event stream", method: "GET", path: "/v1/jobs/" + jobID + "/events", status: 200,
			header:  header("Content-Type", "text/event-stream"),
			body:    func(t *testing.T) []byte { return []byte("event: status\ndata: {") },
			wantErr: "ends inside an event",
		},

		// Artifact.
		{
			name: "png artifact", method: "GET", path: "/v1/jobs/" + jobID + "/artifact", status: 200,
			header: header("Content-Type", "image/png"), body: func(*testing.T) []byte { return png },
		},
		{
			name: "png artifact that is not a PNG", method: "GET", path: "/v1/jobs/" + jobID + "/artifact", status: 200,
			header: header("Content-Type", "image/png"), body: func(*testing.T) []byte { return []byte("GIF89a") },
			wantErr: "PNG signature",
		},
		{
			name: "artifact of an undocumented type", method: "GET", path: "/v1/jobs/" + jobID + "/artifact", status: 200,
			header: header("Content-Type", "image/gif"), body: func(*testing.T) []byte { return []byte("GIF89a") },
			wantErr: "Content-Type",
		},
		{
			name: "artifact before success", method: "GET", path: "/v1/jobs/" + jobID + "/artifact", status: 409,
			header: problemHeader, body: func(t *testing.T) []byte { return mustJSON(t, problem(409, nil)) },
		},

		// Operations.
		{
			name: "healthz", method: "GET", path: "/healthz", status: 200, header: jsonHeader,
			body: func(t *testing.T) []byte { return []byte(`{"status":"ok"}`) },
		},
		{
			name: "not ready", method: "GET", path: "/readyz", status: 503, header: problemHeader,
			body: func(t *testing.T) []byte { return mustJSON(t, problem(503, nil)) },
		},
		{
			name: "metrics", method: "GET", path: "/metrics", status: 200,
			header: header("Content-Type", "text/plain; version=0.0.4; charset=utf-8"),
			body:   func(*testing.T) []byte { return []byte("# HELP up Up.\n# TYPE up gauge\nup 1\n") },
		},
		{
			name: "openapi.json", method: "GET", path: "/openapi.json", status: 200, header: jsonHeader,
			body: func(*testing.T) []byte { return openapi.JSON() },
		},
		{
			name: "unknown path", method: "GET", path: "/v2/jobs", status: 200, header: jsonHeader,
			body:    func(*testing.T) []byte { return []byte(`{}`) },
			wantErr: "no matching operation",
		},
		{
			name: "unknown method", method: "DELETE", path: "/v1/jobs/" + jobID, status: 200, header: jsonHeader,
			body:    func(*testing.T) []byte { return []byte(`{}`) },
			wantErr: "no matching operation",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequestWithContext(t.Context(), tt.method, tt.path, nil)
			err := openapi.ValidateResponse(req, tt.status, tt.header, tt.body(t))
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.wantErr)
			t.Log(err)
		})
	}
}

func TestValidateWebhook(t *testing.T) {
	t.Parallel()

	signed := header(
		"Content-Type", "application/json",
		"webhook-id", "msg_2b8cQz",
		"webhook-timestamp", "1795415441",
		"webhook-signature", "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
	)
	event := func(typ string, j map[string]any) map[string]any {
		return map[string]any{"type": typ, "timestamp": "2026-11-23T06:30:41.870Z", "data": j}
	}
	tests := []struct {
		name    string
		header  http.Header
		body    any
		wantErr string
	}{
		{name: "succeeded", header: signed, body: event("job.succeeded", job(succeeded))},
		{name: "started", header: signed, body: event("job.started", job(nil))},
		{
			name: "failed", header: signed,
			body: event("job.failed", job(func(j map[string]any) {
				j["status"] = "failed"
				j["error"] = map[string]any{"type": "kernel_error", "title": "Kernel failed"}
				j["finished_at"] = "2026-11-23T06:40:00Z"
			})),
		},
		{name: "type and status disagree", header: signed, body: event("job.succeeded", job(nil)), wantErr: "succeeded"},
		{name: "unknown event", header: signed, body: event("job.exploded", job(nil)), wantErr: "unknown webhook event"},
		{
			name: "no signature", body: event("job.succeeded", job(succeeded)), wantErr: "webhook-signature",
			header: header("Content-Type", "application/json", "webhook-id", "msg_2b8cQz", "webhook-timestamp", "1795415441"),
		},
		{
			name: "malformed signature", body: event("job.succeeded", job(succeeded)), wantErr: "webhook-signature",
			header: header("Content-Type", "application/json", "webhook-id", "msg_2b8cQz", "webhook-timestamp", "1795415441", "webhook-signature", "sha256=abc"),
		},
		{
			name: "timestamp not in seconds", body: event("job.succeeded", job(succeeded)), wantErr: "webhook-timestamp",
			header: header("Content-Type", "application/json", "webhook-id", "msg_2b8cQz", "webhook-timestamp", "2026-11-23T06:30:41Z", "webhook-signature", "v1,abc="),
		},
		{
			name: "no Content-Type", body: event("job.succeeded", job(succeeded)), wantErr: "Content-Type",
			header: header("webhook-id", "msg_2b8cQz", "webhook-timestamp", "1795415441", "webhook-signature", "v1,abc="),
		},
		{name: "no timestamp in body", header: signed, body: map[string]any{"type": "job.started", "data": job(nil)}, wantErr: "timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := openapi.ValidateWebhook(tt.header, mustJSON(t, tt.body))
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.wantErr)
			t.Log(err)
		})
	}
}

func BenchmarkValidateResponse(b *testing.B) {
	req := httptest.NewRequestWithContext(b.Context(), "GET", "/v1/jobs/"+jobID, nil)
	body, err := json.Marshal(job(succeeded))
	require.NoError(b, err)
	require.NoError(b, openapi.ValidateResponse(req, 200, jsonHeader, body))
	b.ResetTimer()
	for b.Loop() {
		if err := openapi.ValidateResponse(req, 200, jsonHeader, body); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDocumentedEventStream runs the document's own event-stream example,
// which has no schema for kin-openapi to check it against, through
// ValidateResponse.
func TestDocumentedEventStream(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)

	media := doc.Paths.Value("/v1/jobs/{id}/events").Get.Responses.Status(200).Value.Content.Get("text/event-stream")
	require.NotNil(t, media)
	example := media.Examples["stream"]
	require.NotNil(t, example)
	stream, ok := example.Value.Value.(string)
	require.True(t, ok)

	req := httptest.NewRequestWithContext(t.Context(), "GET", "/v1/jobs/"+jobID+"/events", nil)
	require.NoError(t, openapi.ValidateResponse(req, 200, header("Content-Type", "text/event-stream"), []byte(stream)))
}

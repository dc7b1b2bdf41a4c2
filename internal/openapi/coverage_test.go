package openapi_test

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/openapi"
)

// The tables below are copied from /work/shared/CONTRACT.md, not from the
// document: they fail when the document loses something the contract names.

const (
	jsonType    = "application/json"
	problemType = "application/problem+json"
)

// contractOperations lists every endpoint of the contract's table with every
// status code the contract (or the API's error conventions) names for it, and
// the media types of its success response.
var contractOperations = []struct {
	method, path string
	statuses     []int
	success      map[int][]string // status → media types of that success response
	auth         bool             // under /v1: bearerAuth, and 401/503
}{
	{
		method: "POST", path: "/v1/jobs", auth: true,
		statuses: []int{200, 202, 400, 401, 409, 413, 422, 429, 503},
		success:  map[int][]string{200: {jsonType}, 202: {jsonType}},
	},
	{
		method: "GET", path: "/v1/jobs", auth: true,
		statuses: []int{200, 401, 422, 503},
		success:  map[int][]string{200: {jsonType}},
	},
	{
		method: "GET", path: "/v1/jobs/{id}", auth: true,
		statuses: []int{200, 401, 404, 503},
		success:  map[int][]string{200: {jsonType}},
	},
	{
		method: "POST", path: "/v1/jobs/{id}/cancel", auth: true,
		statuses: []int{202, 401, 404, 409, 503},
		success:  map[int][]string{202: {jsonType}},
	},
	{
		method: "GET", path: "/v1/jobs/{id}/chunks", auth: true,
		statuses: []int{200, 401, 404, 503},
		success:  map[int][]string{200: {jsonType}},
	},
	{
		method: "GET", path: "/v1/jobs/{id}/events", auth: true,
		statuses: []int{200, 401, 404, 429, 503},
		success:  map[int][]string{200: {"text/event-stream"}},
	},
	{
		method: "GET", path: "/v1/jobs/{id}/artifact", auth: true,
		statuses: []int{200, 401, 404, 409, 503},
		success:  map[int][]string{200: {"image/png", "application/octet-stream"}},
	},
	{
		method: "GET", path: "/v1/jobs/{id}/deliveries", auth: true,
		statuses: []int{200, 401, 404, 503},
		success:  map[int][]string{200: {jsonType}},
	},
	{
		// 404 (no CRUNCH_WEBHOOK_SECRET configured) is the document's choice
		// where the contract is silent.
		method: "GET", path: "/v1/webhooks/secret", auth: true,
		statuses: []int{200, 401, 404, 503},
		success:  map[int][]string{200: {jsonType}},
	},
	{
		method: "GET", path: "/v1/kernels", auth: true,
		statuses: []int{200, 401, 503},
		success:  map[int][]string{200: {jsonType}},
	},
	{
		method: "GET", path: "/v1/workers", auth: true,
		statuses: []int{200, 401, 503},
		success:  map[int][]string{200: {jsonType}},
	},
	{
		method: "GET", path: "/healthz",
		statuses: []int{200},
		success:  map[int][]string{200: {jsonType}},
	},
	{
		method: "GET", path: "/readyz",
		statuses: []int{200, 503},
		success:  map[int][]string{200: {jsonType}},
	},
	{
		method: "GET", path: "/metrics",
		statuses: []int{200},
		success:  map[int][]string{200: {"text/plain"}},
	},
	{
		method: "GET", path: "/openapi.json",
		statuses: []int{200},
		success:  map[int][]string{200: {jsonType}},
	},
}

// sharedDoc is loaded once for the tests that only read it: Load validates
// every example, which takes a while under -race.
var sharedDoc = sync.OnceValues(openapi.Load)

func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := sharedDoc()
	require.NoError(t, err)
	return doc
}

func TestCoverageOperations(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)

	documented := 0
	for _, item := range doc.Paths.Map() {
		documented += len(item.Operations())
	}
	require.Len(t, contractOperations, documented, "the document has operations the contract table does not list: add them here")

	for _, op := range contractOperations {
		t.Run(op.method+" "+op.path, func(t *testing.T) {
			t.Parallel()
			item := doc.Paths.Value(op.path)
			require.NotNil(t, item, "path %s is missing", op.path)
			operation := item.GetOperation(op.method)
			require.NotNil(t, operation, "%s %s is missing", op.method, op.path)
			require.NotEmpty(t, operation.OperationID)

			for _, status := range op.statuses {
				ref := operation.Responses.Status(status)
				require.NotNil(t, ref, "%s %s: response %d is missing", op.method, op.path, status)
				require.NotNil(t, ref.Value)
				require.NotNil(t, ref.Value.Description)
				require.NotEmpty(t, *ref.Value.Description)

				if types, ok := op.success[status]; ok {
					require.ElementsMatch(t, types, slices.Collect(maps.Keys(ref.Value.Content)),
						"%s %s → %d: media types", op.method, op.path, status)
					continue
				}
				// Every error is RFC 9457 problem+json.
				require.Equal(t, []string{problemType}, slices.Collect(maps.Keys(ref.Value.Content)),
					"%s %s → %d: errors are problem+json", op.method, op.path, status)
				schema := ref.Value.Content[problemType].Schema
				require.NotNil(t, schema)
				want := "#/components/schemas/Problem"
				if status == 422 {
					want = "#/components/schemas/ValidationProblem"
				}
				require.Equal(t, want, schema.Ref, "%s %s → %d", op.method, op.path, status)

				if status == 429 || (status == 503 && op.auth) {
					header := ref.Value.Headers["Retry-After"]
					require.NotNil(t, header, "%s %s → %d: Retry-After", op.method, op.path, status)
					require.True(t, header.Value.Required)
				}
			}
			// Nothing undocumented either: the contract's codes are all there is.
			got := make([]int, 0, operation.Responses.Len())
			for code := range operation.Responses.Map() {
				n, err := strconv.Atoi(code)
				require.NoError(t, err, "%s %s: response %q is not a status code", op.method, op.path, code)
				got = append(got, n)
			}
			require.ElementsMatch(t, op.statuses, got, "%s %s: status codes", op.method, op.path)

			// Security: bearerAuth on /v1, none elsewhere.
			security := doc.Security
			if operation.Security != nil {
				security = *operation.Security
			}
			if op.auth {
				require.Equal(t, openapi3.SecurityRequirements{{"bearerAuth": []string{}}}, security)
				require.NotNil(t, operation.Responses.Status(401))
				require.NotNil(t, operation.Responses.Status(503))
			} else {
				require.Empty(t, security, "%s %s needs no auth", op.method, op.path)
			}
		})
	}
}

func TestCoverageHeadersAndParameters(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)

	create := doc.Paths.Value("/v1/jobs").Post

	// Idempotency-Key request header, at most 255 characters.
	var key *openapi3.Parameter
	for _, p := range create.Parameters {
		if p.Value.In == "header" && p.Value.Name == "Idempotency-Key" {
			key = p.Value
		}
	}
	require.NotNil(t, key, "Idempotency-Key header")
	require.False(t, key.Required)
	require.NotNil(t, key.Schema.Value.MaxLength)
	require.EqualValues(t, 255, *key.Schema.Value.MaxLength)

	// Location on 202.
	location := create.Responses.Status(202).Value.Headers["Location"]
	require.NotNil(t, location)
	require.True(t, location.Value.Required)

	// Request body: CreateJobRequest, required.
	require.NotNil(t, create.RequestBody)
	require.True(t, create.RequestBody.Value.Required)
	require.Equal(t, "#/components/schemas/CreateJobRequest",
		create.RequestBody.Value.Content.Get(jsonType).Schema.Ref)

	// GET /v1/jobs?status=&kernel=&limit=&cursor=
	list := doc.Paths.Value("/v1/jobs").Get
	query := map[string]*openapi3.Parameter{}
	for _, p := range list.Parameters {
		if p.Value.In == "query" {
			query[p.Value.Name] = p.Value
		}
	}
	require.ElementsMatch(t, []string{"status", "kernel", "limit", "cursor"}, slices.Collect(maps.Keys(query)))
	limit := query["limit"].Schema.Value
	require.EqualValues(t, 1, *limit.Min)
	require.EqualValues(t, 1000, *limit.Max)
	require.EqualValues(t, 50, limit.Default)
	require.ElementsMatch(t, jobStatuses, query["status"].Schema.Value.Enum)

	// {id} on every job sub-resource.
	for path, item := range doc.Paths.Map() {
		if !strings.Contains(path, "{id}") {
			continue
		}
		require.Len(t, item.Parameters, 1, path)
		require.Equal(t, "id", item.Parameters[0].Value.Name, path)
		require.Equal(t, "path", item.Parameters[0].Value.In, path)
	}

	// bearerAuth.
	scheme := doc.Components.SecuritySchemes["bearerAuth"]
	require.NotNil(t, scheme)
	require.Equal(t, "http", scheme.Value.Type)
	require.Equal(t, "bearer", scheme.Value.Scheme)
}

var (
	jobStatuses   = []any{"queued", "running", "succeeded", "failed", "canceled"}
	priorities    = []any{"high", "normal", "low"}
	webhookEvents = []any{"job.started", "job.succeeded", "job.failed", "job.canceled"}
)

// contractSchemas lists the fields of every object the contract shows, and
// whether the schema must have exactly these fields, all required.
var contractSchemas = []struct {
	name   string
	fields []string
	exact  bool // no other field, every field required
}{
	{"Job", []string{"id", "kernel", "status", "params", "chunks", "progress", "result", "error", "priority", "metadata", "webhook", "created_at", "started_at", "finished_at"}, true},
	{"Chunk", []string{"index", "status", "worker", "attempts", "started_at", "finished_at", "duration_ms"}, false}, // plus an optional "error"
	{"Delivery", []string{"event", "webhook_id", "attempt", "at", "status_code", "error", "duration_ms", "given_up"}, true},
	{"JobList", []string{"jobs", "next_cursor"}, true},
	{"ChunkList", []string{"chunks"}, true},
	{"DeliveryList", []string{"deliveries"}, true},
	{"KernelList", []string{"kernels"}, true},
	{"Kernel", []string{"name", "description", "params_schema", "artifact_type"}, true},
	{"WebhookSecret", []string{"secret"}, true},
	{"WebhookEvent", []string{"type", "timestamp", "data"}, true},
	{"Webhook", []string{"url", "events"}, true},
	{"FieldError", []string{"field", "message"}, true},
	{"Problem", []string{"type", "title", "status", "detail", "instance", "errors"}, false},
	{"CreateJobRequest", []string{"kernel", "params", "chunks", "priority", "timeout_seconds", "max_retries", "webhook", "metadata"}, false},
	{"ServerSentEvent", []string{"event", "data"}, false},
	// Kernel results: exactly the contract's field names.
	{"PrimesResult", []string{"count", "sum", "first", "last"}, true},
	{"PiResult", []string{"samples", "inside", "estimate", "stderr"}, true},
	{"MandelbrotResult", []string{"width", "height", "max_iter", "inside"}, true},
	{"StatsResult", []string{"count", "sum", "mean", "min", "max", "variance", "stddev"}, true},
	{"WordcountResult", []string{"total", "unique", "top"}, true},
	{"MatmulResult", []string{"rows", "cols", "checksum", "frobenius", "c"}, false}, // c only when rows·cols ≤ 65536
}

func TestCoverageSchemas(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)

	for _, want := range contractSchemas {
		t.Run(want.name, func(t *testing.T) {
			t.Parallel()
			ref := doc.Components.Schemas[want.name]
			require.NotNil(t, ref, "schema %s is missing", want.name)
			s := ref.Value
			for _, field := range want.fields {
				require.Contains(t, s.Properties, field, "%s.%s", want.name, field)
			}
			if want.exact {
				require.ElementsMatch(t, want.fields, slices.Collect(maps.Keys(s.Properties)), "%s: fields", want.name)
				require.ElementsMatch(t, want.fields, s.Required, "%s: required", want.name)
				require.NotNil(t, s.AdditionalProperties.Has, "%s: additionalProperties", want.name)
				require.False(t, *s.AdditionalProperties.Has, "%s: additionalProperties", want.name)
			}
		})
	}
}

func TestCoverageSchemaDetails(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	schema := func(name string) *openapi3.Schema {
		ref := doc.Components.Schemas[name]
		require.NotNil(t, ref, name)
		return ref.Value
	}
	prop := func(s *openapi3.Schema, name string) *openapi3.Schema {
		ref := s.Properties[name]
		require.NotNil(t, ref, name)
		return ref.Value
	}

	// Enums.
	require.Equal(t, jobStatuses, schema("JobStatus").Enum)
	require.Equal(t, priorities, schema("Priority").Enum)
	require.Equal(t, webhookEvents, schema("WebhookEventType").Enum)
	job := schema("Job")
	require.Equal(t, jobStatuses, prop(job, "status").Enum)
	require.Equal(t, priorities, prop(job, "priority").Enum)
	require.Equal(t, jobStatuses, prop(schema("Chunk"), "status").Enum)
	require.Equal(t, webhookEvents, prop(schema("Delivery"), "event").Enum)
	require.Equal(t, []any{"progress", "status"}, prop(schema("ServerSentEvent"), "event").Enum)

	// Job.chunks {total, done, failed}; nullable times, result, error, webhook.
	chunks := prop(job, "chunks")
	require.ElementsMatch(t, []string{"total", "done", "failed"}, chunks.Required)
	require.True(t, prop(job, "created_at").Type.Is("string"))
	for _, name := range []string{"started_at", "finished_at"} {
		require.True(t, prop(job, name).Type.Includes("null"), name)
		require.Equal(t, "date-time", prop(job, name).Format, name)
	}
	for _, name := range []string{"result", "error", "webhook"} {
		require.True(t, anyOfIncludesNull(prop(job, name)), "Job.%s may be null", name)
	}
	// Job.result lists every kernel's result shape.
	var results []string
	for _, ref := range prop(job, "result").AnyOf {
		if ref.Ref != "" {
			results = append(results, strings.TrimPrefix(ref.Ref, "#/components/schemas/"))
		}
	}
	require.ElementsMatch(t, []string{"PrimesResult", "PiResult", "MandelbrotResult", "MatmulResult", "StatsResult", "WordcountResult"}, results)
	// primes sum is a decimal string; first and last may be null.
	primes := schema("PrimesResult")
	require.True(t, prop(primes, "sum").Type.Is("string"))
	require.True(t, prop(primes, "first").Type.Includes("null"))
	require.True(t, prop(primes, "last").Type.Includes("null"))
	// wordcount top: [{word, count}].
	top := prop(schema("WordcountResult"), "top").Items.Value
	require.ElementsMatch(t, []string{"word", "count"}, top.Required)
	// Delivery.status_code and error may be null; JobList.next_cursor too.
	require.True(t, prop(schema("Delivery"), "status_code").Type.Includes("null"))
	require.True(t, prop(schema("Delivery"), "error").Type.Includes("null"))
	require.True(t, prop(schema("JobList"), "next_cursor").Type.Includes("null"))
	// Problem: RFC 9457 members, and errors: [{field, message}] on 422.
	require.Subset(t, schema("Problem").Required, []string{"type", "title", "status"})

	// CreateJobRequest bounds and defaults.
	create := schema("CreateJobRequest")
	require.Equal(t, []string{"kernel"}, create.Required)
	require.False(t, *create.AdditionalProperties.Has)
	bounds := []struct {
		field    string
		min, max float64
		def      any
	}{
		{"chunks", 1, 4096, nil},
		{"timeout_seconds", 1, 86400, float64(3600)},
		{"max_retries", 0, 10, float64(3)},
	}
	for _, b := range bounds {
		s := prop(create, b.field)
		require.True(t, s.Type.Is("integer"), b.field)
		require.Equal(t, b.min, *s.Min, b.field)
		require.Equal(t, b.max, *s.Max, b.field)
		require.Equal(t, b.def, s.Default, b.field)
	}
	priority := prop(create, "priority")
	require.Equal(t, priorities, priority.Enum)
	require.Equal(t, "normal", priority.Default)
	require.True(t, prop(create, "params").Type.Is("object"))
	require.True(t, prop(create, "metadata").Type.Is("object"))
	for _, kernel := range []string{"primes", "pi", "mandelbrot", "matmul", "stats", "wordcount"} {
		require.Contains(t, prop(create, "params").Description, "`"+kernel+"`", "params documents %s", kernel)
	}
	webhook := prop(create, "webhook")
	require.Equal(t, []string{"url"}, webhook.Required)
	require.Equal(t, "uri", prop(webhook, "url").Format)
	events := prop(webhook, "events")
	require.Equal(t, webhookEvents, events.Items.Value.Enum)
	require.Equal(t, []any{"job.succeeded", "job.failed", "job.canceled"}, events.Default)
}

func anyOfIncludesNull(s *openapi3.Schema) bool {
	for _, ref := range s.AnyOf {
		if ref.Value != nil && ref.Value.Type.Is("null") {
			return true
		}
	}
	return false
}

func TestCoverageWebhooks(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)

	require.ElementsMatch(t, webhookEvents, func() []any {
		var names []any
		for name := range doc.Webhooks {
			names = append(names, name)
		}
		return names
	}())
	for name, item := range doc.Webhooks {
		require.NotNil(t, item.Post, name)
		headers := map[string]bool{}
		for _, p := range item.Post.Parameters {
			require.Equal(t, "header", p.Value.In, name)
			headers[p.Value.Name] = p.Value.Required
		}
		require.Equal(t, map[string]bool{"webhook-id": true, "webhook-timestamp": true, "webhook-signature": true}, headers, name)
		body := item.Post.RequestBody.Value.Content.Get(jsonType)
		require.NotNil(t, body, name)
		require.Equal(t, "#/components/schemas/WebhookEvent", body.Schema.Value.AllOf[0].Ref, name)
		require.NotNil(t, item.Post.Responses.Status(410), "%s: 410 Gone stops retries", name)
		require.NotNil(t, item.Post.Security, name)
		require.Empty(t, *item.Post.Security, "%s: deliveries are signed, not authenticated", name)
	}
}

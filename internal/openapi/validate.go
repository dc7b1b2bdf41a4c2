package openapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

var (
	// ErrEventStream reports a text/event-stream body that does not follow
	// the document: malformed, or an event that does not match
	// ServerSentEvent.
	ErrEventStream = errors.New("openapi: invalid event stream")
	// ErrArtifact reports an artifact whose bytes do not match its
	// Content-Type.
	ErrArtifact = errors.New("openapi: invalid artifact")
	// ErrUnknownWebhook reports a webhook body whose type names no webhook
	// of the document.
	ErrUnknownWebhook = errors.New("openapi: unknown webhook event")
)

// pngSignature starts every PNG file (RFC 2083, section 3.1).
var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// serverSentEventSchema names the component every parsed SSE event matches.
const serverSentEventSchema = "ServerSentEvent"

// validator holds the parsed document and its router, built once.
type validator struct {
	doc    *openapi3.T
	router routers.Router
}

var loadValidator = sync.OnceValues(func() (*validator, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: build router: %w", err)
	}
	return &validator{doc: doc, router: router}, nil
})

// ValidateResponse reports whether a response to req matches the document:
// its status code must be documented for the operation (an undocumented
// status is an error), its documented headers present and well-formed, its
// Content-Type one the document lists, and its body valid against the schema.
// Beyond what openapi3filter checks, a text/event-stream body is parsed and
// each event validated against the ServerSentEvent schema (no event may
// follow one with a final status), and an image/png body must start with the
// PNG signature.
//
// req is only read for its method, URL path and context; its body is not
// used. It is safe for concurrent use.
func ValidateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	v, err := loadValidator()
	if err != nil {
		return err
	}
	route, pathParams, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("openapi: %s %s: %w", req.Method, req.URL.Path, err)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: pathParams,
			Route:      route,
		},
		Status: status,
		Header: header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), input); err != nil {
		return fmt.Errorf("openapi: %s %s → %d: %w", req.Method, route.Path, status, err)
	}

	mediaType, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	switch mediaType {
	case "text/event-stream":
		if err := v.validateEventStream(body); err != nil {
			return fmt.Errorf("openapi: %s %s → %d: %w", req.Method, route.Path, status, err)
		}
	case "image/png":
		if !bytes.HasPrefix(body, pngSignature) {
			return fmt.Errorf("openapi: %s %s → %d: %w: image/png body does not start with the PNG signature",
				req.Method, route.Path, status, ErrArtifact)
		}
	}
	return nil
}

// ValidateWebhook reports whether a webhook delivery (its headers and JSON
// body) matches the document's webhook for the body's "type": the
// webhook-id, webhook-timestamp and webhook-signature headers are present
// and well-formed, the Content-Type is application/json, and the body matches
// WebhookEvent with that type. It does
// not verify the signature itself. It is safe for concurrent use.
func ValidateWebhook(header http.Header, body []byte) error {
	v, err := loadValidator()
	if err != nil {
		return err
	}
	var envelope struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return fmt.Errorf("openapi: webhook body: %w", err)
	}
	pathItem := v.doc.Webhooks[envelope.Type]
	if pathItem == nil || pathItem.Post == nil {
		return fmt.Errorf("%w: %q", ErrUnknownWebhook, envelope.Type)
	}

	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "/", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("openapi: webhook request: %w", err)
	}
	if header != nil {
		req.Header = header.Clone()
	}
	input := &openapi3filter.RequestValidationInput{
		Request: req,
		Route: &routers.Route{
			Spec:      v.doc,
			Path:      envelope.Type,
			PathItem:  pathItem,
			Method:    http.MethodPost,
			Operation: pathItem.Post,
		},
		Options: &openapi3filter.Options{MultiError: true},
	}
	if err := openapi3filter.ValidateRequest(req.Context(), input); err != nil {
		return fmt.Errorf("openapi: webhook %s: %w", envelope.Type, err)
	}
	return nil
}

// validateEventStream parses an SSE body and validates each event.
func (v *validator) validateEventStream(body []byte) error {
	schemaRef := v.doc.Components.Schemas[serverSentEventSchema]
	if schemaRef == nil || schemaRef.Value == nil {
		return fmt.Errorf("%w: the document has no %s schema", ErrEventStream, serverSentEventSchema)
	}
	events, err := parseEventStream(body)
	if err != nil {
		return err
	}
	final := -1
	for i, event := range events {
		if final >= 0 {
			return fmt.Errorf("%w: event %d follows the final status in event %d", ErrEventStream, i, final)
		}
		if err := schemaRef.Value.VisitJSON(event,
			openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse(), openapi3.MultiErrors()); err != nil {
			return fmt.Errorf("%w: event %d: %w", ErrEventStream, i, err)
		}
		if isFinalStatusEvent(event) {
			final = i
		}
	}
	return nil
}

// isFinalStatusEvent reports whether a parsed event carries a job in a final
// status.
func isFinalStatusEvent(event map[string]any) bool {
	job, _ := event["data"].(map[string]any)
	switch job["status"] {
	case "succeeded", "failed", "canceled":
		return event["event"] == "status"
	}
	return false
}

// parseEventStream parses a text/event-stream body (the WHATWG HTML
// "event stream interpretation") into one map per event: "event" (default
// "message"), "data" decoded as JSON, and "id" and "retry" when present.
// Comment lines (":…", the heartbeats) are skipped. Stricter than a browser,
// it rejects unknown fields, an event without data, data that is not JSON
// and a stream that ends inside an event, since each means a broken server.
func parseEventStream(body []byte) ([]map[string]any, error) {
	var (
		events  []map[string]any
		name    string
		data    []string
		id      *string
		retry   *json.Number
		pending bool // a field of the current event was read
		lineNo  int
	)
	dispatch := func() error {
		if !pending {
			return nil
		}
		if len(data) == 0 {
			return fmt.Errorf("%w: event ending on line %d has no data", ErrEventStream, lineNo)
		}
		dec := json.NewDecoder(strings.NewReader(strings.Join(data, "\n")))
		dec.UseNumber()
		var value any
		if err := dec.Decode(&value); err != nil {
			return fmt.Errorf("%w: event ending on line %d: data is not JSON: %w", ErrEventStream, lineNo, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return fmt.Errorf("%w: event ending on line %d: data after the JSON value", ErrEventStream, lineNo)
		}
		event := map[string]any{"event": "message", "data": value}
		if name != "" {
			event["event"] = name
		}
		if id != nil {
			event["id"] = *id
		}
		if retry != nil {
			event["retry"] = *retry
		}
		events = append(events, event)
		name, data, id, retry, pending = "", nil, nil, nil, false
		return nil
	}

	scanner := bufio.NewScanner(bytes.NewReader(body))
	scanner.Buffer(make([]byte, 0, 64*1024), len(body)+1)
	scanner.Split(scanEventStreamLines)
	for scanner.Scan() {
		lineNo++
		line := scanner.Text()
		if line == "" {
			if err := dispatch(); err != nil {
				return nil, err
			}
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // a comment: heartbeat
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		pending = true
		switch field {
		case "event":
			name = value
		case "data":
			data = append(data, value)
		case "id":
			id = &value
		case "retry":
			if _, err := strconv.ParseUint(value, 10, 63); err != nil {
				return nil, fmt.Errorf("%w: line %d: retry %q is not a number of milliseconds", ErrEventStream, lineNo, value)
			}
			n := json.Number(value)
			retry = &n
		default:
			return nil, fmt.Errorf("%w: line %d: unknown field %q", ErrEventStream, lineNo, field)
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEventStream, err)
	}
	if pending {
		return nil, fmt.Errorf("%w: the stream ends inside an event (no blank line after line %d)", ErrEventStream, lineNo)
	}
	return events, nil
}

// scanEventStreamLines splits lines ended by "\r\n", "\n" or "\r", as event
// streams allow all three.
func scanEventStreamLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		// A '\r': part of "\r\n" unless it ends the data read so far.
		if i+1 < len(data) {
			if data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
			return i + 1, data[:i], nil
		}
		if atEOF {
			return i + 1, data[:i], nil
		}
		return 0, nil, nil // need more data to tell "\r" from "\r\n"
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}

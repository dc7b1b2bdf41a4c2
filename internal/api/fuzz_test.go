package api

// Fuzz targets of the API's decoders. Without -fuzz they run their seeds
// as ordinary tests; to fuzz one, with a Redis for FuzzCreateJobHTTP:
//
//	CRUNCH_TEST_REDIS_URL=redis://127.0.0.1:6379/0 \
//	  go test -run '^$' -fuzz '^FuzzDecodeCreateJob$' -fuzztime 30s ./internal/api/

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/webhook"
	"github.com/crunchjobs/crunch/tasks"
)

func TestMain(m *testing.M) { redistest.Main(m) }

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// fuzzSecret enables webhooks, so that the fuzzers also reach the webhook
// checks past "webhooks are not enabled".
const fuzzSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// decodeServer is a Server for calling decodeCreateJob, which never
// touches Redis. (New itself does: registering asynq's queue collector
// lists the queues, so a client to a dead address would only add log noise
// and dial delays.)
func decodeServer(tb testing.TB) *Server {
	tb.Helper()
	s, err := New(Config{Namespace: redistest.Namespace(tb), Logger: discard, WebhookSecret: fuzzSecret}, redistest.Client(tb))
	require.NoError(tb, err)
	return s
}

// createJobSeeds are create-job bodies, valid and hostile, that seed the
// fuzzers of POST /v1/jobs.
func createJobSeeds() []string {
	withURL := func(url string) string {
		b, _ := json.Marshal(url)
		return `{"kernel":"primes","params":{"to":100},"webhook":{"url":` + string(b) + `}}`
	}
	seeds := []string{
		// Valid, one per kernel and every top-level field.
		`{"kernel":"primes","params":{"from":10,"to":1e3},"chunks":32,"priority":"high","timeout_seconds":600,"max_retries":3,` +
			`"webhook":{"url":"https://example.com/hooks/crunch","events":["job.succeeded","job.failed"]},"metadata":{"customer":"42"}}`,
		`{"kernel":"primes","params":{"to":1000000000}}`,
		`{"kernel":"pi","params":{"samples":100000,"seed":7},"priority":"low"}`,
		`{"kernel":"mandelbrot","params":{"width":64,"height":48,"max_iter":100,"x_min":-2,"x_max":1,"y_min":-1,"y_max":1}}`,
		`{"kernel":"mandelbrot"}`,
		`{"kernel":"matmul","params":{"n":16,"seed":1},"chunks":4096}`,
		`{"kernel":"matmul","params":{"a":[[1,2],[3,4]],"b":[[5],[6]]}}`,
		`{"kernel":"stats","params":{"values":[1,2.5,-3e10,0]}}`,
		`{ "kernel" : "stats" , "params" : { "values" : [ 1 , -0.0 , 1E150 ] } }`,
		`{"kernel":"wordcount","params":{"text":"the cat and the hat","top":2}}`,
		`{"kernel":"wordcount","params":{"text":""},"metadata":{}}`,
		// Truncated and empty.
		``, `{`, `{"kernel`, `{"kernel":"primes","params":{"to":`, `{"kernel":"primes","params":{"to":10}`,
		// Not an object.
		`[]`, `[1,2]`, `"primes"`, `42`, `null`, `true`, `{}`,
		// NaN and Infinity are not JSON.
		`{"kernel":"stats","params":{"values":[NaN]}}`,
		`{"kernel":"primes","params":{"to":Infinity}}`,
		`{"kernel":"primes","params":{"to":10},"chunks":-Infinity}`,
		// Numbers: out of range, fractional, overflowing, underflowing.
		`{"kernel":"primes","params":{"to":10},"chunks":4097}`,
		`{"kernel":"primes","params":{"to":10},"chunks":-1}`,
		`{"kernel":"primes","params":{"to":10},"chunks":1e100}`,
		`{"kernel":"primes","params":{"to":10},"chunks":4096.5}`,
		`{"kernel":"primes","params":{"to":10},"chunks":1e400}`,
		`{"kernel":"primes","params":{"to":10},"chunks":-0}`,
		`{"kernel":"primes","params":{"to":10},"chunks":4.096e3,"timeout_seconds":86400.0,"max_retries":1E1}`,
		`{"kernel":"primes","params":{"to":99999999999999999999999999}}`,
		`{"kernel":"primes","params":{"to":1e-400}}`,
		`{"kernel":"primes","params":{"to":10,"from":1e-999999}}`,
		`{"kernel":"pi","params":{"samples":1,"seed":-9223372036854775808}}`,
		`{"kernel":"stats","params":{"values":[1e400]}}`,
		`{"kernel":"stats","params":{"values":[1,"x",null,{},[],true]}}`,
		`{"kernel":"mandelbrot","params":{"width":16777216,"height":16777216,"max_iter":100000}}`,
		`{"kernel":"mandelbrot","params":{"x_min":1e308,"x_max":-1e308}}`,
		`{"kernel":"matmul","params":{"a":[[1e51]],"b":[[1],[2]],"n":3}}`,
		`{"kernel":"matmul","params":{"a":[[1,2],[3]],"b":[]}}`,
		// Deep nesting, beyond and within encoding/json's limit.
		strings.Repeat("[", 10000),
		strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001),
		`{"kernel":"primes","params":{"to":10},"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`,
		`{"kernel":"primes","params":{"to":10},"metadata":` + strings.Repeat(`{"a":`, 500) + "1" + strings.Repeat("}", 500) + `}`,
		// Invalid UTF-8 and escapes.
		"{\"kernel\":\"pri\xffmes\"}",
		"{\"kernel\":\"primes\",\"params\":{\"to\":10},\"metadata\":{\"k\":\"\xc3\x28\"}}",
		"{\"kernel\":\"wordcount\",\"params\":{\"text\":\"\xed\xa0\x80 \\ud800 \\u0000\"}}",
		`{"kernel":"\u0070rimes","params":{"to":10}}`,
		"\xef\xbb\xbf{\"kernel\":\"primes\",\"params\":{\"to\":10}}",
		// Duplicate keys and unknown fields.
		`{"kernel":"primes","kernel":"pi","params":{"samples":10}}`,
		`{"kernel":"primes","params":{"to":10},"params":{"to":20}}`,
		`{"kernel":"primes","params":{"to":10,"step":2},"colour":"red","Kernel":"pi"}`,
		`{"":{},"kernel":"primes","params":{"to":10,"":1}}`,
		// Wrong types everywhere.
		`{"kernel":7,"params":[10],"chunks":"4","priority":1,"timeout_seconds":true,"max_retries":{},"metadata":[1],"webhook":"x"}`,
		// Trailing data.
		`{"kernel":"primes","params":{"to":10}} {}`,
		`{"kernel":"primes","params":{"to":10}}]`,
		// Huge metadata.
		`{"kernel":"primes","params":{"to":10},"metadata":{"x":"` + strings.Repeat("a", 5000) + `"}}`,
		`{"kernel":"primes","params":{"to":10},"metadata":{"x":1` + strings.Repeat(" ", 5000) + `}}`,
		// Webhooks: events and odd URLs.
		`{"kernel":"primes","params":{"to":10},"webhook":{"url":"https://example.com/h","events":[]}}`,
		`{"kernel":"primes","params":{"to":10},"webhook":{"url":"https://example.com/h","events":["job.started","job.started","job.nope",7]}}`,
		`{"kernel":"primes","params":{"to":10},"webhook":{"events":["job.failed"],"secret":"x"}}`,
		`{"kernel":"primes","params":{"to":10},"webhook":null}`,
		`{"kernel":"primes","params":{"to":10},"webhook":[]}`,
	}
	for _, url := range []string{
		"http://169.254.169.254/latest/meta-data/", "http://[fd00::1]/", "http://0.0.0.0/", "http://127.1/",
		"http://2130706433/", "http://0x7f000001/", "http://[::ffff:10.0.0.1]/", "http://[fe80::1%25eth0]/",
		"ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "http://user:pass@example.com/",
		"http://LOCALHOST/", "http:///nohost", "//example.com/", "https://example.com/" + strings.Repeat("a", 2100),
		"http://[::1", "http://%zz/", "HTTPS://EXAMPLE.COM/x?y#z",
	} {
		seeds = append(seeds, withURL(url))
	}
	return seeds
}

// FuzzDecodeCreateJob: decoding any body never panics, every refusal is a
// problem with a 4xx status that names the invalid fields, and every
// accepted request is within the contract's bounds.
func FuzzDecodeCreateJob(f *testing.F) {
	for _, seed := range createJobSeeds() {
		f.Add([]byte(seed))
	}
	s := decodeServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := s.decodeCreateJob(body)
		if err != nil {
			var p *crunchtype.Problem
			require.True(t, errors.As(err, &p), "error is not a problem: %T %v", err, err)
			require.Contains(t, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity}, p.Status)
			require.NotEmpty(t, p.Type)
			require.NotEmpty(t, p.Title)
			if p.Status == http.StatusUnprocessableEntity {
				require.NotEmpty(t, p.Errors)
				var fields map[string]json.RawMessage
				isObject := json.Unmarshal(bytes.TrimSpace(body), &fields) == nil && fields != nil
				_, emptyKey := fields[""]
				for _, fe := range p.Errors {
					require.NotEmpty(t, fe.Message, "field %q", fe.Field)
					if fe.Field == "" {
						// The whole body, or a top-level key that is
						// itself "" ({"":1} is an unknown field "").
						require.True(t, !isObject || emptyKey, "a whole-body error for a JSON object: %+v", p.Errors)
					}
				}
			}
			return
		}
		require.True(t, json.Valid(body), "accepted a body that is not JSON")
		require.NotNil(t, req.spec)
		require.NotNil(t, req.prepared)
		require.GreaterOrEqual(t, req.prepared.Extent, int64(0))
		require.True(t, json.Valid(req.prepared.Params) && bytes.HasPrefix(req.prepared.Params, []byte("{")),
			"params echo %q", req.prepared.Params)
		require.GreaterOrEqual(t, req.chunks, 1)
		require.LessOrEqual(t, req.chunks, tasks.MaxChunks)
		require.GreaterOrEqual(t, req.prepared.DefaultChunks, 1)
		require.LessOrEqual(t, req.prepared.DefaultChunks, tasks.MaxChunks)
		require.Contains(t, []string{queue.PriorityHigh, queue.PriorityNormal, queue.PriorityLow}, req.priority)
		require.GreaterOrEqual(t, req.timeout, time.Second)
		require.LessOrEqual(t, req.timeout, timeoutMax*time.Second)
		require.GreaterOrEqual(t, req.maxRetries, 0)
		require.LessOrEqual(t, req.maxRetries, maxRetriesMax)
		if req.metadata != nil {
			require.True(t, json.Valid(req.metadata) && req.metadata[0] == '{', "metadata %q", req.metadata)
			require.LessOrEqual(t, len(req.metadata), metadataMaxBytes)
		}
		if req.webhook != nil {
			require.NoError(t, webhook.CheckURL(req.webhook.URL, false))
			require.NotEmpty(t, req.webhook.Events)
			for _, ev := range req.webhook.Events {
				require.True(t, webhook.KnownEvent(ev), ev)
			}
		}
	})
}

// FuzzCreateJobHTTP: POST /v1/jobs through the whole handler, with a real
// Redis behind it, answers 202 (or 200 for a repeated Idempotency-Key) or a
// 4xx problem+json, never a 5xx.
func FuzzCreateJobHTTP(f *testing.F) {
	for i, seed := range createJobSeeds() {
		key := ""
		if i%3 == 0 {
			key = "key-" + strconv.Itoa(i%6) // every key is used with two bodies
		}
		f.Add([]byte(seed), key, []string{"", "application/json", "text/plain"}[i%3])
	}
	f.Add([]byte(`{"kernel":"primes","params":{"to":10}}`), strings.Repeat("k", 256), "application/json")
	f.Add([]byte(`{"kernel":"primes","params":{"to":10}}`), "{}\x00\r\n", "application/x-www-form-urlencoded")
	f.Add(bytes.Repeat([]byte(" "), 17<<10), "", "")
	rdb := redistest.Client(f)
	s, err := New(Config{Namespace: redistest.Namespace(f), Logger: discard, WebhookSecret: fuzzSecret, MaxBodyBytes: 16 << 10}, rdb)
	require.NoError(f, err)
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte, idemKey, contentType string) {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/v1/jobs", bytes.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if idemKey != "" {
			req.Header.Set("Idempotency-Key", idemKey)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		out := rec.Body.Bytes()
		switch {
		case res.StatusCode == http.StatusAccepted || res.StatusCode == http.StatusOK && idemKey != "":
			var j struct {
				ID     string
				Status string
				Chunks struct{ Total int }
			}
			require.NoError(t, json.Unmarshal(out, &j), "body: %s", out)
			require.True(t, jobIDPattern.MatchString(j.ID), j.ID)
			require.GreaterOrEqual(t, j.Chunks.Total, 1)
			require.LessOrEqual(t, j.Chunks.Total, tasks.MaxChunks)
			if res.StatusCode == http.StatusAccepted {
				require.Equal(t, "/v1/jobs/"+j.ID, res.Header.Get("Location"))
				require.Equal(t, "queued", j.Status)
			}
		case res.StatusCode >= 400 && res.StatusCode < 500:
			require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), "body: %s", out)
			var p crunchtype.Problem
			require.NoError(t, json.Unmarshal(out, &p), "body: %s", out)
			require.Equal(t, res.StatusCode, p.Status)
			require.NotEmpty(t, p.Type)
			require.NotEmpty(t, p.Title)
			if p.Status == http.StatusUnprocessableEntity {
				require.NotEmpty(t, p.Errors)
			}
		default:
			t.Fatalf("POST /v1/jobs answered %d: %s", res.StatusCode, out)
		}
	})
}

// FuzzDecodeCursor: any cursor decodes without panicking; one that decodes
// names a job id and is, up to the line breaks base64 ignores, the cursor
// the API would have handed out; every job id round-trips.
func FuzzDecodeCursor(f *testing.F) {
	id := "job_01J9ZQ3M4X8V7K2N5P6R0S1T2W"
	for _, seed := range []string{
		encodeCursor(id), encodeCursor(id)[:20] + "\r\n" + encodeCursor(id)[20:], encodeCursor(id) + "=", encodeCursor(id) + "AA",
		"", "v1:" + id, encodeCursor(""), encodeCursor("job_*"), encodeCursor(strings.ToLower(id)), encodeCursor(id + "\n"),
		"djE6am9iXzAxSjlaUTNNNFg4VjdLMk41UDZSMFMxVDJX", "djE6am9iXzAxSjlaUTNNNFg4VjdLMk41UDZSMFMxVDJX==",
		"+/+/", "%00", "{}", strings.Repeat("A", 10000),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, cur string) {
		got, ok := decodeCursor(cur)
		if ok {
			require.True(t, jobIDPattern.MatchString(got), "decoded %q", got)
			require.Equal(t, strings.NewReplacer("\r", "", "\n", "").Replace(cur), encodeCursor(got))
			back, ok := decodeCursor(encodeCursor(got))
			require.True(t, ok)
			require.Equal(t, got, back)
		}
		if jobIDPattern.MatchString(cur) {
			back, ok := decodeCursor(encodeCursor(cur))
			require.True(t, ok, cur)
			require.Equal(t, cur, back)
		}
	})
}

// FuzzCanonicalHash: bodies that are the same JSON value hash the same,
// whatever their key order, spacing and string escapes.
func FuzzCanonicalHash(f *testing.F) {
	for _, seed := range createJobSeeds() {
		f.Add([]byte(seed), uint8(0))
	}
	f.Add([]byte(`{"b":1,"a":{"y":[1,{"q":null,"p":true}],"x":"é\u00e9<>&\u2028"}}`), uint8(3))
	f.Add([]byte(`{"a":1,"a":2,"\ud83d\ude00":"\ud800"}`), uint8(5))
	f.Add([]byte(`{"big":1e400,"neg":-0,"exp":1E+2}`), uint8(7))
	f.Fuzz(func(t *testing.T, body []byte, salt uint8) {
		want, err := canonicalHash(body)
		if err != nil {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		require.NoError(t, dec.Decode(&v))
		var alt bytes.Buffer
		writeShuffled(&alt, v, salt)
		got, err := canonicalHash(alt.Bytes())
		require.NoError(t, err, "re-encoded: %s", alt.Bytes())
		require.Equal(t, want, got, "body %q re-encoded as %q", body, alt.Bytes())
	})
}

// writeShuffled writes v as JSON with its object keys in an order other
// than sorted (rotated by salt, reversed when salt is odd), whitespace
// between tokens and every non-ASCII or special character \u-escaped.
func writeShuffled(w *bytes.Buffer, v any, salt uint8) {
	ws := []string{"", " ", "\n\t", "\r\n  "}[salt%4]
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if salt%2 == 1 {
			slices.Reverse(keys)
		}
		if len(keys) > 0 {
			r := int(salt) % len(keys)
			keys = append(keys[r:], keys[:r]...)
		}
		w.WriteString("{" + ws)
		for i, k := range keys {
			if i > 0 {
				w.WriteString(ws + "," + ws)
			}
			writeEscaped(w, k)
			w.WriteString(ws + ":" + ws)
			writeShuffled(w, v[k], salt+1)
		}
		w.WriteString(ws + "}")
	case []any:
		w.WriteString("[" + ws)
		for i, e := range v {
			if i > 0 {
				w.WriteString("," + ws)
			}
			writeShuffled(w, e, salt+1)
		}
		w.WriteString(ws + "]")
	case string:
		writeEscaped(w, v)
	case json.Number:
		w.WriteString(v.String())
	case bool:
		w.WriteString(strconv.FormatBool(v))
	case nil:
		w.WriteString("null")
	default:
		panic(fmt.Sprintf("unexpected JSON value %T", v))
	}
}

func writeEscaped(w *bytes.Buffer, s string) {
	w.WriteByte('"')
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f && r != '"' && r != '\\':
			w.WriteRune(r)
		case r > 0xffff:
			hi, lo := utf16Pair(r)
			fmt.Fprintf(w, `\u%04x\u%04X`, hi, lo)
		default:
			fmt.Fprintf(w, `\u%04X`, r)
		}
	}
	w.WriteByte('"')
}

func utf16Pair(r rune) (hi, lo rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// The seeds that matter most also run as plain tests, with their outcome
// pinned, so that a change in behaviour shows up without fuzzing.
func TestHostileCreateJobSeeds(t *testing.T) {
	t.Parallel()
	s := decodeServer(t)
	tests := []struct {
		body  string
		field string // first error's field; "" with ok for a success
		ok    bool
	}{
		{`{"kernel":"primes","params":{"to":10},"chunks":4097}`, "chunks", false},
		{`{"kernel":"primes","params":{"to":10},"chunks":-1}`, "chunks", false},
		{`{"kernel":"primes","params":{"to":10},"chunks":1e100}`, "chunks", false},
		{`{"kernel":"primes","params":{"to":10},"chunks":4096.5}`, "chunks", false},
		{`{"kernel":"primes","params":{"to":10},"chunks":1e400}`, "chunks", false},
		{`{"kernel":"primes","params":{"to":10},"chunks":1e-999999}`, "chunks", false},
		{`{"kernel":"primes","params":{"to":10},"chunks":4.096e3}`, "", true},
		{`{"kernel":"stats","params":{"values":[1e400]}}`, "params.values[0]", false},
		{"{\"kernel\":\"pri\xffmes\"}", "kernel", false},
		{`[1]`, "", false},
		{`{"kernel":"primes","params":{"to":10},"webhook":{"url":"http://[::ffff:10.0.0.1]/"}}`, "webhook.url", false},
		{`{"kernel":"primes","params":{"to":10},"webhook":{"url":"http://2130706433/"}}`, "", true},
	}
	for _, tt := range tests {
		req, err := s.decodeCreateJob([]byte(tt.body))
		if tt.ok {
			require.NoError(t, err, tt.body)
			require.NotNil(t, req)
			continue
		}
		var p *crunchtype.Problem
		require.True(t, errors.As(err, &p), tt.body)
		require.Equal(t, http.StatusUnprocessableEntity, p.Status, tt.body)
		require.Equal(t, tt.field, p.Errors[0].Field, "%s: %+v", tt.body, p.Errors)
	}
}

// An accepted job echoes its metadata in every answer about it, GET
// /v1/jobs included, so the echo must be valid JSON text, which is UTF-8
// (RFC 8259 §8.1). Until 75a0ee8 json.Compact kept invalid UTF-8 from the
// request as it was, and a strict client could not read the job, nor list
// the tenant's jobs.
func TestHostileMetadataIsReencoded(t *testing.T) {
	t.Parallel()
	s := decodeServer(t)
	req, err := s.decodeCreateJob([]byte("{\"kernel\":\"primes\",\"params\":{\"to\":10},\"metadata\":{\"k\":\"\xc3\x28\"}}"))
	require.NoError(t, err)
	require.True(t, utf8.Valid(req.metadata), "metadata %q is not UTF-8", req.metadata)
}

// tasks.Params caps integer literals at 64 bytes "so that a hostile number
// such as 1e999999999 cannot make exact parsing expensive", but 1e-999999
// is 9 bytes: strconv.ParseFloat underflows it to 0 without an error, the
// range check passes, and big.Rat.SetString computes 5^999999 to learn
// that it is not an integer. That is ~25 ms a field, ~150 ms of CPU for
// this 163-byte body of six such fields (1 ms per byte; the same body with
// 1e-99 takes ~0.1 ms), so a few requests a second keep an API replica
// busy. tasks.Params now refuses a literal whose exponent is beyond ±40,
// which no integer parameter can use, before big.Rat sees it.
func TestHostileExponentIsCheap(t *testing.T) {
	// Not parallel: see decodeAllocs.
	s := decodeServer(t)
	body := []byte(`{"kernel":"mandelbrot","params":{"width":1e-999999,"height":1e-999999,"max_iter":1e-999999},` +
		`"chunks":1e-999999,"timeout_seconds":1e-999999,"max_retries":1e-999999}`)
	// Measured in bytes allocated, not time, so that a loaded machine
	// cannot make it flaky: exact parsing of 1e-999999 computes 5^999999
	// (about 290 KB per field, 1.7 MB for the body), a refused literal
	// allocates next to nothing.
	p, allocated := decodeAllocs(t, s, body)
	require.Len(t, p.Errors, 6, "%+v", p.Errors)
	t.Logf("decoding the body allocates %d bytes", allocated)
	require.Less(t, allocated, uint64(256<<10), "decoding a %d-byte body of six 1e-999999 allocated %d bytes", len(body), allocated)
}

// A request object is read as at most tasks.MaxObjectFields fields. Until
// this test, NewParams decoded a whole object into a map before reporting
// its unknown fields, and a 32 MiB body of millions of them peaked near
// 1 GB in the API; now the fields past the cap are only counted.
func TestHostileFieldCountIsCheap(t *testing.T) {
	// Not parallel: see decodeAllocs.
	s := decodeServer(t)
	fields := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `,"f%d":0`, i)
		}
		return b.String()
	}
	const n = 400_000 // about 4 MiB
	for _, tt := range []struct{ body, overflow string }{
		{`{"kernel":"primes","params":{"to":10}` + fields(n) + `}`, fmt.Sprintf("it has %d,", n+2)},
		{`{"kernel":"primes","params":{"to":10` + fields(n) + `}}`, fmt.Sprintf("it has %d,", n+1)},
	} {
		p, allocated := decodeAllocs(t, s, []byte(tt.body))
		require.Contains(t, p.Errors[0].Message, tt.overflow, "%+v", p.Errors[0])
		t.Logf("decoding a %d-byte body of %d unknown fields allocates %d bytes", len(tt.body), n, allocated)
		require.Less(t, allocated, uint64(1<<20), "decoding a %d-byte body of %d unknown fields allocated %d bytes", len(tt.body), n, allocated)
	}
}

// decodeAllocs decodes an invalid body a few times and returns the problem
// it is answered with and the least number of bytes one decoding
// allocated. runtime.MemStats counts every goroutine's allocations, so its
// callers do not run in parallel with other tests, and the least of a few
// runs is kept, because whatever else allocates (the Redis client's pool,
// the runtime) only ever adds to it.
func decodeAllocs(t *testing.T, s *Server, body []byte) (*crunchtype.Problem, uint64) {
	t.Helper()
	var p *crunchtype.Problem
	least := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := s.decodeCreateJob(body)
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
		require.True(t, errors.As(err, &p), "%v", err)
	}
	return p, least
}

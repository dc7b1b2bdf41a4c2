package e2e_test

// Hostile input against the real API: every bad input gets a clear 4xx
// (problem+json whenever the API itself answers), never a 5xx; the process
// stays ready; nothing accepted is lost and nothing refused is stored.
//
// Cases per class, 439 in all (TestHostileInput and TestHostileAuth; the
// lead copies these into RELIABILITY.md):
//
//	class      cases  what                                                     answers
//	ids          162  27 hostile job ids × 6 job routes: ../, %2F, %00, 10k   162×404 problem+json
//	                  chars, unicode and fullwidth look-alikes, {hash tags},
//	                  SQL/Lua/CRLF/glob/format strings, near-miss real ids
//	headers       14  per server (httptest, and api.Serve's own http.Server): 2×200, 4×431 and 4×400 from
//	                  60 KiB header, header over the limit, 4,000 headers,    Go's server, 4×422 on
//	                  NUL in a value, bad header name, 50 KiB and 256-byte    Idempotency-Key
//	                  Idempotency-Keys
//	auth          11  API keys configured: 50 KiB Bearer and Basic values,    10×401 problem+json,
//	                  empty/near-miss/prefix/unicode keys, two Authorization  1×400 from Go's server
//	                  headers, NUL in the key
//	bodies        20  100 MB claimed Content-Length with a small body, gzip   13×400, 2×413, 4×202 (valid
//	                  garbage and real gzip, chunked (valid, bad framing,     JSON whatever the type),
//	                  33 MiB), 33 MiB body, Content-Types, BOM, UTF-16,      1×501 from Go's server for
//	                  CL+TE, duplicate/invalid Content-Length, empty          an unknown transfer coding
//	numbers       35  chunks 4097/-1/1e100/4096.5/0/-0/±1e400/1e-999999/2^64/ 33×422 on the field,
//	                  long literal/wrong types, timeout/retries/param bounds  2×202 (4096.0, null)
//	tokens        14  NaN, Infinity, -Infinity, nan, inf, +1, .5, 01, 1.,     14×400
//	                  0x10, 1e, --1, 1_000, Arabic digits
//	nesting        8  10,001 and 100,000 '[', 10,001 objects, deep params,    4×400, 3×422, 1×202 (deep
//	                  deep unknown field, deep values, deep metadata          but small metadata)
//	webhooks      48  metadata/private/loopback/reserved/multicast addresses, 39×422 on webhook.url,
//	                  odd schemes, credentials, malformed and long URLs, and  9×202 for host-name forms
//	                  numeric host-name forms (see below)                     (checked at delivery)
//	list query    14  limit 0/-1/1001/1e3/abc/huge, bad cursors, bad status   14×422 on the parameter
//	                  and kernel, unknown parameter
//	methods        8  DELETE/PUT/PATCH/TRACE/FOO on /v1 routes, OPTIONS       7×405 problem+json with
//	                                                                          Allow, 1×204 (OPTIONS)
//	errors cap     2  200,000 bad values; 20,000 unknown fields               2×422
//	replay       103  every create-job body above of ≤ 64 KiB again, from 8   the same answer as alone
//	                  goroutines at once
//
// Webhook URLs whose host Go's url and netip packages do not read as an IP
// literal are host names to the API, so they pass submission and are left,
// like every host name, to delivery, where the webhook dialer refuses any
// forbidden address the resolver returns: 127.1, 2130706433, 0x7f000001,
// 017700000001, 0177.0.0.1, 0, 127.0.0.1. (trailing dot) and
// 127.0.0.1.nip.io. Refused at submission: every bracketed IPv6 form
// (including ::ffff:10.0.0.1, ::ffff:7f00:1 and fe80::1%eth0), dotted-quad
// IPv4, localhost and *.localhost in any case.
//
// The bugs the barrage found (fixed in 75a0ee8) keep tests of their own at
// the end: TestHostileMetadataEchoIsUTF8, TestHostileClientGone,
// TestHostileErrorListIsBounded.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
)

// hostileTally counts hostile cases by class and outcome, and remembers
// every job the barrage got accepted.
type hostileTally struct {
	mu       sync.Mutex
	cases    map[string]int
	statuses map[string]map[int]int
	accepted []string
}

func newHostileTally() *hostileTally {
	return &hostileTally{cases: map[string]int{}, statuses: map[string]map[int]int{}}
}

func (ty *hostileTally) record(class string, status int, jobID string) {
	ty.mu.Lock()
	defer ty.mu.Unlock()
	ty.cases[class]++
	if ty.statuses[class] == nil {
		ty.statuses[class] = map[int]int{}
	}
	ty.statuses[class][status]++
	if jobID != "" {
		ty.accepted = append(ty.accepted, jobID)
	}
}

func (ty *hostileTally) summary() string {
	ty.mu.Lock()
	defer ty.mu.Unlock()
	classes := make([]string, 0, len(ty.cases))
	for c := range ty.cases {
		classes = append(classes, c)
	}
	slices.Sort(classes)
	var b strings.Builder
	total := 0
	for _, c := range classes {
		codes := make([]int, 0, len(ty.statuses[c]))
		for code := range ty.statuses[c] {
			codes = append(codes, code)
		}
		slices.Sort(codes)
		parts := make([]string, len(codes))
		for i, code := range codes {
			parts[i] = fmt.Sprintf("%d×%d", ty.statuses[c][code], code)
		}
		fmt.Fprintf(&b, "  %-11s %4d  %s\n", c, ty.cases[c], strings.Join(parts, " "))
		total += ty.cases[c]
	}
	fmt.Fprintf(&b, "  %-11s %4d  (%d jobs accepted)", "total", total, len(ty.accepted))
	return b.String()
}

// check asserts one answer: the expected status, never a 5xx, a
// problem+json body for every 4xx the API itself gives (fromAPI; Go's
// HTTP server answers malformed requests with text/plain before the API
// sees them), the field of a 422 among its errors, and the job of a 202.
func (ty *hostileTally) check(t *testing.T, class string, r response, status int, field string, fromAPI bool) {
	t.Helper()
	if !(status == http.StatusNotImplemented && !fromAPI) { // see "bodies"
		require.Less(t, r.status, 500, "a 5xx: %.300s", r.body)
	}
	require.Equal(t, status, r.status, "body: %.500s", r.body)
	jobID := ""
	switch {
	case r.status == http.StatusAccepted:
		var j job
		r.json(t, &j)
		require.Equal(t, "queued", j.Status)
		require.Equal(t, "/v1/jobs/"+j.ID, r.header.Get("Location"))
		jobID = j.ID
	case r.status >= 400 && fromAPI:
		p := r.problem(t)
		if r.status == http.StatusUnprocessableEntity {
			require.NotEmpty(t, p.Errors)
			var fields []string
			for _, e := range p.Errors {
				require.NotEmpty(t, e.Message)
				fields = append(fields, e.Field)
			}
			if field != "" {
				require.Contains(t, fields, field, "errors: %+v", p.Errors)
			}
		}
	}
	ty.record(class, r.status, jobID)
}

// rawRequest sends head (a request line and headers, ending in a blank
// line) and then body on a fresh connection and reads one response. It
// sends what Go's client refuses to: lying Content-Lengths, bad chunked
// framing, control characters in headers.
func rawRequest(t *testing.T, baseURL, head string, body io.Reader) response {
	t.Helper()
	return rawExchange(t, baseURL, head, body, false)
}

// rawExchange is rawRequest, and with halfClose it then shuts the
// connection down for writing, as a client does that has nothing more to
// send.
func rawExchange(t *testing.T, baseURL, head string, body io.Reader, halfClose bool) response {
	t.Helper()
	u, err := url.Parse(baseURL)
	require.NoError(t, err)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(time.Minute)))
	written := make(chan struct{})
	go func() {
		defer close(written)
		if _, err := io.WriteString(conn, head); err != nil {
			return
		}
		if body != nil {
			if _, err := io.Copy(conn, body); err != nil {
				return // the server answered and closed before reading it all
			}
		}
		if halfClose {
			_ = conn.(*net.TCPConn).CloseWrite()
		}
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	b, _ := io.ReadAll(res.Body) // the server may reset the connection after its answer
	_ = res.Body.Close()
	_ = conn.Close()
	<-written
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func rawPost(path string, headers ...string) string {
	return "POST " + path + " HTTP/1.1\r\nHost: crunch\r\n" + strings.Join(headers, "\r\n") + "\r\n\r\n"
}

// chunkedBody frames b in HTTP/1.1 chunks of at most size bytes.
func chunkedBody(b []byte, size int) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		n := min(size, len(b))
		fmt.Fprintf(&out, "%x\r\n", n)
		out.Write(b[:n])
		out.WriteString("\r\n")
		b = b[n:]
	}
	out.WriteString("0\r\n\r\n")
	return out.Bytes()
}

// serveProduction serves the API with the http.Server settings of
// api.Serve (64 KiB of headers and so on) on the system's namespace.
func serveProduction(t *testing.T, s *system, cfg api.Config) *system {
	t.Helper()
	cfg.Namespace, cfg.Logger = s.ns, quiet
	srv, err := api.New(cfg, s.rdb)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	prod := *s
	prod.url = "http://" + ln.Addr().String()
	prod.client = &http.Client{Timeout: time.Minute}
	t.Cleanup(prod.client.CloseIdleConnections)
	return &prod
}

// primesWith is a create-job body with one field changed or added.
func primesWith(extra string) string {
	return `{"kernel":"primes","params":{"to":10}` + extra + `}`
}

type hostileCase struct {
	name   string
	body   string
	status int
	field  string
}

func TestHostileInput(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{api: func(c *api.Config) { c.WebhookSecret = testSecret }})
	prod := serveProduction(t, s, api.Config{WebhookSecret: testSecret})
	before := s.submit(`{"kernel":"mandelbrot","params":{"width":8,"height":8},"chunks":3,"metadata":{"before":"barrage"}}`)
	beforeBody := s.do(http.MethodGet, "/v1/jobs/"+before.ID, nil)
	require.Equal(t, http.StatusOK, beforeBody.status)
	ty := newHostileTally()
	var replay []hostileCase // small create-job bodies, sent again concurrently at the end

	t.Run("ids", func(t *testing.T) {
		s := s.reportingTo(t)
		long := "job_" + strings.Repeat("A", 10000)
		ids := []struct {
			id      string
			escaped bool // sent with url.PathEscape, else as is
		}{
			{"../../../../etc/passwd", false},
			{"..%2F..%2F..%2Fetc%2Fpasswd", false},
			{"..", false},
			{".", false},
			{"%00", false},
			{before.ID + "%00", false},
			{before.ID + "%2F..", false},
			{long, false},
			{"job_ÅΩ漢字🙂", true},
			{"job_０１Ｊ９ＺＱ３Ｍ４Ｘ８Ｖ７Ｋ２Ｎ５Ｐ６Ｒ０Ｓ１Ｔ２Ｗ", true}, // fullwidth look-alikes
			{"{" + before.ID + "}", true},
			{"{}", true},
			{"job_{x}01J9ZQ3M4X8V7K2N5P6R0S", true},
			{"'; DROP TABLE jobs; --", true},
			{`" OR 1=1 --`, true},
			{"redis.call('FLUSHALL')", true},
			{"]] redis.call('FLUSHALL') --[[", true},
			{"\r\nFLUSHALL\r\n", true},
			{"job_*", true},
			{"*", true},
			{"$(reboot)${jndi:ldap://x}", true},
			{"%s%n%x", true},
			{strings.ToLower(before.ID), true},
			{before.ID + "X", true},
			{"job_01J9ZQ3M4X8V7K2N5P6R0S1T2W", true}, // well-formed, unknown
			{"job_01J9ZQ3M4X8V7K2N5P6R0S1T2U", true}, // U is not Crockford base32
			{" ", true},
		}
		routes := []struct{ method, suffix string }{
			{http.MethodGet, ""}, {http.MethodGet, "/chunks"}, {http.MethodGet, "/events"},
			{http.MethodGet, "/artifact"}, {http.MethodGet, "/deliveries"}, {http.MethodPost, "/cancel"},
		}
		for _, tt := range ids {
			id := tt.id
			if tt.escaped {
				id = url.PathEscape(id)
			}
			for _, rt := range routes {
				r := s.send(false, rt.method, "/v1/jobs/"+id+rt.suffix, nil)
				ty.check(t, "ids", r, http.StatusNotFound, "", true)
			}
		}
		require.Equal(t, "queued", s.get(before.ID).Status, "no hostile id reached the real job")
	})

	t.Run("headers", func(t *testing.T) {
		for _, srv := range []struct {
			name     string
			sys      *system
			tooLarge int // header bytes over the server's limit
		}{
			{"httptest", s.reportingTo(t), 1<<20 + 100<<10}, // Go's default limit: 1 MiB (+4 KiB slack)
			{"production", prod.reportingTo(t), 100 << 10},  // api.Serve: 64 KiB (+4 KiB slack)
		} {
			s := srv.sys
			r := s.send(false, http.MethodGet, "/v1/kernels", nil, "X-Junk", strings.Repeat("a", 60<<10))
			ty.check(t, "headers", r, http.StatusOK, "", true)
			r = rawRequest(t, s.url, "GET /v1/kernels HTTP/1.1\r\nHost: crunch\r\nX-Junk: "+strings.Repeat("a", srv.tooLarge)+"\r\n\r\n", nil)
			ty.check(t, "headers", r, http.StatusRequestHeaderFieldsTooLarge, "", false)
			var many strings.Builder
			for i := range 4000 {
				fmt.Fprintf(&many, "X-H%d: %s\r\n", i, strings.Repeat("v", 300))
			}
			r = rawRequest(t, s.url, "GET /v1/kernels HTTP/1.1\r\nHost: crunch\r\n"+many.String()+"\r\n", nil)
			ty.check(t, "headers", r, http.StatusRequestHeaderFieldsTooLarge, "", false)
			r = rawRequest(t, s.url, "GET /v1/kernels HTTP/1.1\r\nHost: crunch\r\nX-Nul: a\x00b\r\n\r\n", nil)
			ty.check(t, "headers", r, http.StatusBadRequest, "", false)
			r = rawRequest(t, s.url, "GET /v1/kernels HTTP/1.1\r\nHost: crunch\r\nBad Header: x\r\n\r\n", nil)
			ty.check(t, "headers", r, http.StatusBadRequest, "", false)
			for _, key := range []string{strings.Repeat("k", 50<<10), strings.Repeat("é", 128)} { // 50 KiB; 256 bytes
				r = s.send(false, http.MethodPost, "/v1/jobs", []byte(primesWith("")), "Idempotency-Key", key)
				ty.check(t, "headers", r, http.StatusUnprocessableEntity, "Idempotency-Key", true)
			}
		}
	})

	t.Run("bodies", func(t *testing.T) {
		s := s.reportingTo(t)
		valid := []byte(primesWith(""))
		tooBig := append(append([]byte(`{"kernel":"stats","params":{"values":[`), bytes.Repeat([]byte("1,"), 33<<19)...), "1]}}"...)
		require.Greater(t, len(tooBig), 33<<20)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write(valid)
		require.NoError(t, zw.Close())
		utf16 := make([]byte, 0, 2*len(valid))
		for _, c := range valid {
			utf16 = append(utf16, c, 0)
		}
		post := func(body []byte, headers ...string) response {
			return s.send(false, http.MethodPost, "/v1/jobs", body, headers...)
		}
		// Framing the API never sees: Go's server refuses it.
		for _, head := range []string{
			rawPost("/v1/jobs", "Content-Length: 10", "Content-Length: 20"),
			rawPost("/v1/jobs", "Content-Length: abc"),
			rawPost("/v1/jobs", "Content-Length: -1"),
		} {
			ty.check(t, "bodies", rawRequest(t, s.url, head, bytes.NewReader(valid)), http.StatusBadRequest, "", false)
		}
		// The one 5xx of the barrage, and not the API's: for a transfer
		// coding it does not implement, Go's server answers 501 itself, as
		// RFC 9112 §6.1 says a server should.
		r := rawRequest(t, s.url, rawPost("/v1/jobs", "Transfer-Encoding: gzip, chunked"), bytes.NewReader(valid))
		ty.check(t, "bodies", r, http.StatusNotImplemented, "", false)
		// Framing that reaches the API.
		r = rawExchange(t, s.url, rawPost("/v1/jobs", "Content-Length: 100000000"), bytes.NewReader(valid), true)
		ty.check(t, "bodies", r, http.StatusBadRequest, "", true) // the body ends early: unreadable
		r = rawRequest(t, s.url, rawPost("/v1/jobs", "Transfer-Encoding: chunked"), bytes.NewReader(chunkedBody(valid, 7)))
		ty.check(t, "bodies", r, http.StatusAccepted, "", true)
		r = rawRequest(t, s.url, rawPost("/v1/jobs", "Transfer-Encoding: chunked"), strings.NewReader("zz\r\n{}\r\n0\r\n\r\n"))
		ty.check(t, "bodies", r, http.StatusBadRequest, "", true)
		r = rawRequest(t, s.url, rawPost("/v1/jobs", "Transfer-Encoding: chunked"), strings.NewReader("5\r\n{\"kernel\":\"primes\"}\r\n0\r\n\r\n"))
		ty.check(t, "bodies", r, http.StatusBadRequest, "", true)
		r = rawRequest(t, s.url, rawPost("/v1/jobs", "Transfer-Encoding: chunked"), bytes.NewReader(chunkedBody(tooBig, 1<<20)))
		ty.check(t, "bodies", r, http.StatusRequestEntityTooLarge, "", true)
		r = rawRequest(t, s.url, rawPost("/v1/jobs", "Transfer-Encoding: chunked", "Content-Length: 3"), bytes.NewReader(chunkedBody(valid, 5)))
		ty.check(t, "bodies", r, http.StatusAccepted, "", true) // Transfer-Encoding wins (RFC 9112 §6.3)
		r = rawRequest(t, s.url, rawPost("/v1/jobs", "Content-Length: "+strconv.Itoa(len(tooBig))), bytes.NewReader(tooBig))
		ty.check(t, "bodies", r, http.StatusRequestEntityTooLarge, "", true)
		// Encodings and types: the body is JSON whatever the Content-Type says,
		// and nothing is decompressed.
		ty.check(t, "bodies", post([]byte("\x1f\x8b\x08garbage"), "Content-Encoding", "gzip"), http.StatusBadRequest, "", true)
		ty.check(t, "bodies", post(gz.Bytes(), "Content-Encoding", "gzip"), http.StatusBadRequest, "", true)
		ty.check(t, "bodies", post(valid, "Content-Type", "text/plain"), http.StatusAccepted, "", true)
		ty.check(t, "bodies", post(valid, "Content-Type", "application/xml; charset=latin1"), http.StatusAccepted, "", true)
		ty.check(t, "bodies", post([]byte("<job kernel='primes'/>"), "Content-Type", "application/xml"), http.StatusBadRequest, "", true)
		ty.check(t, "bodies", post([]byte("kernel=primes&params.to=10"), "Content-Type", "application/x-www-form-urlencoded"), http.StatusBadRequest, "", true)
		ty.check(t, "bodies", post(append([]byte("\xef\xbb\xbf"), valid...)), http.StatusBadRequest, "", true)
		ty.check(t, "bodies", post(utf16, "Content-Type", "application/json; charset=utf-16le"), http.StatusBadRequest, "", true)
		ty.check(t, "bodies", post(nil), http.StatusBadRequest, "", true)
	})

	t.Run("numbers", func(t *testing.T) {
		s := s.reportingTo(t)
		cases := []hostileCase{
			{"chunks 4097", primesWith(`,"chunks":4097`), 422, "chunks"},
			{"chunks -1", primesWith(`,"chunks":-1`), 422, "chunks"},
			{"chunks 1e100", primesWith(`,"chunks":1e100`), 422, "chunks"},
			{"chunks 4096.5", primesWith(`,"chunks":4096.5`), 422, "chunks"},
			{"chunks 0", primesWith(`,"chunks":0`), 422, "chunks"},
			{"chunks -0", primesWith(`,"chunks":-0`), 422, "chunks"},
			{"chunks 1e400", primesWith(`,"chunks":1e400`), 422, "chunks"},
			{"chunks -1e400", primesWith(`,"chunks":-1e400`), 422, "chunks"},
			{"chunks 1e-999999", primesWith(`,"chunks":1e-999999`), 422, "chunks"},
			{"chunks 2^64", primesWith(`,"chunks":18446744073709551617`), 422, "chunks"},
			{"chunks long literal", primesWith(`,"chunks":1` + strings.Repeat("0", 100) + `e-100`), 422, "chunks"},
			{"chunks string", primesWith(`,"chunks":"8"`), 422, "chunks"},
			{"chunks bool", primesWith(`,"chunks":true`), 422, "chunks"},
			{"chunks array", primesWith(`,"chunks":[8]`), 422, "chunks"},
			{"chunks 4096.0", primesWith(`,"chunks":4096.0`), 202, ""},
			{"chunks null", primesWith(`,"chunks":null`), 202, ""},
			{"timeout 0", primesWith(`,"timeout_seconds":0`), 422, "timeout_seconds"},
			{"timeout 86401", primesWith(`,"timeout_seconds":86401`), 422, "timeout_seconds"},
			{"timeout 1e18", primesWith(`,"timeout_seconds":1e18`), 422, "timeout_seconds"},
			{"retries 11", primesWith(`,"max_retries":11`), 422, "max_retries"},
			{"retries -1", primesWith(`,"max_retries":-1`), 422, "max_retries"},
			{"retries 0.5", primesWith(`,"max_retries":0.5`), 422, "max_retries"},
			{"to 1e13", `{"kernel":"primes","params":{"to":1e13}}`, 422, "params.to"},
			{"to -1", `{"kernel":"primes","params":{"to":-1}}`, 422, "params.to"},
			{"to 1e400", `{"kernel":"primes","params":{"to":1e400}}`, 422, "params.to"},
			{"to string", `{"kernel":"primes","params":{"to":"1e3"}}`, 422, "params.to"},
			{"samples 0", `{"kernel":"pi","params":{"samples":0}}`, 422, "params.samples"},
			{"samples 1e11+1", `{"kernel":"pi","params":{"samples":100000000001}}`, 422, "params.samples"},
			{"pixels 2^48", `{"kernel":"mandelbrot","params":{"width":16777216,"height":16777216}}`, 422, "params.width"},
			{"coords inverted", `{"kernel":"mandelbrot","params":{"x_min":1e308,"x_max":-1e308}}`, 422, "params.x_max"},
			{"n 4097", `{"kernel":"matmul","params":{"n":4097}}`, 422, "params.n"},
			{"entry 1e51", `{"kernel":"matmul","params":{"a":[[1e51]],"b":[[1]]}}`, 422, "params.a[0][0]"},
			{"value 1e151", `{"kernel":"stats","params":{"values":[1,1e151]}}`, 422, "params.values[1]"},
			{"no values", `{"kernel":"stats","params":{"values":[]}}`, 422, "params.values"},
			{"top 1001", `{"kernel":"wordcount","params":{"text":"a","top":1001}}`, 422, "params.top"},
		}
		for _, tt := range cases {
			r := s.send(false, http.MethodPost, "/v1/jobs", []byte(tt.body))
			ty.check(t, "numbers", r, tt.status, tt.field, true)
		}
		replay = append(replay, cases...)
	})

	t.Run("tokens", func(t *testing.T) {
		s := s.reportingTo(t)
		var cases []hostileCase
		for _, tok := range []string{"NaN", "Infinity", "-Infinity", "nan", "inf", "+1", ".5", "01", "1.", "0x10", "1e", "--1", "1_000", "١٢"} {
			cases = append(cases, hostileCase{tok, `{"kernel":"stats","params":{"values":[1,` + tok + `]}}`, 400, ""})
		}
		for _, tt := range cases {
			ty.check(t, "tokens", s.send(false, http.MethodPost, "/v1/jobs", []byte(tt.body)), tt.status, "", true)
		}
		replay = append(replay, cases...)
	})

	t.Run("nesting", func(t *testing.T) {
		s := s.reportingTo(t)
		deep := func(open, leaf, closing string, n int) string {
			return strings.Repeat(open, n) + leaf + strings.Repeat(closing, n)
		}
		cases := []hostileCase{
			{"10001 [", strings.Repeat("[", 10001), 400, ""},
			{"100000 [ closed", deep("[", "", "]", 100000), 400, ""},
			{"10001 objects", deep(`{"a":`, "1", "}", 10001), 400, ""},
			{"deep params", `{"kernel":"primes","params":` + deep(`{"to":`, "1", "}", 10001) + `}`, 400, ""},
			{"deep unknown field", primesWith(`,"x":` + deep("[", "", "]", 9000)), 422, "x"},
			{"deep values", `{"kernel":"stats","params":{"values":` + deep("[", "1", "]", 9000) + `}}`, 422, "params.values[0]"},
			{"deep metadata", primesWith(`,"metadata":` + deep(`{"a":`, "1", "}", 5000)), 422, "metadata"},
			{"deep small metadata", primesWith(`,"metadata":` + deep(`{"a":`, "1", "}", 600)), 202, ""},
		}
		for _, tt := range cases {
			ty.check(t, "nesting", s.send(false, http.MethodPost, "/v1/jobs", []byte(tt.body)), tt.status, tt.field, true)
		}
		replay = append(replay, cases...)
	})

	t.Run("webhooks", func(t *testing.T) {
		s := s.reportingTo(t)
		refused := []string{
			"http://169.254.169.254/latest/meta-data/iam/security-credentials/",
			"http://[fd00::1]/", "http://0.0.0.0/", "http://[::ffff:10.0.0.1]/", "http://[::ffff:127.0.0.1]:8080/",
			"http://[::ffff:7f00:1]/", "http://[::1]/", "http://127.0.0.1/", "http://127.255.255.254:9/",
			"http://10.0.0.1/", "http://172.16.0.1/", "http://192.168.1.1/", "http://100.64.0.1/", "http://224.0.0.1/",
			"http://240.0.0.1/", "http://255.255.255.255/", "http://[ff02::1]/", "http://[fe80::1%25eth0]/", "http://[::]/",
			"http://[64:ff9b::a00:1]/", "http://[2002:a00:1::]/", "http://localhost:9090/metrics", "http://api.localhost/", "http://LOCALHOST/",
			"ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "data:text/plain,hi", "gopher://example.com/",
			"ws://example.com/", "http://user:pass@example.com/", "http://user@example.com/", "http:///nohost",
			"//example.com/x", "example.com/x", "http://", "http://[::1", "http://%31%32%37.0.0.1/", " http://example.com/",
			"https://example.com/" + strings.Repeat("a", 2100),
		}
		hostNames := []string{ // not IP literals to Go: checked at delivery
			"http://127.1/", "http://2130706433/", "http://0x7f000001/", "http://017700000001/", "http://0177.0.0.1/",
			"http://0/", "http://127.0.0.1./", "http://127.0.0.1.nip.io/",
		}
		hook := func(u string) string {
			b, err := json.Marshal(u)
			require.NoError(t, err)
			return primesWith(`,"webhook":{"url":` + string(b) + `}`)
		}
		var cases []hostileCase
		for _, u := range refused {
			cases = append(cases, hostileCase{u, hook(u), 422, "webhook.url"})
		}
		for _, u := range hostNames {
			cases = append(cases, hostileCase{u, hook(u), 202, ""})
		}
		for _, tt := range cases {
			r := s.send(false, http.MethodPost, "/v1/jobs", []byte(tt.body))
			ty.check(t, "webhooks", r, tt.status, tt.field, true)
		}
		replay = append(replay, cases...)
	})

	t.Run("list query", func(t *testing.T) {
		s := s.reportingTo(t)
		for _, tt := range []struct{ query, field string }{
			{"limit=0", "limit"}, {"limit=-1", "limit"}, {"limit=1001", "limit"}, {"limit=1e3", "limit"},
			{"limit=abc", "limit"}, {"limit=99999999999999999999", "limit"},
			{"cursor=garbage", "cursor"}, {"cursor=%00", "cursor"}, {"cursor=%7B%7D", "cursor"},
			{"cursor=" + strings.Repeat("A", 10000), "cursor"},
			{"status=%3Cscript%3E", "status"}, {"kernel=..%2F..%2F", "kernel"}, {"kernel=primes%00", "kernel"},
			{"sort=id%3B%20FLUSHALL", "sort"},
		} {
			r := s.send(false, http.MethodGet, "/v1/jobs?"+tt.query, nil)
			ty.check(t, "list query", r, http.StatusUnprocessableEntity, tt.field, true)
		}
	})

	t.Run("methods", func(t *testing.T) {
		s := s.reportingTo(t)
		for _, m := range []struct{ method, path string }{
			{http.MethodDelete, "/v1/jobs/" + before.ID}, {http.MethodPut, "/v1/jobs"}, {http.MethodPatch, "/v1/jobs/" + before.ID},
			{http.MethodTrace, "/v1/jobs"}, {"FOO", "/v1/jobs"}, {http.MethodGet, "/v1/jobs/" + before.ID + "/cancel"},
			{http.MethodDelete, "/v1/jobs/" + before.ID + "/cancel"},
		} {
			r := s.send(false, m.method, m.path, nil)
			ty.check(t, "methods", r, http.StatusMethodNotAllowed, "", true)
			require.NotEmpty(t, r.header.Get("Allow"), "%s %s", m.method, m.path)
		}
		// Echo answers OPTIONS on a route itself, with what it allows.
		r := s.send(false, http.MethodOptions, "/v1/jobs/"+before.ID+"/cancel", nil)
		ty.check(t, "methods", r, http.StatusNoContent, "", true)
		require.Equal(t, "OPTIONS, POST", r.header.Get("Allow"))
	})

	t.Run("errors cap", func(t *testing.T) {
		s := s.reportingTo(t)
		bad := `{"kernel":"stats","params":{"values":[` + strings.Repeat(`"x",`, 200000) + `"x"]}}`
		r := s.send(false, http.MethodPost, "/v1/jobs", []byte(bad))
		ty.check(t, "errors cap", r, http.StatusUnprocessableEntity, "params.values[0]", true)
		require.LessOrEqual(t, len(r.problem(t).Errors), 11, "indexed errors are capped")
		var unknown strings.Builder
		unknown.WriteString(`{"kernel":"primes","params":{"to":10}`)
		for i := range 20000 {
			fmt.Fprintf(&unknown, `,"f%d":0`, i)
		}
		unknown.WriteString("}")
		r = s.send(false, http.MethodPost, "/v1/jobs", []byte(unknown.String()))
		ty.check(t, "errors cap", r, http.StatusUnprocessableEntity, "f0", true)
		t.Logf("20,000 unknown fields: a %d-byte body answered with %d errors in %d bytes",
			unknown.Len(), len(r.problem(t).Errors), len(r.body))
	})

	t.Run("replay", func(t *testing.T) {
		// Every small create-job body again, all at once: the same answer
		// as alone, whatever runs beside it.
		s := s.reportingTo(t)
		var small []hostileCase
		for _, tt := range replay {
			if len(tt.body) <= 64<<10 {
				small = append(small, tt)
			}
		}
		answers := make([]response, len(small))
		next := make(chan int)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for i := range next {
					answers[i] = s.send(false, http.MethodPost, "/v1/jobs", []byte(small[i].body))
				}
			})
		}
		for i := range small {
			next <- i
		}
		close(next)
		wg.Wait()
		for i, tt := range small {
			ty.check(t, "replay", answers[i], tt.status, tt.field, true)
		}
	})

	// After the barrage: both servers ready, the job from before unchanged,
	// every accepted job there and nothing else.
	require.Equal(t, http.StatusOK, s.do(http.MethodGet, "/readyz", nil).status)
	require.Equal(t, http.StatusOK, prod.reportingTo(t).do(http.MethodGet, "/readyz", nil).status)
	after := s.do(http.MethodGet, "/v1/jobs/"+before.ID, nil)
	require.Equal(t, http.StatusOK, after.status)
	require.JSONEq(t, string(beforeBody.body), string(after.body), "the job from before the barrage changed")
	r := s.do(http.MethodGet, "/v1/jobs?limit=1000", nil)
	require.Equal(t, http.StatusOK, r.status)
	var list struct{ Jobs []job }
	r.json(t, &list)
	var listed []string
	for _, j := range list.Jobs {
		listed = append(listed, j.ID)
		require.Equal(t, "queued", j.Status, j.ID)
	}
	require.ElementsMatch(t, append(slices.Clone(ty.accepted), before.ID), listed,
		"the jobs stored are exactly the one from before and those the barrage got accepted")
	for _, id := range ty.accepted {
		require.Equal(t, "queued", s.get(id).Status)
	}
	t.Logf("hostile input, cases by class and answers:\n%s", ty.summary())
}

// reportingTo returns a copy of the system that reports to t.
func (s *system) reportingTo(t testing.TB) *system {
	c := *s
	c.t = t
	return &c
}

// With API keys configured, no Authorization header, however large or
// odd, gets past authentication, and the tenant's job is untouched.
func TestHostileAuth(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{api: func(c *api.Config) {
		c.APIKeys = map[string]string{"acme": "key-acme-123", "globex": "key-globex-456"}
	}})
	s.key = "key-acme-123"
	before := s.submit(`{"kernel":"primes","params":{"to":100}}`)
	beforeBody := s.do(http.MethodGet, "/v1/jobs/"+before.ID, nil)
	s.key = ""
	ty := newHostileTally()
	for _, auth := range []string{
		"Bearer " + strings.Repeat("k", 50<<10),
		"Basic " + strings.Repeat("a", 50<<10),
		"Bearer ",
		"Bearer  key-acme-123",
		"Bearerkey-acme-123",
		"Token key-acme-123",
		"Bearer key-acme-12",
		"Bearer key-acme-1234",
		"Bearer ключ-acme-123",
	} {
		r := s.send(false, http.MethodGet, "/v1/jobs/"+before.ID, nil, "Authorization", auth)
		ty.check(t, "auth", r, http.StatusUnauthorized, "", true)
		require.NotEmpty(t, r.header.Get("WWW-Authenticate"))
	}
	// Two Authorization headers: the first one counts, and it is wrong.
	r := rawRequest(t, s.url, "GET /v1/jobs/"+before.ID+" HTTP/1.1\r\nHost: crunch\r\nAuthorization: Bearer nope-nope-nope\r\nAuthorization: Bearer key-acme-123\r\n\r\n", nil)
	ty.check(t, "auth", r, http.StatusUnauthorized, "", true)
	r = rawRequest(t, s.url, "GET /v1/jobs/"+before.ID+" HTTP/1.1\r\nHost: crunch\r\nAuthorization: Bearer key-acme-123\x00\r\n\r\n", nil)
	ty.check(t, "auth", r, http.StatusBadRequest, "", false)

	require.Equal(t, http.StatusOK, s.do(http.MethodGet, "/readyz", nil).status)
	s.key = "key-acme-123"
	after := s.do(http.MethodGet, "/v1/jobs/"+before.ID, nil)
	require.Equal(t, http.StatusOK, after.status)
	require.JSONEq(t, string(beforeBody.body), string(after.body))
	t.Logf("hostile Authorization headers:\n%s", ty.summary())
}

// An accepted job echoes its metadata in every answer about it, GET
// /v1/jobs included. Until 75a0ee8 the metadata kept invalid UTF-8 from the
// request as it was, so those answers were not JSON (RFC 8259 §8.1: JSON
// text is UTF-8) and a strict client (Python's json.loads on the bytes,
// serde_json) could not read the job, nor list the tenant's jobs at all.
func TestHostileMetadataEchoIsUTF8(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{})
	r := s.send(false, http.MethodPost, "/v1/jobs", []byte("{\"kernel\":\"primes\",\"params\":{\"to\":10},\"metadata\":{\"k\":\"\xc3\x28\"}}"))
	if r.status == http.StatusAccepted {
		var j job
		r.json(t, &j)
		require.True(t, utf8.Valid(r.body), "POST answer is not UTF-8: %q", r.body)
		got := s.send(false, http.MethodGet, "/v1/jobs/"+j.ID, nil)
		require.True(t, utf8.Valid(got.body), "GET answer is not UTF-8: %q", got.body)
		list := s.send(false, http.MethodGet, "/v1/jobs", nil)
		require.True(t, utf8.Valid(list.body), "GET /v1/jobs is not UTF-8: %q", list.body)
		return
	}
	// Refusing the body is the other correct answer.
	require.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, r.status)
	r.problem(t)
}

// A client that goes away mid-POST (a timeout, Ctrl-C, a crash) must
// leave either a whole job or none. Until 75a0ee8 POST /v1/jobs stored the
// job's hash and input, indexed it (pending set, tenant list) and enqueued
// its plan all under the request's context, so a disconnect in between
// canceled the later steps:
//   - the job's hash and input (up to CRUNCH_MAX_BODY_BYTES) stayed in
//     Redis for good: not in the pending set, so no reconciler planned
//     them, not in any tenant's list, and with no TTL (1 to 19 of the 40
//     disconnects below left one, run after run);
//   - and toProblem renders nothing for a canceled request, so net/http
//     finished the response as an empty 200, which a client that had only
//     half-closed its connection received as the answer to its POST.
func TestHostileClientGone(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{})
	body := `{"kernel":"stats","params":{"values":[` + strings.Repeat("1.5,", 10000) + `1]}}`
	head := rawPost("/v1/jobs", "Content-Length: "+strconv.Itoa(len(body)))

	t.Run("half-closed", func(t *testing.T) {
		for range 3 {
			r := rawExchange(t, s.url, head, strings.NewReader(body), true)
			if r.status != http.StatusAccepted {
				require.GreaterOrEqual(t, r.status, 400, "POST /v1/jobs answered %d %q", r.status, r.body)
				r.problem(t)
			}
		}
	})

	t.Run("disconnected", func(t *testing.T) {
		u, err := url.Parse(s.url)
		require.NoError(t, err)
		for i := range 40 {
			conn, err := net.Dial("tcp", u.Host)
			require.NoError(t, err)
			_, err = io.WriteString(conn, head+body)
			require.NoError(t, err)
			// Spread the disconnects over the handler's run: 0–12 ms,
			// densest early (it is slower with -race).
			time.Sleep(time.Duration(i*i) * 8 * time.Microsecond)
			require.NoError(t, conn.Close())
		}
	})

	// Every job stored is one the API lists (once the handlers are done).
	var stored, listed []string
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		stored, listed = nil, nil
		iter := s.rdb.Scan(context.Background(), 0, s.ns+":job:{*}", 1000).Iterator()
		for iter.Next(context.Background()) {
			if key := iter.Val(); strings.HasSuffix(key, "}") {
				stored = append(stored, strings.TrimSuffix(key[strings.Index(key, "{")+1:], "}"))
			}
		}
		require.NoError(t, iter.Err())
		r := s.do(http.MethodGet, "/v1/jobs?limit=1000", nil)
		var list struct{ Jobs []job }
		r.json(t, &list)
		for _, j := range list.Jobs {
			listed = append(listed, j.ID)
		}
		slices.Sort(stored)
		slices.Sort(listed)
		if slices.Equal(stored, listed) || time.Now().After(deadline) {
			break
		}
	}
	orphans := slices.DeleteFunc(slices.Clone(stored), func(id string) bool { return slices.Contains(listed, id) })
	require.Empty(t, orphans, "%d jobs stored, %d listed: the others are stored but not listed, and never planned", len(stored), len(listed))
}

// A 422 lists a bounded number of errors. Until 75a0ee8 it listed every
// unknown field, one error each (bad array elements were already capped
// at 10): 20,000 unknown fields (a 200 KiB body) made a 0.9 MB answer, and
// a 32 MiB body of unknown fields, measured against the api binary, a
// 124 MB answer (142 MB for unknown fields inside params).
func TestHostileErrorListIsBounded(t *testing.T) {
	t.Parallel()
	s := startSystem(t, systemOptions{})
	fields := func(prefix string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `,"%s%d":0`, prefix, i)
		}
		return b.String()
	}
	for _, body := range []string{
		`{"kernel":"primes","params":{"to":10}` + fields("f", 20000) + `}`,
		`{"kernel":"primes","params":{"to":10` + fields("p", 20000) + `}}`,
	} {
		r := s.send(false, http.MethodPost, "/v1/jobs", []byte(body))
		require.Equal(t, http.StatusUnprocessableEntity, r.status)
		p := r.problem(t)
		require.LessOrEqual(t, len(p.Errors), 100, "a %d-byte body got %d errors in a %d-byte answer", len(body), len(p.Errors), len(r.body))
		require.Contains(t, p.Errors[0].Message, "at most 128 fields", "the first error says why")
		require.Regexp(t, `it has 2000[12],`, p.Errors[0].Message, "and how many fields there were")
	}
}

package webhook

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/tasks"
)

// Defaults and limits.
const (
	// TimeoutDefault bounds one attempt: the contract's 15 s.
	TimeoutDefault = 15 * time.Second
	// MaxResponseBytes is how much of an answer's body (and of its headers)
	// is read; the body is discarded.
	MaxResponseBytes = 64 << 10
	// UserAgent is sent with every delivery.
	UserAgent = "crunch-webhooks/1"
)

// Errors. ([ErrRefusedAddress] is in target.go.)
var (
	// ErrInvalidSecret means a secret is not "whsec_" followed by the
	// standard base64 of at least [MinSecretBytes] bytes.
	ErrInvalidSecret = errors.New(`webhook secret must be "whsec_" followed by the base64 of at least 16 bytes`)
	// ErrNoWebhook means a payload was asked for a job without a webhook.
	ErrNoWebhook = errors.New("job has no webhook")
	// ErrGone means the receiver answered 410 Gone: the event is not
	// retried.
	ErrGone = errors.New("receiver answered 410 Gone")
)

// Config configures a [Deliverer].
type Config struct {
	// MasterSecret is the master signing secret (CRUNCH_WEBHOOK_SECRET),
	// "whsec_" + base64 of at least 16 bytes. Required.
	MasterSecret string
	// MultiTenant signs each tenant's deliveries with its own secret
	// (see [Secret]), as when CRUNCH_API_KEYS is set. Defaults to false:
	// every delivery is signed with MasterSecret.
	MultiTenant bool
	// AllowPrivate lets deliveries connect to loopback, private,
	// link-local and other addresses [Forbidden] reports
	// (CRUNCH_WEBHOOK_ALLOW_PRIVATE). Defaults to false.
	AllowPrivate bool
	// Timeout bounds one attempt, from dialling to reading the answer; an
	// attempt without an answer by then is recorded as "timeout". Defaults
	// to TimeoutDefault (15 s).
	Timeout time.Duration
	// Store records every attempt. Required.
	Store *store.Store
	// Logger logs given-up deliveries and attempts that could not be
	// recorded. Defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock of webhook-timestamp and of the recorded attempt
	// times. Defaults to time.Now.
	Now func() time.Time
	// OnAttempt, when set, is told the outcome of every recorded attempt:
	// OutcomeDelivered, OutcomeRetrying or OutcomeGivenUp (for metrics).
	// Defaults to nil.
	OnAttempt func(event, outcome string)
	// HTTPClient sends the deliveries. Defaults to a client on
	// [NewTransport](AllowPrivate). A client given here is used with
	// redirects switched off, but its transport must guard against
	// forbidden addresses itself (NewTransport's does).
	HTTPClient *http.Client
}

// WithDefaults fills unset fields with their defaults.
func (c Config) WithDefaults() Config {
	c.Timeout = cmp.Or(c.Timeout, TimeoutDefault)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HTTPClient == nil {
		c.HTTPClient = newClient(c.AllowPrivate)
	} else {
		client := *c.HTTPClient
		client.CheckRedirect = noRedirects
		c.HTTPClient = &client
	}
	return c
}

func (c Config) validate() error {
	if _, err := decodeSecret(c.MasterSecret); err != nil {
		return fmt.Errorf("MasterSecret: %w", err)
	}
	if c.Store == nil {
		return errors.New("Store is required")
	}
	if c.Timeout < 0 {
		return errors.New("Timeout must not be negative")
	}
	return nil
}

// Outcomes of one delivery attempt, as Config.OnAttempt is told them.
const (
	OutcomeDelivered = "delivered" // a 2xx answer
	OutcomeRetrying  = "retrying"  // failed; it will be retried
	OutcomeGivenUp   = "given_up"  // failed for the last time (retries spent, 410 Gone, refused target)
)

// Outcomes lists every outcome, for metrics that start at zero.
var Outcomes = []string{OutcomeDelivered, OutcomeRetrying, OutcomeGivenUp}

// Deliverer delivers webhook events: it is the handler of
// tasks.TypeWebhook tasks, each one attempt of one event. It is safe for
// concurrent use.
type Deliverer struct {
	cfg       Config
	masterKey []byte
}

// New returns a Deliverer. Call Close when done with it.
func New(cfg Config) (*Deliverer, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	cfg = cfg.WithDefaults()
	key, _ := decodeSecret(cfg.MasterSecret) // validated
	return &Deliverer{cfg: cfg, masterKey: key}, nil
}

// Close closes idle connections.
func (d *Deliverer) Close() { d.cfg.HTTPClient.CloseIdleConnections() }

// secret is the signing secret of tenant. The anonymous tenant (no API
// keys configured) signs with the master secret itself.
func (d *Deliverer) secret(tenant string) string {
	if !d.cfg.MultiTenant || tenant == store.AnonymousTenant {
		return d.cfg.MasterSecret
	}
	return deriveSecret(d.masterKey, tenant)
}

// outcome is what one attempt came to.
type outcome struct {
	status     int    // the answer's status code; 0 when none came
	reason     string // why no answer came
	retryAfter time.Duration
	permanent  bool  // a retry cannot succeed (bad URL)
	err        error // the client's error, when no answer came
}

func (o outcome) ok() bool { return o.status >= 200 && o.status < 300 }

// Handle is the asynq handler of tasks.TypeWebhook: it makes one attempt
// at delivering the event and records it with Store.AddDelivery.
//
// It returns nil on a 2xx answer. Otherwise it returns an *[AttemptError]
// (carrying any Retry-After for [Deliverer.RetryDelay]) so that asynq
// retries; after a 410 Gone that error also wraps asynq.SkipRetry, so the
// task is archived at once, as it is after the last retry. A malformed
// payload or a URL that is not http(s) wraps asynq.SkipRetry too.
//
// The attempt number is asynq's retry count + 1. When the context is
// cancelled during the attempt (the worker is stopping), nothing is
// recorded: asynq runs the attempt again. If a successful attempt cannot be
// recorded, Handle logs that and still returns nil, rather than send the
// event again only to record it.
func (d *Deliverer) Handle(ctx context.Context, t *asynq.Task) error {
	p, err := decodePayload(t.Payload())
	if err != nil {
		return fmt.Errorf("webhook: malformed payload: %v: %w", err, asynq.SkipRetry)
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	if !ok {
		maxRetry = queue.WebhookMaxRetry
	}

	now := d.cfg.Now()
	start := time.Now()
	out := d.attempt(ctx, p, now)
	elapsed := time.Since(start)
	if ctx.Err() != nil && out.status == 0 {
		return fmt.Errorf("webhook %s (%s of %s): %w", p.WebhookID, p.Event, p.JobID, context.Cause(ctx))
	}

	dl := crunchtype.Delivery{
		Event:      p.Event,
		WebhookID:  p.WebhookID,
		Attempt:    retried + 1,
		At:         now.UTC(),
		DurationMS: float64(elapsed.Microseconds()) / 1000,
	}
	if out.status != 0 {
		dl.StatusCode = &out.status
	} else {
		dl.Error = &out.reason
	}
	final := out.ok() || out.permanent || out.status == http.StatusGone || retried >= maxRetry
	dl.GivenUp = final && !out.ok()
	keep := time.Hour // the job outlives its last attempt by an hour
	if !final {
		keep += latestRetry(retried, out.retryAfter)
	}
	if d.cfg.OnAttempt != nil {
		outcome := OutcomeRetrying
		switch {
		case out.ok():
			outcome = OutcomeDelivered
		case final:
			outcome = OutcomeGivenUp
		}
		d.cfg.OnAttempt(p.Event, outcome)
	}
	recErr := d.cfg.Store.AddDelivery(ctx, p.JobID, dl, keep)
	if recErr != nil {
		recErr = fmt.Errorf("webhook %s: %w", p.WebhookID, recErr)
		d.cfg.Logger.ErrorContext(ctx, "webhook attempt not recorded",
			slog.String("job_id", p.JobID), slog.String("webhook_id", p.WebhookID), slog.Any("err", recErr))
	}
	if out.ok() {
		return nil
	}

	ae := &AttemptError{
		JobID: p.JobID, Event: p.Event, WebhookID: p.WebhookID, Attempt: dl.Attempt,
		StatusCode: out.status, Reason: out.reason, RetryAfter: out.retryAfter, Final: final,
	}
	switch {
	case out.status == http.StatusGone:
		ae.Err = fmt.Errorf("%w: %w", ErrGone, asynq.SkipRetry)
	case out.permanent:
		ae.Err = asynq.SkipRetry
	default:
		ae.Err = out.err
	}
	if final {
		d.cfg.Logger.WarnContext(ctx, "webhook given up",
			slog.String("job_id", p.JobID), slog.String("event", p.Event), slog.String("webhook_id", p.WebhookID),
			slog.Int("attempt", dl.Attempt), slog.String("err", ae.Error()))
	}
	if recErr != nil {
		return errors.Join(ae, recErr)
	}
	return ae
}

// decodePayload decodes and checks a task payload.
func decodePayload(b []byte) (tasks.WebhookPayload, error) {
	var p tasks.WebhookPayload
	if err := json.Unmarshal(b, &p); err != nil {
		return p, err
	}
	switch {
	case p.JobID == "":
		return p, errors.New("no job_id")
	case p.Event == "":
		return p, errors.New("no event")
	case p.WebhookID == "":
		return p, errors.New("no webhook_id")
	case p.URL == "":
		return p, errors.New("no url")
	case len(p.Body) == 0 || !json.Valid(p.Body):
		return p, errors.New("body is not JSON")
	}
	return p, nil
}

// attempt POSTs p's body to its URL once, signed at now.
func (d *Deliverer) attempt(ctx context.Context, p tasks.WebhookPayload, now time.Time) outcome {
	u, err := url.Parse(p.URL)
	switch {
	case err != nil:
		return outcome{reason: "invalid url", permanent: true}
	case u.Scheme != "http" && u.Scheme != "https":
		return outcome{reason: "refused scheme", permanent: true}
	case u.Host == "":
		return outcome{reason: "invalid url", permanent: true}
	}
	wh, err := standardwebhooks.NewWebhook(d.secret(p.Tenant))
	if err != nil { // cannot happen: the secret was validated
		return outcome{reason: "signing failed"}
	}
	sig, err := wh.Sign(p.WebhookID, now, p.Body)
	if err != nil {
		return outcome{reason: "signing failed"}
	}

	actx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, p.URL, bytes.NewReader(p.Body))
	if err != nil {
		return outcome{reason: "invalid url", permanent: true}
	}
	req.Header.Set("content-type", "application/json")
	req.Header.Set("user-agent", UserAgent)
	req.Header.Set(standardwebhooks.HeaderWebhookID, p.WebhookID)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)

	resp, err := d.cfg.HTTPClient.Do(req)
	if err != nil {
		return outcome{reason: reason(err), err: err}
	}
	// Drain a little of the answer, so the connection can be reused; the
	// status code is the answer, whatever happens to the body.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponseBytes))
	_ = resp.Body.Close()
	out := outcome{status: resp.StatusCode}
	if !out.ok() && resp.StatusCode != http.StatusGone {
		out.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return out
}

// reason says in a few words why no answer came.
func reason(err error) string {
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		unkAuth x509.UnknownAuthorityError
		netErr  net.Error
	)
	switch {
	case errors.Is(err, ErrRefusedAddress):
		return "refused address"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "no such host"
		}
		return "dns error"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable"
	case errors.As(err, &certErr), errors.As(err, &unkAuth):
		return "tls certificate error"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // without the URL
	}
	s := err.Error()
	if len(s) > 120 {
		s = strings.ToValidUTF8(s[:120], "")
	}
	return s
}

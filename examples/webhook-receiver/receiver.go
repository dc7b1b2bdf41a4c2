package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/crunchjobs/crunch/client"
)

// Event is the body crunch POSTs for each event of a job.
type Event struct {
	Type      string     `json:"type"` // job.started, job.succeeded, job.failed, job.canceled
	Timestamp time.Time  `json:"timestamp"`
	Data      client.Job `json:"data"`
}

// Handler does the receiver's work for one event, once per webhook-id. An
// error makes the receiver answer 500, so that crunch delivers the event
// again later.
type Handler func(ctx context.Context, webhookID string, e Event) error

// Config configures a Receiver.
type Config struct {
	// Secret is the signing secret, "whsec_" + base64: the server's
	// CRUNCH_WEBHOOK_SECRET, or with API keys the tenant's secret from
	// GET /v1/webhooks/secret. Required.
	Secret string
	// Handle is called for each new event. Required.
	Handle Handler
	// Remember is how long a webhook-id is remembered to drop duplicates.
	// crunch retries an event for up to about 76 hours (5 s … 24 h apart).
	// Defaults to 96h.
	Remember time.Duration
	// MaxIDs bounds how many webhook-ids are remembered; the oldest are
	// forgotten first. Defaults to 100000.
	MaxIDs int
	// MaxBodyBytes is the largest body read. Defaults to 16 MiB.
	MaxBodyBytes int64
	// Logger receives a line per delivery. Defaults to slog.Default().
	Logger *slog.Logger
}

// Receiver is an http.Handler for crunch's webhook deliveries: it checks
// each signature with the Standard Webhooks library (refusing forged,
// tampered and stale deliveries with 401), and calls Handle once per
// webhook-id, answering 200 to every later delivery of the same event.
type Receiver struct {
	cfg Config
	wh  *standardwebhooks.Webhook
	log *slog.Logger

	mu   sync.Mutex
	seen map[string]seenID
	// order is the ids in the order they were claimed, for eviction.
	order []claimed
	// Duplicates counts the deliveries dropped as duplicates.
	duplicates int
}

type claimed struct {
	id string
	at time.Time
}

type seenID struct {
	at   time.Time
	done bool // false while Handle runs
}

// NewReceiver returns a Receiver for cfg.
func NewReceiver(cfg Config) (*Receiver, error) {
	if cfg.Handle == nil {
		return nil, errors.New("Handle is required")
	}
	if cfg.Secret == "" {
		return nil, errors.New("Secret is required")
	}
	wh, err := standardwebhooks.NewWebhook(cfg.Secret)
	if err != nil {
		return nil, err
	}
	if cfg.Remember <= 0 {
		cfg.Remember = 96 * time.Hour
	}
	if cfg.MaxIDs <= 0 {
		cfg.MaxIDs = 100000
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 16 << 20
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Receiver{cfg: cfg, wh: wh, log: log, seen: map[string]seenID{}}, nil
}

// Duplicates is how many deliveries were dropped as duplicates.
func (rc *Receiver) Duplicates() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.duplicates
}

func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.cfg.MaxBodyBytes))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	// Verify before anything else: the signature covers the id, the
	// timestamp (within 5 minutes of our clock) and the exact bytes.
	if err := rc.wh.Verify(body, r.Header); err != nil {
		rc.log.Warn("refused a delivery", slog.String("webhook_id", r.Header.Get("webhook-id")), slog.Any("err", err))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	id := r.Header.Get(standardwebhooks.HeaderWebhookID)
	var e Event
	if err := json.Unmarshal(body, &e); err != nil {
		// Signed by crunch but not an event: retrying will not help.
		http.Error(w, "not an event", http.StatusBadRequest)
		return
	}
	if !rc.claim(id) {
		rc.log.Info("dropped a duplicate", slog.String("webhook_id", id), slog.String("type", e.Type))
		w.WriteHeader(http.StatusOK) // done already (or being done): crunch may stop
		return
	}
	if err := rc.cfg.Handle(r.Context(), id, e); err != nil {
		rc.release(id)
		rc.log.Error("handle event", slog.String("webhook_id", id), slog.Any("err", err))
		http.Error(w, "try again later", http.StatusInternalServerError)
		return
	}
	rc.done(id)
	rc.log.Info("handled", slog.String("webhook_id", id), slog.String("type", e.Type), slog.String("job", e.Data.ID))
	w.WriteHeader(http.StatusOK)
}

// claim records id as being handled, unless it was seen: then it counts a
// duplicate and returns false. A delivery that arrives while the first is
// still being handled is a duplicate too.
func (rc *Receiver) claim(id string) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	now := time.Now()
	rc.forgetOld(now)
	if _, ok := rc.seen[id]; ok {
		rc.duplicates++
		return false
	}
	rc.seen[id] = seenID{at: now}
	rc.order = append(rc.order, claimed{id: id, at: now})
	return true
}

func (rc *Receiver) done(id string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if s, ok := rc.seen[id]; ok {
		s.done = true
		rc.seen[id] = s
	}
}

// release forgets id after Handle failed, so that crunch's next delivery
// of the event is handled.
func (rc *Receiver) release(id string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	delete(rc.seen, id)
}

// forgetOld drops the ids older than Remember, and the oldest ones while
// more than MaxIDs are remembered.
func (rc *Receiver) forgetOld(now time.Time) {
	for len(rc.order) > 0 {
		o := rc.order[0]
		if now.Sub(o.at) < rc.cfg.Remember && len(rc.seen) < rc.cfg.MaxIDs {
			return
		}
		if s, ok := rc.seen[o.id]; ok && s.at.Equal(o.at) { // not released and claimed again since
			delete(rc.seen, o.id)
		}
		rc.order = rc.order[1:]
	}
}

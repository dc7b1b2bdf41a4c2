package api

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crunchjobs/crunch/internal/store"
)

// errTooManyStreams: the tenant already has as many event streams open on
// this API process as it may.
var errTooManyStreams = errors.New("too many event streams")

// hub fans one Redis subscription out to every event stream of this API
// process. A stream per Redis connection would let ten thousand browser
// tabs — or one tenant with a valid key — exhaust Redis's maxclients and
// lock the workers out; with the hub, a process holds one subscription
// (a pattern over every job's channel) however many streams it serves.
//
// When a job changes, the hub reads it once and hands the new state to
// each of its streams, which keep only the latest: a stream's memory is
// bounded whatever the rate of changes or the speed of its client. The
// subscription is opened with the first stream and closed with the last.
type hub struct {
	store        *store.Store
	log          *slog.Logger
	maxPerTenant int

	mu        sync.Mutex
	sub       *subscription
	streams   int
	watchers  map[string]map[*watcher]struct{} // by job id
	perTenant map[string]int
	fetching  map[string]bool // job ids being read
	dirty     map[string]bool // job ids changed again while being read
}

func newHub(s *store.Store, log *slog.Logger, maxPerTenant int) *hub {
	return &hub{
		store: s, log: log, maxPerTenant: maxPerTenant,
		watchers: map[string]map[*watcher]struct{}{}, perTenant: map[string]int{},
		fetching: map[string]bool{}, dirty: map[string]bool{},
	}
}

// watcher is one stream's view of its job.
type watcher struct {
	id, tenant string
	// wake has room for one signal: changes that arrive while the stream
	// is busy writing coalesce into the one it reads next.
	wake chan struct{}
	mu   sync.Mutex
	job  *store.Job // the latest state the hub read, or nil
}

// latest returns the newest state of the job the hub has read, or nil.
func (w *watcher) latest() *store.Job {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.job
}

func (w *watcher) offer(job *store.Job) {
	w.mu.Lock()
	w.job = job
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// subscription is one pattern subscription and the goroutine reading it.
type subscription struct {
	ps    *redis.PubSub
	ready chan struct{} // closed once the subscription is live, or failed
	err   error         // why it failed; read after ready is closed
}

// subscribeTimeout bounds opening the subscription, so that a stream asked
// for while Redis is unreachable answers 503 promptly.
const subscribeTimeout = 3 * time.Second

// watch registers a stream of job id for tenant and returns once the
// subscription is live, so that no change made after watch returns is
// missed. The caller must call unwatch.
func (h *hub) watch(ctx context.Context, tenant, id string) (*watcher, error) {
	h.mu.Lock()
	if h.maxPerTenant > 0 && h.perTenant[tenant] >= h.maxPerTenant {
		h.mu.Unlock()
		return nil, errTooManyStreams
	}
	if h.sub == nil {
		h.sub = h.subscribe()
	}
	sub := h.sub
	w := &watcher{id: id, tenant: tenant, wake: make(chan struct{}, 1)}
	if h.watchers[id] == nil {
		h.watchers[id] = map[*watcher]struct{}{}
	}
	h.watchers[id][w] = struct{}{}
	h.perTenant[tenant]++
	h.streams++
	h.mu.Unlock()

	select {
	case <-sub.ready:
	case <-ctx.Done():
		h.unwatch(w)
		return nil, ctx.Err()
	}
	if sub.err != nil {
		h.mu.Lock()
		if h.sub == sub { // the next stream tries afresh
			h.sub = nil
		}
		h.mu.Unlock()
		h.unwatch(w)
		return nil, sub.err
	}
	return w, nil
}

// unwatch forgets a stream; the last one closes the subscription.
func (h *hub) unwatch(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.watchers[w.id][w]; !ok {
		return
	}
	delete(h.watchers[w.id], w)
	if len(h.watchers[w.id]) == 0 {
		delete(h.watchers, w.id)
	}
	if h.perTenant[w.tenant]--; h.perTenant[w.tenant] == 0 {
		delete(h.perTenant, w.tenant)
	}
	if h.streams--; h.streams == 0 && h.sub != nil {
		_ = h.sub.ps.Close() // ends its goroutine
		h.sub = nil
	}
}

// subscribe opens the pattern subscription over every job's channel and
// starts dispatching its messages.
func (h *hub) subscribe() *subscription {
	pattern := h.store.EventsChannel("*")
	sub := &subscription{ps: h.store.Redis().PSubscribe(context.Background(), pattern), ready: make(chan struct{})}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
		_, sub.err = sub.ps.Receive(ctx)
		cancel()
		close(sub.ready)
		if sub.err != nil {
			_ = sub.ps.Close()
			return
		}
		prefix, suffix, _ := strings.Cut(pattern, "*")
		for msg := range sub.ps.Channel() {
			id := strings.TrimSuffix(strings.TrimPrefix(msg.Channel, prefix), suffix)
			h.changed(id)
		}
	}()
	return sub
}

// changed reads job id once for all its streams; changes that arrive
// while it is being read cause one more read, not one each.
func (h *hub) changed(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.watchers[id]) == 0 {
		return
	}
	if h.fetching[id] {
		h.dirty[id] = true
		return
	}
	h.fetching[id] = true
	go h.fetch(id)
}

// fetchTimeout bounds one read of a changed job.
const fetchTimeout = 5 * time.Second

func (h *hub) fetch(id string) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		job, err := h.store.Get(ctx, id)
		cancel()
		if err != nil {
			h.log.Warn("read changed job for its event streams", slog.String("job", id), slog.Any("err", err))
		}
		h.mu.Lock()
		if err == nil {
			for w := range h.watchers[id] {
				w.offer(job)
			}
		}
		if !h.dirty[id] {
			delete(h.fetching, id)
			h.mu.Unlock()
			return
		}
		delete(h.dirty, id)
		h.mu.Unlock()
	}
}

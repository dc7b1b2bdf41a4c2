package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/crunchjobs/crunch/internal/lifecycle"
	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/ratelimit"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels"
)

// Config configures the API server.
type Config struct {
	// Addr is the listen address. Defaults to ":8080".
	Addr string
	// Namespace prefixes Redis keys and queue names. Defaults to "crunch".
	Namespace string
	// MaxBodyBytes is the largest request body. Defaults to 32 MiB.
	MaxBodyBytes int64
	// APIKeys maps tenant names to their bearer keys. When empty, every
	// caller is the one anonymous tenant and no key is asked for.
	APIKeys map[string]string
	// AdminKey is the key of /monitoring/ (asynqmon). When empty,
	// monitoring is served openly without APIKeys and not at all with
	// them. Defaults to none.
	AdminKey string
	// WebhookSecret is the master webhook signing secret ("whsec_…").
	// When empty, a job asking for a webhook is refused. Defaults to none.
	WebhookSecret string
	// WebhookAllowPrivate lets webhooks target loopback and private
	// addresses. Defaults to false.
	WebhookAllowPrivate bool
	// TenantRate is how many jobs per second each tenant may submit, on
	// average, across every API replica. Defaults to 0: no limit.
	TenantRate float64
	// TenantBurst is how many jobs a tenant may submit at once above
	// TenantRate. Defaults to max(1, ceil(TenantRate)).
	TenantBurst int
	// TenantMaxActiveJobs is how many unfinished jobs a tenant may have.
	// Defaults to 0: no limit.
	TenantMaxActiveJobs int
	// TenantMaxStreams is how many event streams (GET /v1/jobs/{id}/events)
	// one tenant may hold open on one API process; one more is answered
	// 429. Defaults to 1000; -1 means no limit.
	TenantMaxStreams int
	// ResultTTL is how long finished jobs are kept. Defaults to 24h.
	ResultTTL time.Duration
	// JobWindow is the workers' release window (worker.Config.Window),
	// which the backlog metrics use to tell runnable chunks. Defaults to
	// queue.WindowDefault.
	JobWindow int
	// ChunkShards is the number of chunk queues per priority (see
	// queue.ShardNames); every worker must use the same. Defaults to 6 on a
	// Redis Cluster, 1 otherwise.
	ChunkShards int
	// RedisWaitReplicas is how many replicas (of every master) must
	// acknowledge a new job's writes (Redis WAIT) before it is answered
	// 202. Defaults to 0: no wait.
	RedisWaitReplicas int
	// RedisWaitTimeout bounds that wait; a job not acknowledged in time is
	// answered 503 (it exists, and a retry with its Idempotency-Key finds
	// it). Defaults to 1s.
	RedisWaitTimeout time.Duration
	// Logger receives the server's logs. Defaults to slog.Default().
	Logger *slog.Logger
	// Specs are the kernels offered. Defaults to kernels.Specs().
	Specs []tasks.Spec
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// Defaults.
const (
	AddrDefault             = ":8080"
	MaxBodyBytesDefault     = 32 << 20
	TenantMaxStreamsDefault = 1000
	// RedisWaitTimeoutDefault is RedisWaitTimeout's default.
	RedisWaitTimeoutDefault = time.Second
)

// WithDefaults fills unset fields with their defaults.
func (c Config) WithDefaults() Config {
	c.Addr = cmp.Or(c.Addr, AddrDefault)
	c.Namespace = cmp.Or(c.Namespace, store.NamespaceDefault)
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, MaxBodyBytesDefault)
	c.ResultTTL = cmp.Or(c.ResultTTL, store.ResultTTLDefault)
	c.TenantMaxStreams = cmp.Or(c.TenantMaxStreams, TenantMaxStreamsDefault)
	c.RedisWaitTimeout = cmp.Or(c.RedisWaitTimeout, RedisWaitTimeoutDefault)
	c.JobWindow = cmp.Or(c.JobWindow, queue.WindowDefault)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Specs == nil {
		c.Specs = kernels.Specs()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c Config) validate() error {
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("MaxBodyBytes must be at least 1024, got %d", c.MaxBodyBytes)
	}
	if c.TenantMaxStreams < -1 {
		return fmt.Errorf("TenantMaxStreams must be -1 (no limit) or more, got %d", c.TenantMaxStreams)
	}
	if c.TenantRate < 0 || c.TenantBurst < 0 || c.TenantMaxActiveJobs < 0 {
		return errors.New("TenantRate, TenantBurst and TenantMaxActiveJobs must not be negative")
	}
	if c.ResultTTL < time.Second {
		return fmt.Errorf("ResultTTL must be at least 1s, got %s", c.ResultTTL)
	}
	if c.AdminKey != "" && len(c.AdminKey) < 8 {
		return errors.New("AdminKey must be at least 8 characters")
	}
	if c.RedisWaitReplicas < 0 || c.RedisWaitTimeout > createTimeout/2 {
		return fmt.Errorf("RedisWaitReplicas must not be negative and RedisWaitTimeout at most %s", createTimeout/2)
	}
	for tenant, key := range c.APIKeys {
		if tenant == "" || tenant == store.AnonymousTenant || len(key) < 8 {
			return fmt.Errorf("APIKeys: tenant %q needs a name other than %q and a key of at least 8 characters", tenant, store.AnonymousTenant)
		}
	}
	return nil
}

// Server is the HTTP API.
type Server struct {
	cfg       Config
	log       *slog.Logger
	store     *store.Store
	inspector *asynq.Inspector
	enqueue   *queue.Enqueuer
	jobs      *lifecycle.Lifecycle
	// hub serves every event stream of this process from one subscription.
	hub *hub
	// limiter limits submissions per tenant; nil without TenantRate.
	limiter  *ratelimit.Limiter
	specs    map[string]tasks.Spec
	echo     *echo.Echo
	registry *prometheus.Registry
	metrics  *httpMetrics
	// shuttingDown is closed when the HTTP server starts shutting down, so
	// that event streams end instead of holding the shutdown up.
	shuttingDown chan struct{}
	closeOnce    sync.Once
}

// New returns an API server on rdb, which it does not own.
func New(cfg Config, rdb redis.UniversalClient) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("api config: %w", err)
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger.With(slog.String("component", "api")),
		store:     store.New(rdb, store.Config{Namespace: cfg.Namespace, ResultTTL: cfg.ResultTTL}),
		inspector: asynq.NewInspectorFromRedisClient(rdb),
		specs:     make(map[string]tasks.Spec, len(cfg.Specs)),

		shuttingDown: make(chan struct{}),
	}
	s.enqueue = queue.NewShardedEnqueuer(rdb, cfg.Namespace, cfg.ChunkShards)
	s.hub = newHub(s.store, s.log, cfg.TenantMaxStreams)
	s.jobs = lifecycle.New(lifecycle.Config{Store: s.store, Queue: s.enqueue, Logger: s.log, Now: cfg.Now})
	if cfg.TenantRate > 0 {
		var err error
		s.limiter, err = ratelimit.New(rdb, ratelimit.Config{Namespace: cfg.Namespace, Rate: cfg.TenantRate, Burst: cfg.TenantBurst})
		if err != nil {
			return nil, fmt.Errorf("api config: %w", err)
		}
	}
	for _, spec := range cfg.Specs {
		s.specs[spec.Name()] = spec
	}
	s.registry, s.metrics = newMetrics(s)
	s.echo = s.routes()
	return s, nil
}

// Handler is the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// ListenAndServe serves HTTP on cfg.Addr until ctx is done, then drains
// in-flight requests for up to shutdownTimeout.
func (s *Server) ListenAndServe(ctx context.Context, shutdownTimeout time.Duration) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln, shutdownTimeout)
}

// Serve serves HTTP on ln until ctx is done, then drains in-flight requests
// for up to shutdownTimeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener, shutdownTimeout time.Duration) error {
	// No WriteTimeout here: event streams live long. Every other response
	// gets a write deadline from the writeDeadline middleware instead.
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(func() { s.closeOnce.Do(func() { close(s.shuttingDown) }) })
	s.log.Info("api listening", slog.String("addr", ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	s.log.Info("api stopped")
	return err
}

// writeTimeout bounds writing one response (event streams extend it
// before each event), so a client that stops reading cannot pin a
// goroutine.
const writeTimeout = time.Minute

// writeDeadline sets the write deadline of each response.
func writeDeadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		extendWriteDeadline(c)
		return next(c)
	}
}

func extendWriteDeadline(c echo.Context) {
	// Not every ResponseWriter supports deadlines (httptest's recorder
	// does not); then there is nothing to set.
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(writeTimeout))
}

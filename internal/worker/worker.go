package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/crunchjobs/crunch/internal/lifecycle"
	"github.com/crunchjobs/crunch/internal/logging"
	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/internal/webhook"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels"
)

// Config configures a Worker.
type Config struct {
	// Namespace prefixes Redis keys and queue names. Defaults to "crunch".
	Namespace string
	// ID names this worker in chunk records. Defaults to "hostname:pid".
	ID string
	// Concurrency is how many chunk tasks run at once. Defaults to the
	// number of CPUs.
	Concurrency int
	// PollInterval is how long an idle worker waits before looking for new
	// tasks again (asynq's TaskCheckInterval). Defaults to 20ms, so a new
	// chunk starts within milliseconds; asynq's own default is 1s.
	PollInterval time.Duration
	// Window is how many chunks of one job may be queued or running at a
	// time; the next is released as one completes, so a giant job cannot
	// put thousands of tasks ahead of the jobs submitted after it. It also
	// caps how many chunk slots of the fleet one job can use: raise it
	// towards the fleet's slots when few giant jobs run on many workers.
	// Every worker must use the same (CRUNCH_JOB_WINDOW). Defaults to 4.
	Window int
	// ShutdownTimeout is how long running chunks may take to finish on
	// shutdown before they are handed back to the queue. Defaults to 20s.
	ShutdownTimeout time.Duration
	// ResultTTL is how long finished jobs are kept. Defaults to 24h.
	ResultTTL time.Duration
	// ChunkShards is the number of chunk queues per priority (see
	// queue.ShardNames); the API and every worker must use the same.
	// Defaults to 6 on a Redis Cluster, 1 otherwise.
	ChunkShards int
	// HTTPAddr serves /healthz, /readyz and /metrics when set. Defaults to
	// none.
	HTTPAddr string
	// WebhookSecret is the master webhook signing secret. When empty, no
	// webhooks are delivered by this worker. Defaults to none.
	WebhookSecret string
	// WebhookAllowPrivate lets deliveries reach loopback and private
	// addresses. Defaults to false.
	WebhookAllowPrivate bool
	// WebhookConcurrency is how many webhook deliveries run at once, on
	// their own asynq server so that a slow receiver never holds a chunk
	// slot. Defaults to 20.
	WebhookConcurrency int
	// Logger receives the worker's logs. Defaults to slog.Default().
	Logger *slog.Logger
	// Runners are the kernels this worker runs. Defaults to
	// kernels.Runners().
	Runners []tasks.Runner
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// Defaults.
const (
	PollIntervalDefault       = 20 * time.Millisecond
	ShutdownTimeoutDefault    = 20 * time.Second
	WebhookConcurrencyDefault = 20
	// controlConcurrency is how many plan, reduce and deadline tasks one
	// worker runs at once, besides its chunks.
	controlConcurrency = 2
	// reconcileAge is how long a job may stay unplanned before a worker
	// plans it itself.
	reconcileAge = 5 * time.Second
	// watchInterval is how often running chunks re-read their job's status.
	watchInterval = 500 * time.Millisecond
)

// WithDefaults fills unset fields with their defaults.
func (c Config) WithDefaults() Config {
	c.Namespace = cmp.Or(c.Namespace, store.NamespaceDefault)
	if c.ID == "" {
		host, _ := os.Hostname()
		c.ID = cmp.Or(host, "worker") + ":" + strconv.Itoa(os.Getpid())
	}
	c.Concurrency = cmp.Or(c.Concurrency, runtime.NumCPU())
	c.PollInterval = cmp.Or(c.PollInterval, PollIntervalDefault)
	c.ShutdownTimeout = cmp.Or(c.ShutdownTimeout, ShutdownTimeoutDefault)
	c.Window = cmp.Or(c.Window, queue.WindowDefault)
	c.WebhookConcurrency = cmp.Or(c.WebhookConcurrency, WebhookConcurrencyDefault)
	c.ResultTTL = cmp.Or(c.ResultTTL, store.ResultTTLDefault)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Runners == nil {
		c.Runners = kernels.Runners()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c Config) validate() error {
	if c.Concurrency < 1 {
		return fmt.Errorf("Concurrency must be at least 1, got %d", c.Concurrency)
	}
	if c.Window < 1 {
		return fmt.Errorf("Window must be at least 1, got %d", c.Window)
	}
	if c.PollInterval < time.Millisecond {
		return fmt.Errorf("PollInterval must be at least 1ms, got %s", c.PollInterval)
	}
	return nil
}

// Worker runs crunch tasks from Redis.
type Worker struct {
	cfg     Config
	log     *slog.Logger
	rdb     redis.UniversalClient
	store   *store.Store
	enqueue *queue.Enqueuer
	jobs    *lifecycle.Lifecycle
	runners map[string]tasks.Runner
	server  *asynq.Server
	// control serves the control queue (plan, reduce, deadline).
	control *asynq.Server
	// webhooks delivers webhooks; nil without a webhook secret.
	webhooks  *asynq.Server
	deliverer *webhook.Deliverer
	running   *runningChunks
	metrics   *metrics
	registry  *prometheus.Registry
}

// New returns a Worker on rdb, which it does not own.
func New(cfg Config, rdb redis.UniversalClient) (*Worker, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("worker config: %w", err)
	}
	var err error
	w := &Worker{
		cfg:     cfg,
		log:     cfg.Logger.With(slog.String("component", "worker"), slog.String("worker", cfg.ID)),
		rdb:     rdb,
		store:   store.New(rdb, store.Config{Namespace: cfg.Namespace, ResultTTL: cfg.ResultTTL}),
		runners: make(map[string]tasks.Runner, len(cfg.Runners)),
		running: newRunningChunks(),
	}
	w.enqueue = queue.NewShardedEnqueuer(rdb, cfg.Namespace, cfg.ChunkShards)
	w.jobs = lifecycle.New(lifecycle.Config{Store: w.store, Queue: w.enqueue, Logger: w.log, Now: cfg.Now})
	for _, r := range cfg.Runners {
		w.runners[r.Name()] = r
	}
	w.registry, w.metrics = newMetrics()
	names := w.enqueue.Names()
	taskServer := func(concurrency int, queues map[string]int) *asynq.Server {
		return asynq.NewServerFromRedisClient(rdb, asynq.Config{
			Concurrency:              concurrency,
			Queues:                   queues,
			TaskCheckInterval:        cfg.PollInterval,
			DelayedTaskCheckInterval: time.Second,
			ShutdownTimeout:          cfg.ShutdownTimeout,
			RetryDelayFunc:           retryDelay,
			IsFailure:                func(err error) bool { return !errors.Is(err, errStopped) },
			Logger:                   logging.Asynq(cfg.Logger),
			LogLevel:                 asynq.WarnLevel,
			ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
				if !errors.Is(err, errStopped) {
					w.log.WarnContext(ctx, "task failed", slog.String("type", t.Type()), slog.Any("err", err))
				}
			}),
		})
	}
	w.server = taskServer(cfg.Concurrency, names.ChunkWeights())
	// Plans, reduces and deadlines get their own server and slots, so a
	// small job's bookkeeping never waits for a chunk of a big one.
	w.control = taskServer(controlConcurrency, map[string]int{names.Control: 1})
	if cfg.WebhookSecret != "" {
		w.deliverer, err = webhook.New(webhook.Config{
			MasterSecret: cfg.WebhookSecret,
			MultiTenant:  true, // the anonymous tenant still signs with the master secret
			AllowPrivate: cfg.WebhookAllowPrivate,
			Store:        w.store,
			Logger:       cfg.Logger,
			Now:          cfg.Now,
			OnAttempt: func(event, outcome string) {
				w.metrics.webhooks.WithLabelValues(event, outcome).Inc()
			},
		})
		if err != nil {
			return nil, fmt.Errorf("worker config: %w", err)
		}
		w.webhooks = asynq.NewServerFromRedisClient(rdb, asynq.Config{
			Concurrency:              cfg.WebhookConcurrency,
			Queues:                   map[string]int{names.Webhooks: 1},
			TaskCheckInterval:        cfg.PollInterval * 5,
			DelayedTaskCheckInterval: time.Second,
			ShutdownTimeout:          webhook.TimeoutDefault + 5*time.Second,
			RetryDelayFunc:           w.deliverer.RetryDelay,
			Logger:                   logging.Asynq(cfg.Logger),
			LogLevel:                 asynq.WarnLevel,
			ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
				w.log.InfoContext(ctx, "webhook attempt failed", slog.Any("err", err))
			}),
		})
	}
	return w, nil
}

// retryDelay backs chunk retries off from 1s to at most 30s, with jitter:
// a failing kernel should be retried soon, not after asynq's default of
// minutes.
func retryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	d := time.Second << min(n, 5)
	d = min(d, 30*time.Second)
	return d/2 + rand.N(d/2+1)
}

func (w *Worker) mux() *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.HandleFunc(tasks.TypePlan, w.handlePlan)
	mux.HandleFunc(tasks.TypeChunk, w.handleChunk)
	mux.HandleFunc(tasks.TypeReduce, w.handleReduce)
	mux.HandleFunc(tasks.TypeDeadline, w.handleDeadline)
	return mux
}

// Run processes tasks until ctx is done, then shuts down gracefully: it
// stops taking tasks and gives running chunks ShutdownTimeout to finish.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.server.Start(w.mux()); err != nil {
		return fmt.Errorf("start asynq server: %w", err)
	}
	if err := w.control.Start(w.mux()); err != nil {
		w.server.Shutdown()
		return fmt.Errorf("start control server: %w", err)
	}
	if w.webhooks != nil {
		mux := asynq.NewServeMux()
		mux.HandleFunc(tasks.TypeWebhook, w.deliverer.Handle)
		if err := w.webhooks.Start(mux); err != nil {
			w.server.Shutdown()
			w.control.Shutdown()
			return fmt.Errorf("start webhook server: %w", err)
		}
		defer w.deliverer.Close()
	} else {
		w.log.Warn("CRUNCH_WEBHOOK_SECRET is unset: this worker delivers no webhooks")
	}
	w.log.Info("worker started", slog.Int("concurrency", w.cfg.Concurrency), slog.String("namespace", w.cfg.Namespace))

	bg, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { w.watchStops(bg) })
	wg.Go(func() { w.reconcile(bg) })
	wg.Go(func() { w.heartbeat(bg) })
	wg.Go(func() { w.sweep(bg) })
	var httpErr error
	srv := &http.Server{Handler: w.httpHandler(), ReadHeaderTimeout: 5 * time.Second}
	if w.cfg.HTTPAddr != "" {
		ln, err := net.Listen("tcp", w.cfg.HTTPAddr)
		if err != nil {
			stopBg()
			wg.Wait()
			w.server.Shutdown()
			w.control.Shutdown()
			return fmt.Errorf("listen on %s: %w", w.cfg.HTTPAddr, err)
		}
		w.log.Info("worker http listening", slog.String("addr", ln.Addr().String()))
		wg.Go(func() {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				httpErr = err
			}
		})
	}

	<-ctx.Done()
	w.log.Info("worker shutting down")
	w.server.Shutdown()
	w.control.Shutdown()
	if w.webhooks != nil {
		w.webhooks.Shutdown()
	}
	stopBg()
	srv.Close()
	wg.Wait()
	if err := w.store.Retire(context.WithoutCancel(ctx), w.cfg.ID); err != nil {
		w.log.Warn("retire worker", slog.Any("err", err))
	}
	w.log.Info("worker stopped")
	return httpErr
}

package apiserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/config"
	"github.com/crunchjobs/crunch/internal/execkernel"
	"github.com/crunchjobs/crunch/internal/logging"
	"github.com/crunchjobs/crunch/internal/program"
	"github.com/crunchjobs/crunch/internal/redisconn"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels"
)

// Config is the API's configuration: every setting, with its default. Run
// fills it from the environment; Options.Configure may change it.
type Config = api.Config

// Options describe an API program: the kernels it offers and where its
// configuration comes from.
type Options struct {
	// Specs are the kernels the API offers besides the built-ins (or
	// instead of them, with NoBuiltins). A name may appear once. Defaults
	// to none.
	Specs []tasks.Spec
	// NoBuiltins leaves crunch's built-in kernels out. Defaults to false.
	NoBuiltins bool
	// Configure, when set, is called with the configuration read from the
	// environment, before the server is built, so a program can set any
	// field in code. Defaults to nil.
	Configure func(*Config)
	// Getenv reads the environment. Defaults to os.Getenv.
	Getenv func(string) string
	// Stderr receives the logs. Defaults to os.Stderr.
	Stderr io.Writer
}

// ShutdownTimeout is how long Run lets in-flight requests finish once its
// context is done.
const ShutdownTimeout = 15 * time.Second

// Main runs the API as a program: it reads the environment, serves until
// SIGINT or SIGTERM, drains, and exits with status 1 and a message if
// anything fails. Arguments are refused: the API is configured through
// the environment.
func Main(opts Options) {
	program.Main("api", func(ctx context.Context) error {
		if len(os.Args) > 1 {
			return fmt.Errorf("unexpected arguments %q: the api is configured through the environment", os.Args[1:])
		}
		return Run(ctx, opts)
	})
}

// Run reads the configuration from the environment and serves the API on
// its address until ctx is done, then drains in-flight requests.
func Run(ctx context.Context, opts Options) error {
	opts = opts.withDefaults()
	common, cfg, err := ConfigFromEnv(opts.Getenv)
	if err != nil {
		return err
	}
	if cfg.Specs, err = opts.Kernels(); err != nil {
		return err
	}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	if cfg.Logger, err = logging.New(opts.Stderr, common.LogLevel); err != nil {
		return err
	}
	rdb, err := redisconn.Open(common.RedisURL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	srv, err := api.New(cfg, rdb)
	if err != nil {
		return err
	}
	return srv.ListenAndServe(ctx, ShutdownTimeout)
}

func (o Options) withDefaults() Options {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	return o
}

// Kernels are the specs the API offers: the built-ins unless NoBuiltins,
// then Specs, then the kernels of the manifest named by
// CRUNCH_KERNELS_FILE (see package execkernel and the README). It fails
// when two share a name or the manifest is invalid.
func (o Options) Kernels() ([]tasks.Spec, error) {
	o = o.withDefaults()
	var specs []tasks.Spec
	if !o.NoBuiltins {
		specs = kernels.Specs()
	}
	specs = append(specs, o.Specs...)
	m, err := execkernel.LoadEnv(o.Getenv, kernels.Names())
	if err != nil {
		return nil, err
	}
	specs = append(specs, m.Specs()...)
	return specs, kernels.CheckNames(specs)
}

// ConfigFromEnv reads the variables both binaries share and the API's own
// (see README.md): CRUNCH_HTTP_ADDR, CRUNCH_API_KEYS, CRUNCH_ADMIN_KEY, CRUNCH_MAX_BODY_BYTES,
// CRUNCH_TENANT_RATE, CRUNCH_TENANT_BURST, CRUNCH_TENANT_MAX_ACTIVE_JOBS,
// CRUNCH_TENANT_MAX_STREAMS, CRUNCH_REDIS_WAIT_REPLICAS,
// CRUNCH_REDIS_WAIT_TIMEOUT.
// Every invalid variable is reported.
func ConfigFromEnv(getenv func(string) string) (config.Common, Config, error) {
	common, err := config.ReadCommon(getenv)
	cfg := Config{
		Addr:                getenv("CRUNCH_HTTP_ADDR"),
		AdminKey:            getenv("CRUNCH_ADMIN_KEY"),
		Namespace:           common.Namespace,
		WebhookSecret:       common.WebhookSecret,
		WebhookAllowPrivate: common.WebhookAllowPrivate,
		ResultTTL:           common.ResultTTL,
		ChunkShards:         common.ChunkShards,
		JobWindow:           common.JobWindow,
	}
	errs := []error{err}
	cfg.RedisWaitReplicas, cfg.RedisWaitTimeout, err = config.ReadRedisWait(getenv, common.RedisKind)
	errs = append(errs, err)
	if v := cfg.AdminKey; v != "" && len(v) < 8 {
		errs = append(errs, errors.New("CRUNCH_ADMIN_KEY must be at least 8 characters"))
	}
	if v := getenv("CRUNCH_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 {
			errs = append(errs, fmt.Errorf("CRUNCH_MAX_BODY_BYTES must be an integer of at least 1024, got %q", v))
		}
		cfg.MaxBodyBytes = n
	}
	if v := getenv("CRUNCH_TENANT_RATE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1e6 {
			errs = append(errs, fmt.Errorf("CRUNCH_TENANT_RATE must be a number of jobs per second above 0, got %q", v))
		}
		cfg.TenantRate = f
	}
	for _, v := range []struct {
		name string
		dst  *int
	}{
		{"CRUNCH_TENANT_BURST", &cfg.TenantBurst},
		{"CRUNCH_TENANT_MAX_ACTIVE_JOBS", &cfg.TenantMaxActiveJobs},
		{"CRUNCH_TENANT_MAX_STREAMS", &cfg.TenantMaxStreams},
	} {
		if s := getenv(v.name); s != "" {
			n, err := config.PositiveInt(v.name, s)
			errs = append(errs, err)
			*v.dst = n
		}
	}
	if v := getenv("CRUNCH_API_KEYS"); v != "" {
		keys, err := config.ParseAPIKeys(v)
		errs = append(errs, err)
		cfg.APIKeys = keys
	}
	return common, cfg, errors.Join(errs...)
}

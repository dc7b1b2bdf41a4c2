package workerserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/crunchjobs/crunch/internal/config"
	"github.com/crunchjobs/crunch/internal/execkernel"
	"github.com/crunchjobs/crunch/internal/logging"
	"github.com/crunchjobs/crunch/internal/program"
	"github.com/crunchjobs/crunch/internal/redisconn"
	"github.com/crunchjobs/crunch/internal/worker"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels"
)

// Config is the worker's configuration: every setting, with its default.
// Run fills it from the environment; Options.Configure may change it.
type Config = worker.Config

// Options describe a worker program: the kernels it runs and where its
// configuration comes from.
type Options struct {
	// Runners are the kernels the worker runs besides the built-ins (or
	// instead of them, with NoBuiltins). A name may appear once. Defaults
	// to none.
	Runners []tasks.Runner
	// NoBuiltins leaves crunch's built-in kernels out. Defaults to false.
	NoBuiltins bool
	// Configure, when set, is called with the configuration read from the
	// environment, before the worker is built, so a program can set any
	// field in code. Defaults to nil.
	Configure func(*Config)
	// Getenv reads the environment. Defaults to os.Getenv.
	Getenv func(string) string
	// Stderr receives the logs. Defaults to os.Stderr.
	Stderr io.Writer
}

// Main runs a worker as a program: it reads the environment, runs tasks
// until SIGINT or SIGTERM, lets running chunks finish, and exits with
// status 1 and a message if anything fails. Arguments are refused: the
// worker is configured through the environment.
func Main(opts Options) {
	program.Main("worker", func(ctx context.Context) error {
		if len(os.Args) > 1 {
			return fmt.Errorf("unexpected arguments %q: the worker is configured through the environment", os.Args[1:])
		}
		return Run(ctx, opts)
	})
}

// Run reads the configuration from the environment and runs tasks until
// ctx is done, then shuts down gracefully.
func Run(ctx context.Context, opts Options) error {
	opts = opts.withDefaults()
	common, cfg, err := ConfigFromEnv(opts.Getenv)
	if err != nil {
		return err
	}
	if cfg.Runners, err = opts.Kernels(); err != nil {
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
	w, err := worker.New(cfg, rdb)
	if err != nil {
		return err
	}
	return w.Run(ctx)
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

// Kernels are the runners the worker runs: the built-ins unless
// NoBuiltins, then Runners, then the kernels of the manifest named by
// CRUNCH_KERNELS_FILE (see package execkernel and the README). It fails
// when two share a name, the manifest is invalid, or one of its programs
// cannot be found.
func (o Options) Kernels() ([]tasks.Runner, error) {
	o = o.withDefaults()
	var runners []tasks.Runner
	if !o.NoBuiltins {
		runners = kernels.Runners()
	}
	runners = append(runners, o.Runners...)
	m, err := execkernel.LoadEnv(o.Getenv, kernels.Names())
	if err != nil {
		return nil, err
	}
	exec, err := m.Runners()
	if err != nil {
		return nil, err
	}
	runners = append(runners, exec...)
	return runners, kernels.CheckNames(runners)
}

// ConfigFromEnv reads the variables both binaries share and the worker's
// own (see README.md): CRUNCH_WORKER_ID, CRUNCH_WORKER_CONCURRENCY,
// CRUNCH_WORKER_HTTP_ADDR. Every invalid variable is reported.
func ConfigFromEnv(getenv func(string) string) (config.Common, Config, error) {
	common, err := config.ReadCommon(getenv)
	cfg := Config{
		Namespace:           common.Namespace,
		ID:                  getenv("CRUNCH_WORKER_ID"),
		ResultTTL:           common.ResultTTL,
		HTTPAddr:            getenv("CRUNCH_WORKER_HTTP_ADDR"),
		WebhookSecret:       common.WebhookSecret,
		WebhookAllowPrivate: common.WebhookAllowPrivate,
		ChunkShards:         common.ChunkShards,
		Window:              common.JobWindow,
	}
	errs := []error{err}
	if v := getenv("CRUNCH_WORKER_CONCURRENCY"); v != "" {
		n, err := config.PositiveInt("CRUNCH_WORKER_CONCURRENCY", v)
		errs = append(errs, err)
		cfg.Concurrency = n
	}
	return common, cfg, errors.Join(errs...)
}

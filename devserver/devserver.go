package devserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crunchjobs/crunch/apiserver"
	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/devredis"
	"github.com/crunchjobs/crunch/internal/logging"
	"github.com/crunchjobs/crunch/internal/redisconn"
	"github.com/crunchjobs/crunch/internal/worker"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/workerserver"
)

// Options describe a dev program: its kernels (both halves) and where its
// configuration comes from.
type Options struct {
	// Specs and Runners are the kernels offered besides the built-ins (or
	// instead of them, with NoBuiltins); every Spec needs the Runner of the
	// same name. Defaults to none.
	Specs   []tasks.Spec
	Runners []tasks.Runner
	// NoBuiltins leaves crunch's built-in kernels out. Defaults to false.
	NoBuiltins bool
	// ConfigureAPI and ConfigureWorker, when set, may change the
	// configurations read from the environment. Defaults to nil.
	ConfigureAPI    func(*apiserver.Config)
	ConfigureWorker func(*workerserver.Config)
	// Getenv reads the environment. Defaults to os.Getenv.
	Getenv func(string) string
	// Stdout receives the how-to-submit banner once the API listens;
	// Stderr the logs. Default to os.Stdout and os.Stderr.
	Stdout, Stderr io.Writer
}

// Run runs the API and one worker in this process until ctx is done, on
// REDIS_URL or, when it is unset, on an embedded in-memory Redis.
func Run(ctx context.Context, opts Options) error {
	opts = opts.withDefaults()
	common, apiCfg, err := apiserver.ConfigFromEnv(opts.Getenv)
	if err != nil {
		return err
	}
	_, workerCfg, err := workerserver.ConfigFromEnv(opts.Getenv)
	if err != nil {
		return err
	}
	if apiCfg.Specs, workerCfg.Runners, err = opts.kernels(); err != nil {
		return err
	}
	if opts.ConfigureAPI != nil {
		opts.ConfigureAPI(&apiCfg)
	}
	if opts.ConfigureWorker != nil {
		opts.ConfigureWorker(&workerCfg)
	}
	log, err := logging.New(opts.Stderr, common.LogLevel)
	if err != nil {
		return err
	}
	url := common.RedisURL
	if !common.RedisURLSet {
		var stopRedis func()
		url, stopRedis, err = devredis.Start()
		if err != nil {
			return err
		}
		defer stopRedis()
		log.Warn("DEV MODE: REDIS_URL is unset, so jobs live in an embedded in-memory Redis. " +
			"NOTHING IS DURABLE: every job is lost when this process exits. Set REDIS_URL for real use.")
	}
	rdb, err := redisconn.Open(url)
	if err != nil {
		return err
	}
	defer rdb.Close()

	apiCfg.Logger, workerCfg.Logger = log, log
	srv, err := api.New(apiCfg, rdb)
	if err != nil {
		return err
	}
	w, err := worker.New(workerCfg, rdb)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", apiCfg.WithDefaults().Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Fprint(opts.Stdout, howToSubmit(ln.Addr()))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(gctx, ln, 5*time.Second) })
	g.Go(func() error { return w.Run(gctx) })
	err = g.Wait()
	log.Info("dev mode stopped", slog.Any("err", err))
	return err
}

func (o Options) withDefaults() Options {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	return o
}

// kernels are both halves of every kernel, checked as apiserver and
// workerserver check them, and every Spec has its Runner.
func (o Options) kernels() ([]tasks.Spec, []tasks.Runner, error) {
	specs, err := apiserver.Options{Specs: o.Specs, NoBuiltins: o.NoBuiltins, Getenv: o.Getenv}.Kernels()
	if err != nil {
		return nil, nil, err
	}
	runners, err := workerserver.Options{Runners: o.Runners, NoBuiltins: o.NoBuiltins, Getenv: o.Getenv}.Kernels()
	if err != nil {
		return nil, nil, err
	}
	run := make(map[string]bool, len(runners))
	for _, r := range runners {
		run[r.Name()] = true
	}
	for _, s := range specs {
		if !run[s.Name()] {
			return nil, nil, fmt.Errorf("kernel %q has a Spec but no Runner", s.Name())
		}
	}
	return specs, runners, nil
}

func howToSubmit(addr net.Addr) string {
	host := addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok && (tcp.IP.IsUnspecified() || tcp.IP == nil) {
		host = fmt.Sprintf("localhost:%d", tcp.Port)
	}
	return strings.ReplaceAll(`
crunch is running: API on http://HOST (plus one worker in this process)

  Submit a job (count the primes below 10^8):
    curl -si -XPOST http://HOST/v1/jobs -d '{"kernel":"primes","params":{"to":1e8}}'

  Poll it at the Location header you get back:
    curl -s http://HOST/v1/jobs/<id>

  Or submit it and follow it to the end with the CLI:
    CRUNCH_URL=http://HOST go run ./cmd/crunch submit -wait primes to=1e8

  Kernels and their parameters:  curl -s http://HOST/v1/kernels
  API document:                  curl -s http://HOST/openapi.json

Press Ctrl-C to stop.

`, "HOST", host)
}

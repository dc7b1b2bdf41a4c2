package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/config"
	"github.com/crunchjobs/crunch/internal/devredis"
	"github.com/crunchjobs/crunch/internal/logging"
	"github.com/crunchjobs/crunch/internal/redisconn"
	"github.com/crunchjobs/crunch/internal/worker"
)

// runDev runs the API and one worker in this process, on REDIS_URL or, when
// it is unset, on an embedded in-memory Redis.
func runDev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("dev takes no arguments, got %q", args)
	}
	common, apiCfg, err := config.API(getenv)
	if err != nil {
		return err
	}
	_, workerCfg, err := config.Worker(getenv)
	if err != nil {
		return err
	}
	log, err := logging.New(stderr, common.LogLevel)
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
	fmt.Fprint(stdout, howToSubmit(ln.Addr()))

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Serve(gctx, ln, 5*time.Second) })
	g.Go(func() error { return w.Run(gctx) })
	err = g.Wait()
	log.Info("dev mode stopped", slog.Any("err", err))
	return err
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

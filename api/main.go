// Command api is crunch's HTTP API. It reads its configuration from the
// environment (see README.md) and serves until SIGINT or SIGTERM, then
// drains in-flight requests.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/config"
	"github.com/crunchjobs/crunch/internal/logging"
	"github.com/crunchjobs/crunch/internal/redisconn"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q: the api is configured through the environment", args)
	}
	common, cfg, err := config.API(getenv)
	if err != nil {
		return err
	}
	log, err := logging.New(os.Stderr, common.LogLevel)
	if err != nil {
		return err
	}
	cfg.Logger = log
	rdb, err := redisconn.Open(common.RedisURL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	srv, err := api.New(cfg, rdb)
	if err != nil {
		return err
	}
	return srv.ListenAndServe(ctx, 15*time.Second)
}

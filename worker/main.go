// Command worker runs crunch's chunk, reduce and webhook tasks. Run any
// number of replicas against one Redis. It reads its configuration from the
// environment (see README.md) and on SIGINT or SIGTERM stops taking tasks
// and lets running chunks finish before it exits.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/crunchjobs/crunch/internal/config"
	"github.com/crunchjobs/crunch/internal/logging"
	"github.com/crunchjobs/crunch/internal/redisconn"
	"github.com/crunchjobs/crunch/internal/worker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q: the worker is configured through the environment", args)
	}
	common, cfg, err := config.Worker(getenv)
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
	w, err := worker.New(cfg, rdb)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

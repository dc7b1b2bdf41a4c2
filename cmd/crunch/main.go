// Command crunch is the crunch command line. "crunch dev" runs the whole
// system in one process for trying it out; "crunch submit", "wait" and the
// other client commands call a running API through package client.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "crunch:", err)
		os.Exit(1)
	}
}

const usage = `usage: crunch <command> [arguments]

commands:
  dev       run the API and a worker in one process; with REDIS_URL unset, on an
            embedded in-memory Redis (nothing is kept when it exits)

  submit [-wait] [-chunks N] [-priority P] [-timeout S] [-idempotency-key K] <kernel> [param=value ...]
            submit a job; a value is JSON when it parses as JSON (to=1e8,
            values=[1,2.5]), else a string (text=hello); flags go before the kernel
  get <id>       print a job
  wait <id>      follow a job until it ends (progress on stderr), print it, and
                 exit 1 unless it succeeded
  cancel <id>    cancel a job
  chunks <id>    print a job's chunks
  artifact <id>  write a job's file (mandelbrot: PNG) to stdout
  list [-status S] [-kernel K] [-limit N] [-cursor C]
                 list jobs, newest first
  kernels        list the kernels and their params' JSON Schema

The client commands call the API at CRUNCH_URL (default http://localhost:8080)
with the bearer key CRUNCH_API_KEY, if set.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "dev":
		return runDev(ctx, args[1:], getenv, stdout, stderr)
	case "submit":
		return runSubmit(ctx, args[1:], getenv, stdout, stderr)
	case "get", "wait", "cancel", "chunks", "artifact":
		return runJob(ctx, args[0], args[1:], getenv, stdout, stderr)
	case "list":
		return runList(ctx, args[1:], getenv, stdout, stderr)
	case "kernels":
		return runKernels(ctx, args[1:], getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

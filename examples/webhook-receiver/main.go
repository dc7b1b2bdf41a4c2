// Command webhook-receiver is an example receiver of crunch's webhooks: a
// small HTTP server that verifies each delivery's Standard Webhooks
// signature (github.com/standard-webhooks/standard-webhooks/libraries/go),
// drops duplicates by their webhook-id, and prints one JSON line per new
// event on stdout. Copy it as the start of your own.
//
//	CRUNCH_WEBHOOK_SECRET=whsec_… go run ./examples/webhook-receiver -addr :8000
//
// Without CRUNCH_WEBHOOK_SECRET it asks the API at CRUNCH_URL (with
// CRUNCH_API_KEY) for the caller's secret, GET /v1/webhooks/secret. Then
// submit jobs with "webhook": {"url": "http://<this host>:8000/hooks/crunch"}.
//
// Why each check matters:
//   - The signature proves that crunch sent the bytes: anyone can POST to
//     a public URL. The library also refuses a timestamp more than five
//     minutes from this host's clock, so a captured delivery cannot be
//     replayed later.
//   - crunch delivers at least once: when an answer is lost (a timeout, a
//     restart), it delivers the same event again, with the same webhook-id
//     and a new timestamp and signature. The receiver remembers the ids it
//     handled, answers 200 to the repeats, and does the work once.
//   - A handler that fails answers 500 and forgets the id, so that the
//     retry (5 s, 5 min, 30 min, … later) is handled afresh.
//
// The ids are remembered in memory, which is enough for one replica; a
// receiver running on several hosts keeps them in a shared store (a
// database row with a unique key on webhook-id, or Redis SET NX).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/crunchjobs/crunch/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "webhook-receiver:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. It prints "listening on ADDR" on stderr once
// it accepts deliveries.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("webhook-receiver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", ":8000", "listen address")
	path := fs.String("path", "/hooks/crunch", "the URL path deliveries are POSTed to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secret := getenv("CRUNCH_WEBHOOK_SECRET")
	if secret == "" {
		base := getenv("CRUNCH_URL")
		if base == "" {
			return errors.New("set CRUNCH_WEBHOOK_SECRET, or CRUNCH_URL (and CRUNCH_API_KEY) to ask the API for it")
		}
		var err error
		secret, err = client.New(base, client.WithAPIKey(getenv("CRUNCH_API_KEY"))).WebhookSecret(ctx)
		if err != nil {
			return fmt.Errorf("get the webhook secret: %w", err)
		}
	}

	log := slog.New(slog.NewTextHandler(stderr, nil))
	var mu sync.Mutex
	out := json.NewEncoder(stdout)
	rc, err := NewReceiver(Config{
		Secret: secret,
		Logger: log,
		Handle: func(_ context.Context, webhookID string, e Event) error {
			// Your work goes here. This example prints the event.
			mu.Lock()
			defer mu.Unlock()
			return out.Encode(map[string]any{
				"webhook_id": webhookID, "type": e.Type, "job": e.Data.ID, "kernel": e.Data.Kernel,
				"status": e.Data.Status, "result": e.Data.Result, "error": e.Data.Error,
			})
		},
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(*path, rc)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "listening on %s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}

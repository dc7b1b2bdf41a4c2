// Package program is what every crunch binary does around its work: run
// until SIGINT or SIGTERM, and turn an error into a message and exit
// status 1. It exists so that the mains, crunch's own and users', stay a
// line or two long.
package program

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Main runs run with a context that is canceled on SIGINT or SIGTERM and
// exits with status 1 if it fails, printing "name: error" to stderr.
func Main(name string, run func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/crunchjobs/crunch/devserver"
)

// runDev runs the API and one worker in this process, on REDIS_URL or, when
// it is unset, on an embedded in-memory Redis.
func runDev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("dev takes no arguments, got %q", args)
	}
	return devserver.Run(ctx, devserver.Options{Getenv: getenv, Stdout: stdout, Stderr: stderr})
}

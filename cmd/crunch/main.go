// Command crunch is the crunch command line. "crunch dev" runs the whole
// system in one process for trying it out; "crunch submit", "wait" and the
// other client commands call a running API through package client.
//
// The commands are github.com/spf13/cobra commands (which give "crunch
// completion bash|zsh|fish"), built by newRoot around the same run function
// that tests call in-process. The exit code tells scripts how a command
// ended: see exitCode.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "crunch:", err)
	}
	os.Exit(exitCode(err))
}

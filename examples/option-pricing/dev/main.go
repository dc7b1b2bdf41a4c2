// Command dev runs the option-pricing example's API and one worker in one
// process, on an embedded in-memory Redis unless REDIS_URL is set, for
// trying the kernel out:
//
//	go run ./examples/option-pricing/dev
//	curl -s -XPOST localhost:8080/v1/jobs -d '{"kernel":"european-option","params":{"spot":100,"strike":100,"rate":0.05,"volatility":0.2,"maturity":1,"paths":1e7}}'
//
// Nothing is durable without REDIS_URL: every job is lost when it exits.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/crunchjobs/crunch/devserver"
	"github.com/crunchjobs/crunch/examples/option-pricing/pricing"
	"github.com/crunchjobs/crunch/tasks"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := devserver.Run(ctx, devserver.Options{
		Specs:   []tasks.Spec{pricing.Spec{}},
		Runners: []tasks.Runner{pricing.Runner{}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		os.Exit(1)
	}
}

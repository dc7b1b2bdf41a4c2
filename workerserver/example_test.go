package workerserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/crunchjobs/crunch/apiserver"
	"github.com/crunchjobs/crunch/client"
	"github.com/crunchjobs/crunch/examples/option-pricing/pricing"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/workerserver"
)

// Two workers running the option-pricing example's kernel, and only it
// (NoBuiltins), with an API that offers only it: each chunk of a job goes
// to whichever worker is free, and the result does not depend on which
// ran what.
// They are usually separate programs (see Main); here they are goroutines
// of one, and Getenv stands in for their environments.
func ExampleRun() {
	redisURL, namespace := redistest.ForExample()
	addr := redistest.FreeAddr()
	env := func(id string) func(string) string {
		m := map[string]string{"REDIS_URL": redisURL, "CRUNCH_NAMESPACE": namespace, "CRUNCH_HTTP_ADDR": addr,
			"CRUNCH_WORKER_ID": id, "CRUNCH_WORKER_CONCURRENCY": "1"}
		return func(k string) string { return m[k] }
	}

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 3)
	go func() {
		done <- apiserver.Run(ctx, apiserver.Options{NoBuiltins: true, Specs: []tasks.Spec{pricing.Spec{}},
			Getenv: env(""), Stderr: io.Discard})
	}()
	for _, id := range []string{"pricer-1", "pricer-2"} {
		go func() {
			done <- workerserver.Run(ctx, workerserver.Options{NoBuiltins: true, Runners: []tasks.Runner{pricing.Runner{}},
				Getenv: env(id), Stderr: io.Discard})
		}()
	}

	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	c := client.New("http://"+addr, client.WithHTTPClient(&http.Client{Transport: transport}))
	waitReady(c)
	kernels, err := c.Kernels(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(kernels), kernels[0].Name)

	params := map[string]any{"spot": 42, "strike": 40, "rate": 0.1, "volatility": 0.2, "maturity": 0.5, "paths": 200000}
	job, err := c.Submit(ctx, client.JobRequest{Kernel: "european-option", Params: params, Chunks: 8})
	if err != nil {
		log.Fatal(err)
	}
	job, err = c.Wait(ctx, job.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	var res pricing.Result
	if err := json.Unmarshal(job.Result, &res); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s in %d chunks: call %.4f ± %.4f (Black–Scholes %.4f), put %.4f ± %.4f (%.4f)\n",
		job.Status, job.Chunks.Total, res.Call.Price, res.Call.Stderr, res.Call.BlackScholes,
		res.Put.Price, res.Put.Stderr, res.Put.BlackScholes)

	stop()
	fmt.Println(<-done, <-done, <-done)
	// Output:
	// 1 european-option
	// succeeded in 8 chunks: call 4.7624 ± 0.0111 (Black–Scholes 4.7594), put 0.8048 ± 0.0041 (0.8086)
	// <nil> <nil> <nil>
}

// waitReady waits until the API answers.
func waitReady(c *client.Client) {
	for range 500 {
		if _, err := c.Kernels(context.Background()); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	log.Fatal("the API did not start")
}

// A worker program of your own is one line: crunch's worker with your
// kernels' Runners beside the built-ins. Run as many as you like against
// one Redis; each reads REDIS_URL, CRUNCH_WORKER_CONCURRENCY and the rest
// from the environment, and on SIGINT or SIGTERM finishes its running
// chunks and exits.
func ExampleMain() {
	workerserver.Main(workerserver.Options{Runners: []tasks.Runner{pricing.Runner{}}})
}

// Options.Configure changes any setting in code, after the environment
// was read.
func ExampleOptions_configure() {
	workerserver.Main(workerserver.Options{
		Runners: []tasks.Runner{pricing.Runner{}},
		Configure: func(cfg *workerserver.Config) {
			cfg.Concurrency = 2
		},
	})
}

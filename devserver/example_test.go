package devserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/crunchjobs/crunch/client"
	"github.com/crunchjobs/crunch/devserver"
	"github.com/crunchjobs/crunch/examples/option-pricing/pricing"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/tasks"
)

// The API and one worker in one process, with the option-pricing
// example's kernel beside the built-ins, on the Redis that REDIS_URL
// names. Getenv stands in for the environment.
func ExampleRun() {
	redisURL, namespace := redistest.ForExample()
	addr := redistest.FreeAddr()
	env := map[string]string{"REDIS_URL": redisURL, "CRUNCH_NAMESPACE": namespace, "CRUNCH_HTTP_ADDR": addr}
	price(addr, func(k string) string { return env[k] })
	// Output:
	// succeeded: call 10.4630 ± 0.0467, put 5.5849 ± 0.0274
	// stopped: <nil>
}

// With REDIS_URL unset, Run embeds an in-memory Redis (and warns, on
// Stderr, that nothing is durable): nothing to install to try a kernel.
func ExampleRun_embeddedRedis() {
	addr := redistest.FreeAddr()
	price(addr, func(k string) string {
		if k == "CRUNCH_HTTP_ADDR" {
			return addr
		}
		return ""
	})
	// Output:
	// succeeded: call 10.4630 ± 0.0467, put 5.5849 ± 0.0274
	// stopped: <nil>
}

// price runs devserver on addr, prices an option and stops it.
func price(addr string, getenv func(string) string) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- devserver.Run(ctx, devserver.Options{
			Specs:   []tasks.Spec{pricing.Spec{}},
			Runners: []tasks.Runner{pricing.Runner{}},
			Getenv:  getenv,
			Stdout:  io.Discard, // the banner: how to submit a job
			Stderr:  io.Discard, // the logs
		})
	}()

	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	c := client.New("http://"+addr, client.WithHTTPClient(&http.Client{Transport: transport}))
	waitReady(c)
	params := map[string]any{"spot": 100, "strike": 100, "rate": 0.05, "volatility": 0.2, "maturity": 1, "paths": 100000, "seed": 7}
	job, err := c.Submit(ctx, client.JobRequest{Kernel: "european-option", Params: params})
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
	fmt.Printf("%s: call %.4f ± %.4f, put %.4f ± %.4f\n", job.Status, res.Call.Price, res.Call.Stderr, res.Put.Price, res.Put.Stderr)
	stop()
	fmt.Println("stopped:", <-done)
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

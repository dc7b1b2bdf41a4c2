package client_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"time"

	"github.com/crunchjobs/crunch/client"
	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/devredis"
	"github.com/crunchjobs/crunch/internal/redisconn"
	"github.com/crunchjobs/crunch/internal/worker"
)

func Example() {
	baseURL, stop := startCrunch() // an API and a worker, as "crunch dev" runs them
	defer stop()

	ctx := context.Background()
	c := client.New(baseURL)
	job, err := c.Submit(ctx, client.JobRequest{
		Kernel: "stats",
		Params: map[string]any{"values": []float64{1e16, 1, -1e16, 3.5}},
		Chunks: 2,
	})
	if err != nil {
		log.Fatal(err)
	}
	job, err = c.Wait(ctx, job.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(job.Status, string(job.Result))

	_, err = c.Submit(ctx, client.JobRequest{Kernel: "primes", Params: map[string]any{"to": -1}})
	fmt.Println(err)
	// Output:
	// succeeded {"count":4,"sum":4.5,"mean":1.125,"min":-10000000000000000,"max":10000000000000000,"variance":5e+31,"stddev":7071067811865475}
	// 422 Unprocessable Entity: The request has invalid fields; see errors. [params.to: must be an integer from 1 to 1000000000000]
}

// startCrunch runs an API and a worker in this process on an embedded,
// in-memory Redis, and returns the API's URL.
func startCrunch() (baseURL string, stop func()) {
	redisURL, stopRedis, err := devredis.Start()
	if err != nil {
		log.Fatal(err)
	}
	rdb, err := redisconn.Open(redisURL)
	if err != nil {
		log.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := api.New(api.Config{Logger: quiet}, rdb)
	if err != nil {
		log.Fatal(err)
	}
	w, err := worker.New(worker.Config{Logger: quiet}, rdb)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = srv.Serve(ctx, ln, time.Second); done <- struct{}{} }()
	go func() { _ = w.Run(ctx); done <- struct{}{} }()
	return "http://" + ln.Addr().String(), func() {
		cancel()
		<-done
		<-done
		rdb.Close()
		stopRedis()
	}
}

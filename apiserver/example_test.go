package apiserver_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"github.com/crunchjobs/crunch/apiserver"
	"github.com/crunchjobs/crunch/client"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/workerserver"
)

// sumSquares is a kernel of your own, both halves: the sum of i² for
// 0 ≤ i < n. Its work is the range [0, n); a chunk sums its part of it.
type sumSquares struct{}

func (sumSquares) Name() string         { return "sumsq" }
func (sumSquares) Description() string  { return "The sum of i² for 0 ≤ i < n." }
func (sumSquares) ArtifactType() string { return "" }
func (sumSquares) ParamsSchema() json.RawMessage {
	return json.RawMessage(`{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
  "properties": {"n": {"type": "integer", "minimum": 1, "maximum": 1000000, "description": "How many squares."}},
  "required": ["n"], "additionalProperties": false}`)
}

// Prepare is the API half: validate, fill defaults, size the work.
func (sumSquares) Prepare(raw json.RawMessage) (*tasks.Prepared, error) {
	p := tasks.NewParams(raw)
	n := p.RequiredInt("n", 1, 1_000_000)
	if err := p.Err(); err != nil {
		return nil, err // a *tasks.ValidationError: the API answers 422 naming params.n
	}
	echo, _ := json.Marshal(map[string]int64{"n": n})
	return &tasks.Prepared{Params: echo, Extent: n, DefaultChunks: 4}, nil
}

// Run is the worker half: one chunk's partial, 8 bytes. Integer sums do
// not depend on the chunking.
func (sumSquares) Run(ctx context.Context, c tasks.Chunk) ([]byte, error) {
	var sum uint64
	for i := c.Range.Lo; i < c.Range.Hi; i++ {
		if i%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		sum += uint64(i * i)
	}
	return binary.LittleEndian.AppendUint64(nil, sum), nil
}

// Reduce merges the partials, in chunk order, into the result.
func (sumSquares) Reduce(_ context.Context, _ json.RawMessage, _ tasks.Input, partials [][]byte) (*tasks.Output, error) {
	var sum uint64
	for _, b := range partials {
		if len(b) != 8 {
			return nil, errors.New("sumsq: bad partial")
		}
		sum += binary.LittleEndian.Uint64(b)
	}
	out, err := json.Marshal(map[string]uint64{"sum": sum})
	return &tasks.Output{Result: out}, err
}

// An API and a worker with a kernel of your own, in goroutines of one
// program (they are usually two programs, each a line long: see Main).
// Getenv stands in for the environment.
func ExampleRun() {
	redisURL, namespace := redistest.ForExample()
	addr := redistest.FreeAddr()
	env := map[string]string{"REDIS_URL": redisURL, "CRUNCH_NAMESPACE": namespace, "CRUNCH_HTTP_ADDR": addr}
	getenv := func(k string) string { return env[k] }

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() {
		done <- apiserver.Run(ctx, apiserver.Options{Specs: []tasks.Spec{sumSquares{}}, Getenv: getenv, Stderr: io.Discard})
	}()
	go func() {
		done <- workerserver.Run(ctx, workerserver.Options{Runners: []tasks.Runner{sumSquares{}}, Getenv: getenv, Stderr: io.Discard})
	}()

	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	c := client.New("http://"+addr, client.WithHTTPClient(&http.Client{Transport: transport}))
	waitReady(c)
	job, err := c.Submit(ctx, client.JobRequest{Kernel: "sumsq", Params: map[string]int{"n": 1000}, Chunks: 3})
	if err != nil {
		log.Fatal(err)
	}
	job, err = c.Wait(ctx, job.ID, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(job.Status, job.Chunks.Total, string(job.Result))

	_, err = c.Submit(ctx, client.JobRequest{Kernel: "sumsq", Params: map[string]int{"n": 0}})
	fmt.Println(err)

	stop()
	fmt.Println(<-done, <-done)
	// Output:
	// succeeded 3 {"sum":332833500}
	// 422 Unprocessable Entity: The request has invalid fields; see errors. [params.n: must be an integer from 1 to 1000000]
	// <nil> <nil>
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

// A program of your own is one line: crunch's API with your kernels' Specs
// beside the built-ins. It reads REDIS_URL, CRUNCH_HTTP_ADDR and the rest
// from the environment, serves until SIGINT or SIGTERM and exits 1 with a
// message if anything fails.
func ExampleMain() {
	apiserver.Main(apiserver.Options{Specs: []tasks.Spec{sumSquares{}}})
}

// Options.Configure changes any setting in code, after the environment
// was read.
func ExampleOptions_configure() {
	opts := apiserver.Options{
		Specs: []tasks.Spec{sumSquares{}},
		Configure: func(cfg *apiserver.Config) {
			cfg.MaxBodyBytes = 1 << 20
		},
	}
	apiserver.Main(opts)
}

// Options.Kernels are the kernels the API will offer.
func ExampleOptions_Kernels() {
	specs, err := apiserver.Options{Specs: []tasks.Spec{sumSquares{}}}.Kernels()
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range specs {
		fmt.Print(s.Name(), " ")
	}
	fmt.Println()
	// Output:
	// primes pi mandelbrot matmul stats wordcount sumsq
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/crunchjobs/crunch/client"
)

// The client commands talk to the API at CRUNCH_URL with CRUNCH_API_KEY.
const defaultURL = "http://localhost:8080"

// errNotSucceeded makes "crunch wait" (and "submit -wait") exit 1 when the
// job failed or was canceled, so that scripts can test it.
var errNotSucceeded = errors.New("the job did not succeed")

func newClient(getenv func(string) string) *client.Client {
	base := getenv("CRUNCH_URL")
	if base == "" {
		base = defaultURL
	}
	return client.New(base, client.WithAPIKey(getenv("CRUNCH_API_KEY")))
}

// runSubmit is "crunch submit [flags] <kernel> [param=value ...]".
func runSubmit(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("submit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var req client.JobRequest
	fs.IntVar(&req.Chunks, "chunks", 0, "number of chunks (default: the kernel's choice)")
	fs.StringVar(&req.Priority, "priority", "", "high, normal or low")
	fs.IntVar(&req.TimeoutSeconds, "timeout", 0, "timeout of the whole job, in seconds")
	fs.StringVar(&req.IdempotencyKey, "idempotency-key", "", "Idempotency-Key header")
	wait := fs.Bool("wait", false, "follow the job until it ends, and print it then")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("submit: name a kernel (crunch kernels lists them)")
	}
	req.Kernel = fs.Arg(0)
	params, err := parseParams(fs.Args()[1:])
	if err != nil {
		return err
	}
	req.Params = params
	c := newClient(getenv)
	job, err := c.Submit(ctx, req)
	if err != nil {
		return err
	}
	if *wait {
		return waitFor(ctx, c, job.ID, stdout, stderr)
	}
	return printJSON(stdout, job)
}

// parseParams reads param=value arguments. A value is JSON when it parses
// as JSON (to=1e8, values=[1,2.5]) and a string otherwise (text=hello).
func parseParams(args []string) (map[string]json.RawMessage, error) {
	params := map[string]json.RawMessage{}
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("submit: %q is not param=value", a)
		}
		raw := json.RawMessage(value)
		if !json.Valid(raw) {
			raw, _ = json.Marshal(value)
		}
		params[name] = raw
	}
	return params, nil
}

// runJob is the commands that take one job id: get, wait, cancel, chunks,
// artifact.
func runJob(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("%s: give one job id", cmd)
	}
	c, id := newClient(getenv), args[0]
	switch cmd {
	case "get":
		job, err := c.Get(ctx, id)
		if err != nil {
			return err
		}
		return printJSON(stdout, job)
	case "wait":
		return waitFor(ctx, c, id, stdout, stderr)
	case "cancel":
		job, err := c.Cancel(ctx, id)
		if err != nil {
			return err
		}
		return printJSON(stdout, job)
	case "chunks":
		chunks, err := c.Chunks(ctx, id)
		if err != nil {
			return err
		}
		return printJSON(stdout, chunks)
	default: // "artifact"
		b, _, err := c.Artifact(ctx, id)
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	}
}

// waitFor follows a job, printing its progress to stderr, and prints it
// once it ended.
func waitFor(ctx context.Context, c *client.Client, id string, stdout, stderr io.Writer) error {
	job, err := c.Wait(ctx, id, func(j *client.Job) {
		fmt.Fprintf(stderr, "%s %s %d/%d chunks\n", j.ID, j.Status, j.Chunks.Done, j.Chunks.Total)
	})
	if err != nil {
		return err
	}
	if err := printJSON(stdout, job); err != nil {
		return err
	}
	if job.Status != client.StatusSucceeded {
		return errNotSucceeded
	}
	return nil
}

// runList is "crunch list [-status S] [-kernel K] [-limit N] [-cursor C]".
func runList(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts client.ListOptions
	fs.Func("status", "only jobs with this status", func(s string) error { opts.Status = client.Status(s); return nil })
	fs.StringVar(&opts.Kernel, "kernel", "", "only jobs of this kernel")
	fs.IntVar(&opts.Limit, "limit", 0, "jobs per page, 1-1000 (default 50)")
	fs.StringVar(&opts.Cursor, "cursor", "", "the next_cursor of the previous page")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("list takes no arguments, got %q", fs.Args())
	}
	page, err := newClient(getenv).List(ctx, opts)
	if err != nil {
		return err
	}
	return printJSON(stdout, page)
}

// runKernels is "crunch kernels".
func runKernels(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("kernels takes no arguments, got %q", args)
	}
	kernels, err := newClient(getenv).Kernels(ctx)
	if err != nil {
		return err
	}
	return printJSON(stdout, kernels)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

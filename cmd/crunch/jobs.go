package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crunchjobs/crunch/client"
)

// The client commands talk to the API at CRUNCH_URL with CRUNCH_API_KEY.
const defaultURL = "http://localhost:8080"

func newClient(getenv func(string) string) *client.Client {
	base := getenv("CRUNCH_URL")
	if base == "" {
		base = defaultURL
	}
	return client.New(base, client.WithAPIKey(getenv("CRUNCH_API_KEY")))
}

// progressFlag is the -progress flag of submit and wait.
type progressFlag struct{ mode string }

func (f *progressFlag) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.mode, "progress", "auto",
		"how to show progress on stderr: auto (a bar on a terminal, else lines), bar, lines or none")
	_ = cmd.RegisterFlagCompletionFunc("progress", cobra.FixedCompletions(
		[]string{"auto", progressBar, progressLines, progressNone}, cobra.ShellCompDirectiveNoFileComp))
}

// resolve turns auto into bar or lines, by whether stderr is a terminal.
func (f *progressFlag) resolve(e *env) (string, error) {
	switch f.mode {
	case "auto":
		if terminal(e.stderr, e.getenv) {
			return progressBar, nil
		}
		return progressLines, nil
	case progressBar, progressLines, progressNone:
		return f.mode, nil
	default:
		return "", usagef("-progress %q: use auto, bar, lines or none", f.mode)
	}
}

// newSubmitCmd is "crunch submit [flags] <kernel> [param=value ...]".
func newSubmitCmd(e *env) *cobra.Command {
	var (
		req      client.JobRequest
		wait     bool
		retries  int
		events   []string
		webhook  string
		metadata string
		prog     progressFlag
	)
	cmd := &cobra.Command{
		Use:   "submit [flags] <kernel> [param=value ...]",
		Short: "Submit a job, and with -wait follow it to its end",
		Long: `Submit a job of a kernel ("crunch kernels" lists them) with its params as
name=value arguments. A value is JSON when it parses as JSON (to=1e8,
values=[1,2.5]), else a string (text=hello).

With -wait, crunch follows the job, showing its progress on stderr, prints it
once it ended and exits with the job's exit code (0 succeeded, 1 failed,
3 canceled, 4 timed out).`,
		Example: `  crunch submit -wait -chunks 16 primes to=1e10
  crunch submit -o json stats 'values=[1e16,1,-1e16,3.5]'`,
		GroupID: "jobs",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("submit: name a kernel (crunch kernels lists them)")
			}
			req.Kernel = args[0]
			params, err := parseParams(args[1:])
			if err != nil {
				return err
			}
			req.Params = params
			if cmd.Flags().Changed("max-retries") {
				req.MaxRetries = &retries
			}
			if webhook != "" {
				req.Webhook = &client.Webhook{URL: webhook, Events: events}
			} else if len(events) > 0 {
				return usagef("submit: -webhook-events needs -webhook")
			}
			if metadata != "" {
				if err := json.Unmarshal([]byte(metadata), &req.Metadata); err != nil {
					return usagef("submit: -metadata must be a JSON object: %v", err)
				}
			}
			mode, err := prog.resolve(e)
			if err != nil {
				return err
			}
			c := newClient(e.getenv)
			job, err := c.Submit(cmd.Context(), req)
			if err != nil {
				return err
			}
			if wait {
				return waitFor(cmd.Context(), e, c, job.ID, mode)
			}
			return e.printer().job(job)
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return completeKernels(e)(cmd, args, prefix)
			}
			return completeParams(e, cmd, args[0], prefix)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&wait, "wait", false, "follow the job until it ends, and print it then")
	f.IntVar(&req.Chunks, "chunks", 0, "number of chunks (default: the kernel's choice)")
	f.StringVar(&req.Priority, "priority", "", "high, normal or low")
	f.IntVar(&req.TimeoutSeconds, "timeout", 0, "timeout of the whole job, in seconds")
	f.IntVar(&retries, "max-retries", 0, "retries of each chunk, 0-10 (default 3)")
	f.StringVar(&req.IdempotencyKey, "idempotency-key", "", "Idempotency-Key header")
	f.StringVar(&webhook, "webhook", "", "URL to POST signed notifications of the job's events to")
	f.StringSliceVar(&events, "webhook-events", nil, "events to notify (default job.succeeded,job.failed,job.canceled)")
	f.StringVar(&metadata, "metadata", "", `JSON object echoed back with the job, such as '{"customer":"42"}'`)
	prog.add(cmd)
	_ = cmd.RegisterFlagCompletionFunc("priority", cobra.FixedCompletions([]string{"high", "normal", "low"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("webhook-events", cobra.FixedCompletions(
		[]string{"job.started", "job.succeeded", "job.failed", "job.canceled"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// completeParams completes "name=" for the params of kernel.
func completeParams(e *env, cmd *cobra.Command, kernel, prefix string) ([]string, cobra.ShellCompDirective) {
	ctx, cancel := completionContext(cmd)
	defer cancel()
	kernels, err := newClient(e.getenv).Kernels(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out []string
	for _, k := range kernels {
		if k.Name != kernel {
			continue
		}
		for _, name := range paramNames(k.ParamsSchema) {
			name = strings.TrimSuffix(name, "*") + "="
			if strings.HasPrefix(name, prefix) {
				out = append(out, name)
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// parseParams reads param=value arguments. A value is JSON when it parses
// as JSON (to=1e8, values=[1,2.5]) and a string otherwise (text=hello).
func parseParams(args []string) (map[string]json.RawMessage, error) {
	params := map[string]json.RawMessage{}
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return nil, usagef("submit: %q is not param=value", a)
		}
		raw := json.RawMessage(value)
		if !json.Valid(raw) {
			raw, _ = json.Marshal(value)
		}
		params[name] = raw
	}
	return params, nil
}

// jobCmd is a command that takes one job id.
func jobCmd(e *env, use, short string, run func(ctx context.Context, c *client.Client, id string) error) *cobra.Command {
	return &cobra.Command{
		Use:               use + " <id>",
		Short:             short,
		GroupID:           "jobs",
		Args:              exactlyOneID(use),
		ValidArgsFunction: completeJobIDs(e),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), newClient(e.getenv), args[0])
		},
	}
}

func exactlyOneID(cmd string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usagef("%s: give one job id", cmd)
		}
		return nil
	}
}

// completeJobIDs completes the ids of the newest jobs, described by their
// kernel and status.
func completeJobIDs(e *env) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := completionContext(cmd)
		defer cancel()
		page, err := newClient(e.getenv).List(ctx, client.ListOptions{Limit: 100})
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var ids []string
		for _, j := range page.Jobs {
			if strings.HasPrefix(j.ID, prefix) {
				ids = append(ids, fmt.Sprintf("%s\t%s %s", j.ID, j.Kernel, j.Status))
			}
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
}

func newGetCmd(e *env) *cobra.Command {
	return jobCmd(e, "get", "Print a job", func(ctx context.Context, c *client.Client, id string) error {
		job, err := c.Get(ctx, id)
		if err != nil {
			return err
		}
		return e.printer().job(job)
	})
}

func newWaitCmd(e *env) *cobra.Command {
	var prog progressFlag
	cmd := jobCmd(e, "wait", "Follow a job until it ends, and print it", func(ctx context.Context, c *client.Client, id string) error {
		mode, err := prog.resolve(e)
		if err != nil {
			return err
		}
		// Fail fast on an unknown job or an API that cannot be reached;
		// once following, Wait reconnects through outages.
		if _, err := c.Get(ctx, id); err != nil {
			return err
		}
		return waitFor(ctx, e, c, id, mode)
	})
	cmd.Long = `Follow a job until it ends, showing its progress on stderr (a bar on a
terminal, plain lines otherwise), then print it. The exit code is the job's:
0 succeeded, 1 failed, 3 canceled, 4 timed out.`
	prog.add(cmd)
	return cmd
}

func newCancelCmd(e *env) *cobra.Command {
	return jobCmd(e, "cancel", "Cancel a queued or running job", func(ctx context.Context, c *client.Client, id string) error {
		job, err := c.Cancel(ctx, id)
		if err != nil {
			return err
		}
		return e.printer().job(job)
	})
}

func newChunksCmd(e *env) *cobra.Command {
	return jobCmd(e, "chunks", "Print a job's chunks", func(ctx context.Context, c *client.Client, id string) error {
		chunks, err := c.Chunks(ctx, id)
		if err != nil {
			return err
		}
		return e.printer().chunks(chunks)
	})
}

func newArtifactCmd(e *env) *cobra.Command {
	cmd := jobCmd(e, "artifact", "Write a job's file (mandelbrot: PNG) to stdout", func(ctx context.Context, c *client.Client, id string) error {
		b, _, err := c.Artifact(ctx, id)
		if err != nil {
			return err
		}
		_, err = e.stdout.Write(b)
		return err
	})
	cmd.Example = "  crunch artifact job_01J... > mandelbrot.png"
	return cmd
}

// waitFor follows a job, showing its progress on stderr, and prints it
// once it ended. A job that did not succeed is a *jobEndedError.
func waitFor(ctx context.Context, e *env, c *client.Client, id, mode string) error {
	prog := newProgress(e.stderr, mode)
	job, err := c.Wait(ctx, id, prog.update)
	prog.finish(job)
	if err != nil {
		return err
	}
	if err := e.printer().job(job); err != nil {
		return err
	}
	if job.Status != client.StatusSucceeded {
		return &jobEndedError{job: job}
	}
	return nil
}

// listFlags are the filters of list and watch.
func listFlags(cmd *cobra.Command, e *env, opts *client.ListOptions, limit int) {
	f := cmd.Flags()
	f.Func("status", "only jobs with this status", func(s string) error { opts.Status = client.Status(s); return nil })
	f.StringVar(&opts.Kernel, "kernel", "", "only jobs of this kernel")
	f.IntVar(&opts.Limit, "limit", limit, "jobs per page, 1-1000")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{
		string(client.StatusQueued), string(client.StatusRunning), string(client.StatusSucceeded),
		string(client.StatusFailed), string(client.StatusCanceled),
	}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("kernel", completeKernels(e))
}

// newListCmd is "crunch list [-status S] [-kernel K] [-limit N] [-cursor C]".
func newListCmd(e *env) *cobra.Command {
	var opts client.ListOptions
	cmd := &cobra.Command{
		Use:               "list",
		Short:             "List jobs, newest first",
		GroupID:           "jobs",
		Args:              noArgs("list"),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			page, err := newClient(e.getenv).List(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if err := e.printer().jobs(page); err != nil {
				return err
			}
			if page.NextCursor != nil && !e.printer().json() {
				fmt.Fprintf(e.stderr, "more: crunch list -cursor %s\n", *page.NextCursor)
			}
			return nil
		},
	}
	listFlags(cmd, e, &opts, 0)
	cmd.Flags().Lookup("limit").Usage = "jobs per page, 1-1000 (default 50)"
	cmd.Flags().StringVar(&opts.Cursor, "cursor", "", "the next_cursor of the previous page")
	return cmd
}

func noArgs(cmd string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef("%s takes no arguments, got %q", cmd, args)
		}
		return nil
	}
}

// newWatchCmd is "crunch watch": a live list of the newest jobs.
func newWatchCmd(e *env) *cobra.Command {
	opts := watchOptions{}
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Show the newest jobs live, until Ctrl-C",
		Long: `Show the newest jobs (at most -limit), refreshed every -interval, until
Ctrl-C (which exits 0) or -count refreshes. On a terminal the table is redrawn
in place; otherwise (a pipe, a log) crunch prints a line for each job whose
status or chunk count changed, or with -o json one JSON object per change.`,
		GroupID:           "jobs",
		Args:              noArgs("watch"),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.list.Limit < 1 || opts.list.Limit > 1000 {
				return usagef("watch: -limit must be 1-1000")
			}
			if opts.interval < 100*time.Millisecond {
				return usagef("watch: -interval must be at least 100ms")
			}
			opts.live = terminal(e.stdout, e.getenv) && !e.printer().json()
			return watch(cmd.Context(), newClient(e.getenv), opts, e.printer())
		},
	}
	listFlags(cmd, e, &opts.list, 20)
	cmd.Flags().Lookup("limit").Usage = "jobs shown (the newest), 1-1000"
	cmd.Flags().DurationVar(&opts.interval, "interval", 2*time.Second, "time between refreshes")
	cmd.Flags().IntVar(&opts.count, "count", 0, "exit after this many refreshes (default: run until Ctrl-C)")
	return cmd
}

// newKernelsCmd is "crunch kernels".
func newKernelsCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:               "kernels",
		Short:             "List the kernels and their params (-o json: with their JSON Schema)",
		GroupID:           "jobs",
		Args:              noArgs("kernels"),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, _ []string) error {
			kernels, err := newClient(e.getenv).Kernels(cmd.Context())
			if err != nil {
				return err
			}
			return e.printer().kernels(kernels)
		},
	}
}

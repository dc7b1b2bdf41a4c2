package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// env is what every command gets from run: the environment and the two
// output streams.
type env struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	output         string // -o
	now            func() time.Time
}

func (e *env) printer() printer { return printer{w: e.stdout, format: e.output, now: e.now} }

// run runs the crunch command line args. It is main without the process:
// tests call it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdout: stdout, stderr: stderr, now: time.Now}
	root, started := newRoot(e)
	root.SetArgs(longFlags(root, args))
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return nil
	case !*started:
		// cobra refused the command line before any command ran: an
		// unknown command or flag, a missing or extra argument.
		var u *usageError
		if !errors.As(err, &u) {
			err = &usageError{err: err}
		}
		return err
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return fmt.Errorf("interrupted: %w", err)
	default:
		return err
	}
}

// newRoot builds the command tree. started is set once a command's own
// code begins to run, after cobra accepted the command line.
func newRoot(e *env) (*cobra.Command, *bool) {
	started := new(bool)
	root := &cobra.Command{
		Use:   "crunch",
		Short: "Run and follow crunch jobs",
		Long: `crunch is the command line of the crunch job service.

"crunch dev" runs the API and a worker in one process. The other commands
call the API at CRUNCH_URL (default http://localhost:8080) with the bearer key
CRUNCH_API_KEY, if set.

Flags may be written with one dash or two (-wait, --wait).

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			*started = true
			if e.output != formatText && e.output != formatJSON {
				return usagef("-o %q: use text or json", e.output)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(e.stderr)
			_ = cmd.Usage()
			return usagef("no command given")
		},
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetContext(context.Background())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })
	root.PersistentFlags().StringVarP(&e.output, "output", "o", formatText, "output format: text (for people) or json (for scripts)")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{formatText, formatJSON}, cobra.ShellCompDirectiveNoFileComp))

	root.AddGroup(&cobra.Group{ID: "jobs", Title: "Jobs:"}, &cobra.Group{ID: "system", Title: "Running crunch:"})
	root.AddCommand(
		newDevCmd(e),
		newSubmitCmd(e), newGetCmd(e), newWaitCmd(e), newCancelCmd(e), newChunksCmd(e),
		newArtifactCmd(e), newListCmd(e), newWatchCmd(e), newKernelsCmd(e),
	)
	root.SetHelpCommandGroupID("system")
	root.SetCompletionCommandGroupID("system")
	return root, started
}

// newDevCmd is "crunch dev", whose flags and arguments runDev parses.
func newDevCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "dev",
		Short: "Run the API and a worker in one process",
		Long: `Run the API and a worker in one process; with REDIS_URL unset, on an
embedded in-memory Redis (nothing is kept when it exits). It reads the same
environment as the api and worker binaries.`,
		GroupID:            "system",
		DisableFlagParsing: true,
		ValidArgsFunction:  cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
				return cmd.Help()
			}
			return runDev(cmd.Context(), args, e.getenv, e.stdout, e.stderr)
		},
	}
}

// singleDash is a flag written with one dash, as Go's flag package (which
// crunch used first) takes long flags: -wait, -chunks=3.
var singleDash = regexp.MustCompile(`^-([A-Za-z][A-Za-z0-9-]+)(=.*)?$`)

// longFlags rewrites -name into --name for every long flag name of the
// command tree, so that the command lines written for Go's flag package
// keep working with cobra (which would read -wait as -w -a -i -t).
// Shorthands (-o json) and everything after "--" are left alone.
func longFlags(root *cobra.Command, args []string) []string {
	names := map[string]bool{"help": true}
	var visit func(c *cobra.Command)
	visit = func(c *cobra.Command) {
		add := func(f *pflag.Flag) { names[f.Name] = true }
		c.Flags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, sub := range c.Commands() {
			visit(sub)
		}
	}
	visit(root)
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if m := singleDash.FindStringSubmatch(a); m != nil && names[m[1]] {
			out[i] = "-" + a
		}
		if i == 0 && a == "dev" {
			break // runDev reads its own arguments
		}
	}
	return out
}

// completionContext bounds the API calls of shell completion, which a
// shell waits for.
func completionContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), 3*time.Second)
}

// completeKernels completes kernel names from the API.
func completeKernels(e *env) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		ctx, cancel := completionContext(cmd)
		defer cancel()
		kernels, err := newClient(e.getenv).Kernels(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var names []string
		for _, k := range kernels {
			if strings.HasPrefix(k.Name, prefix) {
				names = append(names, k.Name+"\t"+k.Description)
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

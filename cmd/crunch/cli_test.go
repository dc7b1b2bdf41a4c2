package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/client"
)

// cli runs crunch in this process against the API at base.
type cli struct {
	t    *testing.T
	base string
	ctx  context.Context
}

func newCLI(t *testing.T, base string) *cli {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a hang fails the test, not the run
	t.Cleanup(cancel)
	return &cli{t: t, base: base, ctx: ctx}
}

func (c *cli) getenv(k string) string {
	return map[string]string{"CRUNCH_URL": c.base}[k]
}

// run returns stdout, stderr and the exit code crunch args would exit with.
func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	err := run(c.ctx, args, c.getenv, &out, &errOut)
	return out.String(), errOut.String(), exitCode(err)
}

// submit submits a job and returns it.
func (c *cli) submit(args ...string) client.Job {
	c.t.Helper()
	out, errOut, code := c.run(append([]string{"-o", "json", "submit"}, args...)...)
	require.Equal(c.t, exitOK, code, "stderr: %s", errOut)
	var j client.Job
	require.NoError(c.t, json.Unmarshal([]byte(out), &j), "stdout: %s", out)
	return j
}

// Each way a command can end has its own exit code.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	c := newCLI(t, startSystem(t))

	long := c.submit("-chunks", "64", "primes", "to=1e11")
	_, _, code := c.run("cancel", long.ID)
	require.Equal(t, exitOK, code)

	for _, tt := range []struct {
		name string
		args []string
		code int
		// stdout and stderr must contain these, when set
		stdout, stderr string
	}{
		{"succeeded", []string{"submit", "-wait", "-chunks", "3", "stats", "values=[1e16,1,-1e16,3.5]"}, exitOK, "Status    succeeded", "succeeded 3/3 chunks"},
		{"failed", []string{"submit", "-wait", "-max-retries", "0", "fail"}, exitFailed, "Error     kernel_error", "failed"},
		{"canceled", []string{"wait", long.ID}, exitCanceled, "Status    canceled", ""},
		{"timed out", []string{"submit", "-wait", "-timeout", "1", "-chunks", "64", "primes", "to=1e11"}, exitTimedOut, "Error     timeout", ""},
		{"no command", nil, exitUsage, "", "Usage:"},
		{"unknown command", []string{"frobnicate"}, exitUsage, "", ""},
		{"unknown flag", []string{"submit", "-nope", "primes"}, exitUsage, "", ""},
		{"no kernel", []string{"submit"}, exitUsage, "", ""},
		{"not param=value", []string{"submit", "primes", "to"}, exitUsage, "", ""},
		{"no id", []string{"get"}, exitUsage, "", ""},
		{"two ids", []string{"wait", "a", "b"}, exitUsage, "", ""},
		{"extra argument", []string{"list", "extra"}, exitUsage, "", ""},
		{"bad output format", []string{"-o", "yaml", "kernels"}, exitUsage, "", ""},
		{"bad progress mode", []string{"wait", "-progress", "fancy", long.ID}, exitUsage, "", ""},
		{"invalid job", []string{"submit", "primes", "to=-1"}, exitRefused, "", ""},
		{"unknown job", []string{"get", "job_nope"}, exitRefused, "", ""},
		{"cancel a finished job", []string{"cancel", long.ID}, exitRefused, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := c.run(tt.args...)
			require.Equal(t, tt.code, code, "crunch %q\nstdout: %s\nstderr: %s", tt.args, stdout, stderr)
			require.Contains(t, stdout, tt.stdout)
			require.Contains(t, stderr, tt.stderr)
		})
	}

	t.Run("unreachable API", func(t *testing.T) {
		ln := newCLI(t, "http://127.0.0.1:1") // nothing listens on port 1
		for _, args := range [][]string{{"get", "job_x"}, {"wait", "job_x"}, {"submit", "primes", "to=10"}, {"list"}, {"kernels"}, {"watch", "-count", "1"}} {
			_, _, code := ln.run(args...)
			require.Equal(t, exitUnavailable, code, "%q", args)
		}
	})

	t.Run("interrupted", func(t *testing.T) {
		j := c.submit("-chunks", "64", "primes", "to=1e11")
		ctx, cancel := context.WithCancel(c.ctx)
		time.AfterFunc(300*time.Millisecond, cancel)
		err := run(ctx, []string{"wait", j.ID}, c.getenv, io.Discard, io.Discard)
		require.Equal(t, exitInterrupted, exitCode(err), "%v", err)
		_, _, code := c.run("cancel", j.ID)
		require.Equal(t, exitOK, code)
	})

	t.Run("a job error type other than timeout", func(t *testing.T) {
		for _, tt := range []struct {
			job  client.Job
			code int
		}{
			{client.Job{Status: client.StatusFailed, Error: &client.Problem{Type: "timeout"}}, exitTimedOut},
			{client.Job{Status: client.StatusFailed, Error: &client.Problem{Type: "kernel_error"}}, exitFailed},
			{client.Job{Status: client.StatusFailed}, exitFailed},
			{client.Job{Status: client.StatusCanceled, Error: &client.Problem{Type: "canceled"}}, exitCanceled},
		} {
			err := &jobEndedError{job: &tt.job}
			require.Equal(t, tt.code, exitCode(err))
			require.ErrorIs(t, err, errNotSucceeded)
		}
	})
}

// The default output is for people; -o json is the API's JSON.
func TestOutputFormats(t *testing.T) {
	t.Parallel()
	c := newCLI(t, startSystem(t))

	out, _, code := c.run("submit", "-wait", "-progress", "none", "-chunks", "2", "-metadata", `{"customer":"42"}`, "wordcount", "text=Hello world, hello", "top=1")
	require.Equal(t, exitOK, code)
	id := regexp.MustCompile(`(?m)^ID\s+(job_\S+)$`).FindStringSubmatch(out)
	require.NotNil(t, id, "stdout: %s", out)
	for _, want := range []string{"Kernel    wordcount", "Status    succeeded", "Chunks    2/2 done (100%)",
		`Metadata  {"customer":"42"}`, "Result\n  {\n    \"total\": 3,", "Finished  "} {
		require.Contains(t, out, want)
	}

	out, _, code = c.run("-o", "json", "get", id[1])
	require.Equal(t, exitOK, code)
	var j client.Job
	require.NoError(t, json.Unmarshal([]byte(out), &j))
	require.JSONEq(t, `{"total":3,"unique":2,"top":[{"word":"hello","count":2}]}`, string(j.Result))

	out, _, code = c.run("list", "-kernel", "wordcount")
	require.Equal(t, exitOK, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, "a header and one job: %s", out)
	require.Regexp(t, `^ID\s+KERNEL\s+STATUS\s+CHUNKS\s+PROGRESS\s+CREATED\s+ERROR$`, lines[0])
	require.Regexp(t, `^`+id[1]+`\s+wordcount\s+succeeded\s+2/2\s+100%\s+\S+ ago$`, lines[1])

	out, _, code = c.run("-o", "json", "list", "-kernel", "wordcount")
	require.Equal(t, exitOK, code)
	var page client.JobPage
	require.NoError(t, json.Unmarshal([]byte(out), &page))
	require.Len(t, page.Jobs, 1)

	out, _, code = c.run("chunks", id[1])
	require.Equal(t, exitOK, code)
	lines = strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	require.Regexp(t, `^INDEX\s+STATUS\s+WORKER\s+ATTEMPTS\s+DURATION$`, lines[0])
	require.Regexp(t, `^0\s+succeeded\s+worker-\S+\s+1\s+\S+s$`, lines[1])

	out, _, code = c.run("kernels")
	require.Equal(t, exitOK, code)
	require.Regexp(t, `(?m)^primes\s+to\* from\s+`, out)
	require.Regexp(t, `(?m)^wordcount\s+text\* top\s+`, out)

	// A list with more pages says how to get the next one, on stderr.
	c.submit("wordcount", "text=again")
	out, errOut, code := c.run("list", "-kernel", "wordcount", "-limit", "1")
	require.Equal(t, exitOK, code)
	require.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 2)
	require.Regexp(t, `^more: crunch list -cursor \S+\n$`, errOut)
}

// Without a terminal, progress is plain lines: one per status change and
// at most one a second while chunks complete, with the rate and the time
// left.
func TestProgressLines(t *testing.T) {
	t.Parallel()
	c := newCLI(t, startSystem(t))
	_, errOut, code := c.run("submit", "-wait", "-chunks", "40", "sleep") // 2 s on 2 slots
	require.Equal(t, exitOK, code)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	require.Regexp(t, `^job_\S+ succeeded 40/40 chunks$`, lines[len(lines)-1])
	running := 0
	for _, l := range lines[:len(lines)-1] {
		require.Regexp(t, `^job_\S+ (queued|running) \d+/40 chunks( \d+% [0-9.e+]+ chunks/s( eta \S+)?)?$`, l)
		if strings.Contains(l, "eta") {
			running++
		}
	}
	require.Positive(t, running, "a running line with rate and eta: %s", errOut)
	require.Less(t, len(lines), 40, "not one line per chunk")
}

// watch without a terminal prints the changes; -count bounds it.
func TestWatchLines(t *testing.T) {
	t.Parallel()
	c := newCLI(t, startSystem(t))
	done := c.submit("-chunks", "2", "stats", "values=[1,2]")
	_, _, code := c.run("wait", done.ID)
	require.Equal(t, exitOK, code)

	out, _, code := c.run("watch", "-count", "3", "-interval", "100ms")
	require.Equal(t, exitOK, code)
	require.Regexp(t, `^\S+Z `+done.ID+` stats succeeded 2/2 chunks\n$`, out, "one line: the job did not change")

	out, _, code = c.run("-o", "json", "watch", "-count", "2", "-interval", "100ms", "-kernel", "stats")
	require.Equal(t, exitOK, code)
	var j client.Job
	require.NoError(t, json.Unmarshal([]byte(out), &j), "one JSON line: %s", out)
	require.Equal(t, done.ID, j.ID)

	_, _, code = c.run("watch", "-limit", "0")
	require.Equal(t, exitUsage, code)
}

// Completion: the scripts of each shell, and the completions they ask
// crunch for (cobra's __complete protocol) served from the real API.
func TestCompletion(t *testing.T) {
	t.Parallel()
	c := newCLI(t, startSystem(t))
	j := c.submit("stats", "values=[1]")

	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		out, _, code := c.run("completion", shell)
		require.Equal(t, exitOK, code, shell)
		require.Contains(t, out, "__complete", shell)
	}
	script, _, _ := c.run("completion", "bash")
	check := exec.Command("bash", "-n")
	check.Stdin = strings.NewReader(script)
	out, err := check.CombinedOutput()
	require.NoError(t, err, "bash -n: %s", out)

	complete := func(args ...string) []string {
		out, _, code := c.run(append([]string{"__complete"}, args...)...)
		require.Equal(t, exitOK, code)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[:len(lines)-1] // the last line is the directive
	}
	require.Contains(t, complete("submit", "pr"), "primes\tCounts and sums the primes p with from <= p < to (segmented sieve of Eratosthenes).")
	require.Equal(t, []string{"to=", "from="}, complete("submit", "primes", ""), "the required ones first")
	require.True(t, slices.ContainsFunc(complete("get", ""), func(c string) bool { return strings.HasPrefix(c, j.ID+"\tstats ") }),
		"job ids with their kernel and status")
	require.Equal(t, []string{"queued", "running", "succeeded", "failed", "canceled"}, complete("list", "-status", ""))
	require.Equal(t, []string{"text", "json"}, complete("-o", ""))
	require.Contains(t, complete("submit", "--pri"), "--priority\thigh, normal or low")
}

// The crunch binary, as users run it: a progress bar in a real
// pseudo-terminal, the live watch table, the exit status of the process,
// and Ctrl-C.
func TestBinary(t *testing.T) {
	t.Parallel()
	bin := buildCrunch(t)
	base := startSystem(t)
	c := newCLI(t, base)
	command := func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "CRUNCH_URL="+base, "TERM=xterm")
		cmd.WaitDelay = 5 * time.Second
		return cmd
	}
	// inTerminal runs cmd with a pseudo-terminal of 120 columns as its
	// stderr (or, with onStdout, its stdout), and returns what the terminal
	// received so far, whenever asked.
	inTerminal := func(cmd *exec.Cmd, onStdout bool) (screen func() string) {
		ptmx, tty, err := pty.Open()
		require.NoError(t, err)
		require.NoError(t, pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}))
		t.Cleanup(func() { ptmx.Close() })
		if onStdout {
			cmd.Stdout = tty
		} else {
			cmd.Stderr = tty
		}
		require.NoError(t, cmd.Start())
		tty.Close() // the child has its copy
		var mu sync.Mutex
		var got bytes.Buffer
		go func() {
			r := bufio.NewReader(ptmx)
			buf := make([]byte, 4096)
			for {
				n, err := r.Read(buf)
				mu.Lock()
				got.Write(buf[:n])
				mu.Unlock()
				if err != nil {
					return // EIO once the child closed the terminal
				}
			}
		}()
		return func() string { mu.Lock(); defer mu.Unlock(); return got.String() }
	}

	t.Run("progress bar", func(t *testing.T) {
		var stdout bytes.Buffer
		cmd := command(c.ctx, "submit", "-wait", "-chunks", "24", "sleep") // 1.2 s on 2 slots
		cmd.Stdout = &stdout
		screen := inTerminal(cmd, false)
		require.NoError(t, cmd.Wait(), "stderr: %q", screen())
		require.Eventually(t, func() bool { return strings.HasSuffix(screen(), "\n") }, 5*time.Second, 10*time.Millisecond)
		out := screen()
		t.Logf("terminal: %q", out)
		// Redrawn in place: each frame returns to the line's start and
		// clears what is left of the previous one.
		require.Greater(t, strings.Count(out, "\x1b[0K"), 2)
		frames := strings.Split(out, "\r")
		// Frames while it ran show the count, rate and elapsed:remaining time.
		require.Regexp(t, `^job_\S+ running\s+\d+% \[=*>? *\] \(\d+/24, \d+ chunks/(s|min|hr)\) \[\d+s:\d+s\]\x1b\[0K$`, frames[len(frames)/2])
		// The last line, in place of the bar, is the final status.
		// (The terminal turns "\n" into "\r\n".)
		require.Regexp(t, `^\x1b\[2Kjob_\S+ succeeded 24/24 chunks in \S+s$`, frames[len(frames)-2])
		require.Equal(t, "\n", frames[len(frames)-1])
		// stdout is not the terminal: it gets the summary only.
		require.Contains(t, stdout.String(), "Status    succeeded")
		require.NotContains(t, stdout.String(), "\x1b")
	})

	t.Run("watch in a terminal, then Ctrl-C", func(t *testing.T) {
		j := c.submit("-chunks", "2", "stats", "values=[1,2,3]")
		cmd := command(c.ctx, "watch", "-interval", "200ms")
		screen := inTerminal(cmd, true)
		redrawn := regexp.MustCompile(`\x1b\[\d+A`)
		require.Eventually(t, func() bool {
			s := screen()
			return strings.Contains(s, j.ID) && len(redrawn.FindAllString(s, -1)) >= 2
		}, 20*time.Second, 20*time.Millisecond, "screen: %q", screen())
		require.Contains(t, screen(), "crunch watch: ")
		require.Regexp(t, `\r\x1b\[2KID\s+KERNEL\s+STATUS`, screen())
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case err := <-waited:
			require.NoError(t, err, "watch exits 0 on Ctrl-C")
		case <-time.After(3 * time.Second):
			t.Fatal("watch did not exit within 3 s of Ctrl-C")
		}
	})

	t.Run("exit status of the process", func(t *testing.T) {
		long := c.submit("-chunks", "64", "primes", "to=1e11")
		for _, tt := range []struct {
			args []string
			code int
		}{
			{[]string{"kernels"}, exitOK},
			{[]string{"frobnicate"}, exitUsage},
			{[]string{"get", "job_nope"}, exitRefused},
			{[]string{"-o", "json", "cancel", long.ID}, exitOK},
			{[]string{"wait", long.ID}, exitCanceled},
			{[]string{"submit", "-wait", "-max-retries", "0", "fail"}, exitFailed},
		} {
			err := command(c.ctx, tt.args...).Run()
			var exit *exec.ExitError
			if tt.code == exitOK {
				require.NoError(t, err, "%q", tt.args)
			} else {
				require.True(t, errors.As(err, &exit), "%q: %v", tt.args, err)
				require.Equal(t, tt.code, exit.ExitCode(), "%q", tt.args)
			}
		}
		cmd := exec.CommandContext(c.ctx, bin, "list")
		cmd.Env = append(os.Environ(), "CRUNCH_URL=http://127.0.0.1:1")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit))
		require.Equal(t, exitUnavailable, exit.ExitCode())
		require.Contains(t, string(out), "crunch: ")
	})

	t.Run("Ctrl-C while waiting", func(t *testing.T) {
		long := c.submit("-chunks", "64", "primes", "to=1e11")
		defer c.run("cancel", long.ID)
		cmd := command(c.ctx, "wait", "-progress", "lines", long.ID)
		var stderr syncBuffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		require.Eventually(t, func() bool { return strings.Contains(stderr.String(), long.ID) }, 10*time.Second, 10*time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		err := cmd.Wait()
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "%v", err)
		require.Equal(t, exitInterrupted, exit.ExitCode())
		require.Contains(t, stderr.String(), "crunch: interrupted")
	})
}

// syncBuffer is a bytes.Buffer that a child's output and the test can use
// at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

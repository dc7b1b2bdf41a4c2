package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"

	"github.com/crunchjobs/crunch/client"
)

// The exit codes of crunch, documented in its help and in the CLI guide.
// Scripts rely on them: never renumber one, add new ones at the end.
const (
	exitOK          = 0   // the command did what it was asked; a waited-for job succeeded
	exitFailed      = 1   // the waited-for job failed (any error type but timeout)
	exitUsage       = 2   // bad command line: unknown command or flag, missing argument, bad param=value
	exitCanceled    = 3   // the waited-for job was canceled
	exitTimedOut    = 4   // the waited-for job failed with error type "timeout"
	exitRefused     = 5   // the API refused the request (a 4xx problem: invalid job, not found, conflict, no key)
	exitUnavailable = 6   // the API could not be reached or failed (connection, 5xx, broken stream): retrying may help
	exitOther       = 7   // anything else, such as stdout that cannot be written
	exitInterrupted = 130 // Ctrl-C or SIGTERM (128 + SIGINT), except for watch, which ends with 0
)

const exitCodesHelp = `Exit codes:
  0    ok (for wait and submit -wait: the job succeeded)
  1    the job failed
  2    usage error (unknown command or flag, missing argument)
  3    the job was canceled
  4    the job timed out (it failed with error type "timeout")
  5    the API refused the request (4xx: invalid job, not found, conflict, bad key)
  6    the API could not be reached or failed (connection, 5xx): retrying may help
  7    any other error (such as output that cannot be written)
  130  interrupted (Ctrl-C)`

// errNotSucceeded makes "crunch wait" (and "submit -wait") exit non-zero
// when the job failed or was canceled, so that scripts can test it. The
// error returned is a *jobEndedError, which matches it with errors.Is.
var errNotSucceeded = errors.New("the job did not succeed")

// jobEndedError is a waited-for job that ended without succeeding.
type jobEndedError struct{ job *client.Job }

func (e *jobEndedError) Error() string {
	msg := fmt.Sprintf("job %s %s", e.job.ID, e.job.Status)
	if p := e.job.Error; p != nil {
		msg += ": " + p.Type
		if p.Detail != "" {
			msg += ": " + p.Detail
		}
	}
	return msg
}

func (e *jobEndedError) Is(target error) bool { return target == errNotSucceeded }

// usageError is a command line that crunch cannot run.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// exitCode maps the error of run to the process's exit code.
func exitCode(err error) int {
	var (
		ended     *jobEndedError
		usage     *usageError
		problem   *client.Problem
		urlErr    *url.Error
		netErr    net.Error
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ended):
		switch {
		case ended.job.Status == client.StatusCanceled:
			return exitCanceled
		case ended.job.Error != nil && ended.job.Error.Type == "timeout":
			return exitTimedOut
		default:
			return exitFailed
		}
	case errors.As(err, &usage):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &problem):
		if problem.Status >= 400 && problem.Status < 500 {
			return exitRefused
		}
		return exitUnavailable
	case errors.As(err, &urlErr), errors.As(err, &netErr),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF):
		return exitUnavailable
	case errors.As(err, &syntaxErr), errors.As(err, &typeErr):
		return exitUnavailable // an answer that is not the JSON the API sends
	default:
		return exitOther
	}
}

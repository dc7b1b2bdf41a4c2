package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/client"
	"github.com/crunchjobs/crunch/internal/redistest"
)

// The client commands against "crunch dev" on the test Redis.
func TestClientCommands(t *testing.T) {
	d := startDev(t, map[string]string{
		"CRUNCH_HTTP_ADDR": "127.0.0.1:0",
		"REDIS_URL":        redistest.URL(t),
		"CRUNCH_NAMESPACE": redistest.Namespace(t),
	})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a hang fails the test, not the run
	defer cancel()
	crunch := func(args ...string) (stdout, stderr string, err error) {
		var out, errOut bytes.Buffer
		args = append([]string{"-o", "json"}, args...) // the output for scripts
		err = run(ctx, args, func(k string) string { return map[string]string{"CRUNCH_URL": d.base}[k] }, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	job := func(stdout string) client.Job {
		var j client.Job
		require.NoError(t, json.Unmarshal([]byte(stdout), &j), "stdout: %s", stdout)
		return j
	}

	out, _, err := crunch("kernels")
	require.NoError(t, err)
	var kernels []client.Kernel
	require.NoError(t, json.Unmarshal([]byte(out), &kernels))
	require.Len(t, kernels, 6)

	out, progress, err := crunch("submit", "-wait", "-chunks", "3", "stats", "values=[1e16,1,-1e16,3.5]")
	require.NoError(t, err)
	stats := job(out)
	require.Equal(t, client.StatusSucceeded, stats.Status)
	require.Equal(t, 3, stats.Chunks.Total)
	var res struct{ Sum float64 }
	require.NoError(t, json.Unmarshal(stats.Result, &res))
	require.Equal(t, 4.5, res.Sum)
	require.Contains(t, progress, stats.ID+" succeeded 3/3 chunks")

	out, _, err = crunch("submit", "wordcount", "text=Hello world, hello", "top=1")
	require.NoError(t, err)
	words := job(out)
	out, _, err = crunch("wait", words.ID)
	require.NoError(t, err)
	require.JSONEq(t, `{"total":3,"unique":2,"top":[{"word":"hello","count":2}]}`, string(job(out).Result))

	out, _, err = crunch("submit", "mandelbrot", "width=32", "height=24")
	require.NoError(t, err)
	img := job(out)
	_, _, err = crunch("wait", img.ID)
	require.NoError(t, err)
	out, _, err = crunch("artifact", img.ID)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(out, "\x89PNG\r\n\x1a\n"))

	out, _, err = crunch("submit", "-chunks", "256", "primes", "to=1e11")
	require.NoError(t, err)
	long := job(out)
	out, _, err = crunch("cancel", long.ID)
	require.NoError(t, err)
	require.Equal(t, client.StatusCanceled, job(out).Status)
	out, _, err = crunch("wait", long.ID)
	require.ErrorIs(t, err, errNotSucceeded, "wait fails for a job that did not succeed")
	require.Equal(t, client.StatusCanceled, job(out).Status, "and still prints it")

	out, _, err = crunch("chunks", stats.ID)
	require.NoError(t, err)
	var chunks []client.Chunk
	require.NoError(t, json.Unmarshal([]byte(out), &chunks))
	require.Len(t, chunks, 3)

	out, _, err = crunch("list", "-kernel", "stats")
	require.NoError(t, err)
	var page client.JobPage
	require.NoError(t, json.Unmarshal([]byte(out), &page))
	require.Len(t, page.Jobs, 1)
	require.Equal(t, stats.ID, page.Jobs[0].ID)

	for _, tt := range []struct {
		args   []string
		status int // of the *client.Problem; 0: an error of the command line
	}{
		{[]string{"submit", "primes", "to=-1"}, http.StatusUnprocessableEntity},
		{[]string{"get", "job_nope"}, http.StatusNotFound},
		{[]string{"cancel", stats.ID}, http.StatusConflict},
		{[]string{"submit", "primes", "to"}, 0},
		{[]string{"submit"}, 0},
		{[]string{"get"}, 0},
		{[]string{"list", "extra"}, 0},
		{[]string{"submit", "-nope", "primes"}, 0},
		{[]string{"frobnicate"}, 0},
	} {
		_, _, err := crunch(tt.args...)
		require.Error(t, err, "%q", tt.args)
		var p *client.Problem
		require.Equal(t, tt.status != 0, errors.As(err, &p), "%q: %v", tt.args, err)
		if p != nil {
			require.Equal(t, tt.status, p.Status, "%q: %v", tt.args, err)
		}
	}
}

// A job that cannot be reached in time: wait ends with its context.
func TestWaitEndsWithItsContext(t *testing.T) {
	d := startDev(t, map[string]string{"CRUNCH_HTTP_ADDR": "127.0.0.1:0", "REDIS_URL": redistest.URL(t), "CRUNCH_NAMESPACE": redistest.Namespace(t)})
	getenv := func(k string) string { return map[string]string{"CRUNCH_URL": d.base}[k] }
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"-o", "json", "submit", "-chunks", "64", "primes", "to=1e11"}, getenv, &out, &bytes.Buffer{}))
	var j client.Job
	require.NoError(t, json.Unmarshal(out.Bytes(), &j))
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err := run(ctx, []string{"wait", j.ID}, getenv, &bytes.Buffer{}, &bytes.Buffer{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, run(t.Context(), []string{"cancel", j.ID}, getenv, &bytes.Buffer{}, &bytes.Buffer{}))
}

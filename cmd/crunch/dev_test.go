package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The README's first command: crunch dev with REDIS_URL unset runs the API
// and a worker on an embedded Redis, says so, and prints how to submit a
// job — which then runs to the known answer.
func TestDevModeRunsAJob(t *testing.T) {
	env := map[string]string{"CRUNCH_HTTP_ADDR": "127.0.0.1:0"}
	stdoutR, stdoutW := io.Pipe()
	var logs strings.Builder
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev"}, func(k string) string { return env[k] }, stdoutW, &logs)
		stdoutW.Close()
	}()

	base := ""
	sc := bufio.NewScanner(stdoutR)
	for sc.Scan() {
		if m := regexp.MustCompile(`API on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	require.NotEmpty(t, base, "dev mode printed where the API listens")
	go io.Copy(io.Discard, stdoutR)

	res, err := http.Post(base+"/v1/jobs", "", strings.NewReader(`{"kernel":"primes","params":{"to":1e6}}`))
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	res.Body.Close()
	location := res.Header.Get("Location")

	var job struct {
		Status string
		Result struct{ Count int }
	}
	deadline := time.Now().Add(30 * time.Second)
	for job.Status != "succeeded" {
		require.True(t, time.Now().Before(deadline), "job still %q", job.Status)
		time.Sleep(20 * time.Millisecond)
		res, err := http.Get(base + location)
		require.NoError(t, err)
		require.NoError(t, json.NewDecoder(res.Body).Decode(&job))
		res.Body.Close()
	}
	require.Equal(t, 78498, job.Result.Count) // π(10^6)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("dev mode did not stop")
	}
	require.Contains(t, logs.String(), "NOTHING IS DURABLE")
}

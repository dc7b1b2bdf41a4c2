package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// devSystem is "crunch dev" running in this process.
type devSystem struct {
	base string // where the API listens
	stop func() error
	logs *syncBuilder
}

// startDev runs "crunch dev" with env and waits until it says where the
// API listens. The test's cleanup stops it, if the test did not.
func startDev(t *testing.T, env map[string]string) *devSystem {
	t.Helper()
	stdoutR, stdoutW := io.Pipe()
	logs := &syncBuilder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"dev"}, func(k string) string { return env[k] }, stdoutW, logs)
		stdoutW.Close()
	}()
	var once sync.Once
	var stopErr error
	d := &devSystem{logs: logs, stop: func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				t.Error("dev mode did not stop")
			}
		})
		return stopErr
	}}
	t.Cleanup(func() { _ = d.stop() })

	sc := bufio.NewScanner(stdoutR)
	for sc.Scan() {
		if m := regexp.MustCompile(`API on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
			d.base = m[1]
			break
		}
	}
	require.NotEmpty(t, d.base, "dev mode printed where the API listens; logs: %s", logs)
	go io.Copy(io.Discard, stdoutR)
	return d
}

// syncBuilder is a strings.Builder that the dev system's logger and the
// test can use at once.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The README's first command: crunch dev with REDIS_URL unset runs the API
// and a worker on an embedded Redis, says so, and prints how to submit a
// job — which then runs to the known answer.
func TestDevModeRunsAJob(t *testing.T) {
	d := startDev(t, map[string]string{"CRUNCH_HTTP_ADDR": "127.0.0.1:0"})
	res, err := http.Post(d.base+"/v1/jobs", "", strings.NewReader(`{"kernel":"primes","params":{"to":1e6}}`))
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
		res, err := http.Get(d.base + location)
		require.NoError(t, err)
		require.NoError(t, json.NewDecoder(res.Body).Decode(&job))
		res.Body.Close()
	}
	require.Equal(t, 78498, job.Result.Count) // π(10^6)

	require.NoError(t, d.stop())
	require.Contains(t, d.logs.String(), "NOTHING IS DURABLE")
}

package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// EnvURL names the environment variable that points tests at a running Redis.
// `make test` sets it to a private redis-server it starts for the whole run.
const EnvURL = "CRUNCH_TEST_REDIS_URL"

var (
	// ErrNoRedis is returned when neither EnvURL nor redis-server on PATH gives
	// the tests a Redis.
	ErrNoRedis = errors.New("redistest: no Redis for the tests: " + EnvURL +
		" is unset and redis-server is not on PATH; run `make test`, which installs redis-server and starts a private one")
	// errNoMain is reported when a package uses URL without redistest.Main.
	errNoMain = errors.New("redistest: call redistest.Main(m) from the package's TestMain")
)

// shared is the Redis of this test binary: the one named by EnvURL or a
// private server started on first use and stopped by Main.
var shared struct {
	mainCalled atomic.Bool

	mu      sync.Mutex
	started bool // url and err are final
	url     string
	err     error
	srv     *process
	dir     string
}

// Main is a TestMain: it runs the tests, stops the private redis-server if a
// test started one, checks for leaked goroutines when the tests passed, and
// exits with the right code.
//
// The Redis itself is made available lazily, by the first call to [URL] (see the
// package documentation), so a test binary whose selected tests do not touch
// Redis (go test -run, -list, -fuzz) starts nothing.
//
// The goroutine leak check ignores one function:
//
//   - go-redis's (*ConnPool).tryDial: after a pool has failed to dial PoolSize
//     times (every fault drill that stops a server does that) go-redis probes the
//     address in a goroutine that sleeps one second between attempts and notices
//     that its pool was closed only when it wakes. It ends by itself within a
//     second of Client.Close, which goleak does not wait for.
func Main(m *testing.M) {
	shared.mainCalled.Store(true)
	code := m.Run()
	if err := stopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	stopSpawner()
	if code == 0 {
		if err := goleak.Find(leakOptions()...); err != nil {
			fmt.Fprintf(os.Stderr, "redistest: goroutines leaked by the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// leakOptions are the goleak options of Main; see its documentation.
func leakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial"),
	}
}

// URL returns the URL of the Redis for tests, redis://127.0.0.1:PORT/0 for a
// private server. It fails the test when there is no Redis; it never skips.
func URL(t testing.TB) string {
	t.Helper()
	url, err := sharedURL()
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// sharedURL makes the shared Redis available once and returns its URL.
func sharedURL() (string, error) {
	if !shared.mainCalled.Load() {
		return "", errNoMain
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.started {
		shared.started = true
		shared.url, shared.err = startShared()
	}
	return shared.url, shared.err
}

// startShared returns EnvURL after checking that it answers, or starts a
// private server. It is called with shared.mu held.
func startShared() (string, error) {
	if url := os.Getenv(EnvURL); url != "" {
		opts, err := redis.ParseURL(url)
		if err != nil {
			return "", fmt.Errorf("redistest: %s=%q: %w", EnvURL, url, err)
		}
		opts.MaxRetries = -1
		client := redis.NewClient(opts)
		defer client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := client.Ping(ctx).Err(); err != nil {
			return "", fmt.Errorf("redistest: %s=%q does not answer PING: %w", EnvURL, url, err)
		}
		return url, nil
	}
	if _, err := exec.LookPath(redisServerBin); err != nil {
		return "", ErrNoRedis
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return "", fmt.Errorf("redistest: %w", err)
	}
	proc, port, err := startOnFreePort(dir, ServerOptions{})
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	shared.srv, shared.dir = proc, dir
	return fmt.Sprintf("redis://127.0.0.1:%d/0", port), nil
}

// stopShared stops the private server of this test binary, if any.
func stopShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	var err error
	if shared.srv != nil {
		err = shared.srv.stop(stopTimeout)
		shared.srv = nil
	}
	if shared.dir != "" {
		err = errors.Join(err, os.RemoveAll(shared.dir))
		shared.dir = ""
	}
	if err != nil {
		return fmt.Errorf("redistest: stopping the private redis-server: %w", err)
	}
	return nil
}

// namespaces holds every prefix handed out by this process, so none repeats.
var namespaces sync.Map

// Namespace returns a short prefix unique to this call, "t" and 10 hex digits
// (e.g. "t3f09a1c2b7"), for the keys and asynq queue names of one test, so that
// tests sharing one Redis run in parallel without FLUSHDB.
func Namespace(t testing.TB) string {
	t.Helper()
	for {
		var b [5]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		ns := "t" + hex.EncodeToString(b[:])
		if _, taken := namespaces.LoadOrStore(ns, struct{}{}); !taken {
			t.Logf("redistest: namespace %s", ns)
			return ns
		}
	}
}

// Client returns a go-redis client on [URL], closed when the test ends.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	return newClient(t, URL(t))
}

// newClient returns a go-redis client on url, closed by t.Cleanup.
func newClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	return client
}

package ratelimit_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/ratelimit"
	"github.com/crunchjobs/crunch/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// testBundle is what most tests need: a client, a namespace of their own
// and a limiter on both.
type testBundle struct {
	rdb *redis.Client
	ns  string
	lim *ratelimit.Limiter
}

func setup(t *testing.T, rate float64, burst int) *testBundle {
	t.Helper()
	b := &testBundle{rdb: redistest.Client(t), ns: redistest.Namespace(t)}
	var err error
	b.lim, err = ratelimit.New(b.rdb, ratelimit.Config{Namespace: b.ns, Rate: rate, Burst: burst})
	require.NoError(t, err)
	return b
}

// key is the Redis key of the bucket of key, as the package documents it.
func (b *testBundle) key(key string) string { return b.ns + ":ratelimit:" + key }

// drain takes tokens for key until one is refused and returns how many it
// got, the refusal's retryAfter and the time the calls took.
func drain(t *testing.T, lim *ratelimit.Limiter, key string) (got int, retryAfter, elapsed time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		ok, retry, err := lim.Allow(t.Context(), key)
		require.NoError(t, err)
		if !ok {
			return got, retry, time.Since(start)
		}
		require.Zero(t, retry)
		got++
		require.Less(t, got, 1_000_000, "never refused")
	}
}

// bound is the most tokens a bucket may grant within elapsed (client time,
// which contains the server times of the calls made within it).
func bound(rate float64, burst int, elapsed time.Duration) int {
	return burst + int(math.Floor(rate*elapsed.Seconds()))
}

func TestBurstThenRefusal(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, 5)

	got, retry, elapsed := drain(t, b.lim, "acme")
	require.GreaterOrEqual(t, got, 5)
	require.LessOrEqual(t, got, bound(1, 5, elapsed))
	// The next token is at most 1/Rate away, and almost exactly that since
	// the burst was taken in a few milliseconds.
	require.Greater(t, retry, time.Second-elapsed-10*time.Millisecond)
	require.LessOrEqual(t, retry, time.Second)

	// Refusals take nothing: asking again is refused with a shorter wait.
	ok, retry2, err := b.lim.Allow(t.Context(), "acme")
	require.NoError(t, err)
	require.False(t, ok)
	require.LessOrEqual(t, retry2, retry)
	require.Positive(t, retry2)

	// The bucket is a hash of tokens and ts with a TTL of the time to refill
	// completely: at most Burst/Rate = 5 s.
	h, err := b.rdb.HGetAll(t.Context(), b.key("acme")).Result()
	require.NoError(t, err)
	require.Len(t, h, 2)
	tokens, err := strconv.ParseFloat(h["tokens"], 64)
	require.NoError(t, err)
	require.GreaterOrEqual(t, tokens, 0.0)
	require.Less(t, tokens, 1.0)
	ttl, err := b.rdb.PTTL(t.Context(), b.key("acme")).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 3*time.Second)
	require.LessOrEqual(t, ttl, 5*time.Second)
}

func TestRefill(t *testing.T) {
	t.Parallel()
	const rate, burst = 50, 5 // a token every 20 ms
	b := setup(t, rate, burst)

	got, retry, elapsed := drain(t, b.lim, "acme")
	require.GreaterOrEqual(t, got, burst)
	require.LessOrEqual(t, got, bound(rate, burst, elapsed))
	require.Positive(t, retry)
	require.LessOrEqual(t, retry, 20*time.Millisecond)

	// After retryAfter there is a token again.
	time.Sleep(retry)
	ok, _, err := b.lim.Allow(t.Context(), "acme")
	require.NoError(t, err)
	require.True(t, ok, "no token %s after a refusal said there would be", retry)

	// Idle for ten tokens' time, the bucket is full again, but no fuller
	// than Burst.
	time.Sleep(200 * time.Millisecond)
	got, _, elapsed = drain(t, b.lim, "acme")
	require.GreaterOrEqual(t, got, burst)
	require.LessOrEqual(t, got, bound(rate, burst, elapsed))
}

func TestIdleBucketExpires(t *testing.T) {
	t.Parallel()
	b := setup(t, 50, 5)

	ok, _, err := b.lim.Allow(t.Context(), "acme")
	require.NoError(t, err)
	require.True(t, ok)
	// One token taken: refilled in 1/50 s, which is the key's TTL.
	ttl, err := b.rdb.PTTL(t.Context(), b.key("acme")).Result()
	require.NoError(t, err)
	require.Positive(t, ttl)
	require.LessOrEqual(t, ttl, 20*time.Millisecond)

	require.Eventually(t, func() bool {
		return b.rdb.Exists(t.Context(), b.key("acme")).Val() == 0
	}, 2*time.Second, 5*time.Millisecond)
	// A missing bucket is a full one.
	got, _, elapsed := drain(t, b.lim, "acme")
	require.GreaterOrEqual(t, got, 5)
	require.LessOrEqual(t, got, bound(50, 5, elapsed))
}

func TestKeysAreIndependent(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, 3)
	other, err := ratelimit.New(b.rdb, ratelimit.Config{Namespace: redistest.Namespace(t), Rate: 1, Burst: 3})
	require.NoError(t, err)

	got, _, _ := drain(t, b.lim, "acme")
	require.Equal(t, 3, got)
	for _, c := range []struct {
		lim *ratelimit.Limiter
		key string
	}{
		{b.lim, "globex"},   // another tenant
		{b.lim, "acme2"},    // a longer name
		{b.lim, ""},         // the empty name
		{other, "acme"},     // the same tenant in another namespace
		{b.lim, "acme:x"},   // a name with the separator
		{b.lim, "{acme}"},   // a Redis Cluster hash tag
		{b.lim, "ACME"},     // keys are case-sensitive
		{b.lim, "acme "},    // and not trimmed
		{b.lim, "ácme🙂"},    // any UTF-8
		{b.lim, "a\x00cme"}, // any bytes
	} {
		got, _, _ := drain(t, c.lim, c.key)
		require.Equal(t, 3, got, "key %q", c.key)
	}
}

// TestReplicasShareBucket runs two limiters on two clients, as two API
// replicas would: together they get one bucket's worth.
func TestReplicasShareBucket(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, 4)
	replica2, err := ratelimit.New(redistest.Client(t), ratelimit.Config{Namespace: b.ns, Rate: 1, Burst: 4})
	require.NoError(t, err)

	var got [2]int
	start := time.Now()
	for i := range 8 {
		ok, _, err := []*ratelimit.Limiter{b.lim, replica2}[i%2].Allow(t.Context(), "acme")
		require.NoError(t, err)
		if ok {
			got[i%2]++
		}
	}
	require.LessOrEqual(t, got[0]+got[1], bound(1, 4, time.Since(start)))
	require.GreaterOrEqual(t, got[0]+got[1], 4)
	require.Equal(t, [2]int{2, 2}, got)

	// Both see the same refusal.
	_, r1, err := b.lim.Allow(t.Context(), "acme")
	require.NoError(t, err)
	_, r2, err := replica2.Allow(t.Context(), "acme")
	require.NoError(t, err)
	require.Positive(t, r1)
	require.Positive(t, r2)
	require.LessOrEqual(t, r2, r1)
}

// call is one Allow as a client saw it: the server ran the script at some
// time within [start, end].
type call struct{ start, end time.Time }

// TestConcurrentNeverExceedsBound hammers one key from 64 goroutines spread
// over two replicas for 2 s, and checks the token bucket's promise for every
// window between two accepted calls: the calls that started and ended
// within it were at most Burst + Rate·(its length).
func TestConcurrentNeverExceedsBound(t *testing.T) {
	t.Parallel()
	const (
		rate       = 50
		burst      = 10
		goroutines = 64
		duration   = 2 * time.Second
	)
	b := setup(t, rate, burst)
	replica2, err := ratelimit.New(redistest.Client(t), ratelimit.Config{Namespace: b.ns, Rate: rate, Burst: burst})
	require.NoError(t, err)
	limiters := []*ratelimit.Limiter{b.lim, replica2}

	var (
		mu       sync.Mutex
		accepted []call
		refused  atomic.Int64
		wg       sync.WaitGroup
	)
	start := time.Now()
	stop := start.Add(duration)
	for g := range goroutines {
		wg.Go(func() {
			lim := limiters[g%2]
			for time.Now().Before(stop) {
				c := call{start: time.Now()}
				ok, retry, err := lim.Allow(t.Context(), "acme")
				c.end = time.Now()
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					if retry <= 0 || retry > time.Second/rate {
						t.Errorf("retryAfter %s, want within (0, %s]", retry, time.Second/rate)
						return
					}
					refused.Add(1)
					continue
				}
				mu.Lock()
				accepted = append(accepted, c)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	n := len(accepted)
	t.Logf("%d accepted, %d refused in %s (%.0f calls/s); bound %d", n, refused.Load(), elapsed,
		float64(n+int(refused.Load()))/elapsed.Seconds(), bound(rate, burst, elapsed))
	require.LessOrEqual(t, n, bound(rate, burst, elapsed))
	// The bucket was drained all the time, so nearly all of it was granted.
	require.GreaterOrEqual(t, float64(n), 0.8*(burst+rate*duration.Seconds()))
	require.Positive(t, refused.Load())

	// Every window [accepted[i].start, accepted[j].end].
	for _, a := range accepted {
		for _, z := range accepted {
			if !z.end.After(a.start) {
				continue
			}
			inside := 0
			for _, c := range accepted {
				if !c.start.Before(a.start) && !c.end.After(z.end) {
					inside++
				}
			}
			if limit := bound(rate, burst, z.end.Sub(a.start)); inside > limit {
				t.Fatalf("%d accepted within %s, at most %d allowed", inside, z.end.Sub(a.start), limit)
			}
		}
	}
}

// TestServerClock checks that the bucket's time is Redis's: ts is the
// server's TIME in microseconds.
func TestServerClock(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, 2)
	before, err := b.rdb.Time(t.Context()).Result()
	require.NoError(t, err)
	ok, _, err := b.lim.Allow(t.Context(), "acme")
	require.NoError(t, err)
	require.True(t, ok)
	after, err := b.rdb.Time(t.Context()).Result()
	require.NoError(t, err)

	ts, err := b.rdb.HGet(t.Context(), b.key("acme"), "ts").Int64()
	require.NoError(t, err)
	require.GreaterOrEqual(t, ts, before.UnixMicro())
	require.LessOrEqual(t, ts, after.UnixMicro())
	tokens, err := b.rdb.HGet(t.Context(), b.key("acme"), "tokens").Float64()
	require.NoError(t, err)
	require.InDelta(t, 1, tokens, float64(after.Sub(before))/float64(time.Second))
}

// TestClockBehind makes the bucket's last write lie in the future, as after
// a failover to a Redis whose clock is behind: nothing is refilled until the
// server's clock passes it.
func TestClockBehind(t *testing.T) {
	t.Parallel()
	b := setup(t, 50, 5)
	future := time.Now().Add(time.Hour).UnixMicro()
	require.NoError(t, b.rdb.HSet(t.Context(), b.key("acme"), "tokens", "2.5", "ts", strconv.FormatInt(future, 10)).Err())

	got, retry, _ := drain(t, b.lim, "acme")
	require.Equal(t, 2, got)
	require.Equal(t, 10*time.Millisecond, retry) // half a token at 50/s
	ts, err := b.rdb.HGet(t.Context(), b.key("acme"), "ts").Int64()
	require.NoError(t, err)
	require.Equal(t, future, ts)
}

// TestSmallerBurst: a bucket written with a larger Burst (the limit was
// lowered and the API redeployed) is cut down to the new Burst.
func TestSmallerBurst(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, 3)
	big, err := ratelimit.New(b.rdb, ratelimit.Config{Namespace: b.ns, Rate: 1, Burst: 100})
	require.NoError(t, err)
	ok, _, err := big.Allow(t.Context(), "acme") // leaves 99
	require.NoError(t, err)
	require.True(t, ok)

	got, _, _ := drain(t, b.lim, "acme")
	require.Equal(t, 3, got)
}

func TestExtremeConfig(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t)
	ns := redistest.Namespace(t)

	// The longest TTL, 10^18 ms: an empty bucket of MaxBurst tokens at
	// MinRate. The bucket is written by hand with one token left, and a ts in
	// the future so that nothing is added before the take.
	slow, err := ratelimit.New(rdb, ratelimit.Config{Namespace: ns, Rate: ratelimit.MinRate, Burst: ratelimit.MaxBurst})
	require.NoError(t, err)
	future := time.Now().Add(time.Hour).UnixMicro()
	require.NoError(t, rdb.HSet(t.Context(), ns+":ratelimit:slow", "tokens", "1", "ts", strconv.FormatInt(future, 10)).Err())
	ok, _, err := slow.Allow(t.Context(), "slow")
	require.NoError(t, err)
	require.True(t, ok)
	pttl, err := rdb.Do(t.Context(), "PTTL", ns+":ratelimit:slow").Int64() // too long for a time.Duration
	require.NoError(t, err)
	require.InDelta(t, 1e18, float64(pttl), 1e9)

	// One token every 11.6 days.
	lazy, err := ratelimit.New(rdb, ratelimit.Config{Namespace: ns, Rate: ratelimit.MinRate, Burst: 1})
	require.NoError(t, err)
	got, retry, _ := drain(t, lazy, "lazy")
	require.Equal(t, 1, got)
	require.InDelta(t, 1e6, retry.Seconds(), 1)

	// The fastest: a token a nanosecond, the TTL rounded up to 1 ms (the key
	// may be gone by the time PTTL asks).
	fast, err := ratelimit.New(rdb, ratelimit.Config{Namespace: ns, Rate: ratelimit.MaxRate})
	require.NoError(t, err)
	for range 3 {
		ok, _, err = fast.Allow(t.Context(), "fast")
		require.NoError(t, err)
		require.True(t, ok)
	}
	pttl, err = rdb.Do(t.Context(), "PTTL", ns+":ratelimit:fast").Int64()
	require.NoError(t, err)
	require.LessOrEqual(t, pttl, int64(1))
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		rate float64
		want int
	}{
		{ratelimit.MinRate, 1}, {0.5, 1}, {1, 1}, {2.5, 3}, {50, 50}, {ratelimit.MaxRate, ratelimit.MaxBurst},
		{0, 0}, {-1, 0}, {math.NaN(), 0}, {math.Inf(1), 0}, // left for New to refuse
	} {
		got := ratelimit.Config{Rate: c.rate}.WithDefaults()
		require.Equal(t, "crunch", got.Namespace)
		require.Equal(t, c.want, got.Burst, "Rate %g", c.rate)
	}
	got := ratelimit.Config{Namespace: "x", Rate: 50, Burst: 7}.WithDefaults()
	require.Equal(t, ratelimit.Config{Namespace: "x", Rate: 50, Burst: 7}, got)

	// The default namespace and burst at work: Rate 2.5 gives 3 at once.
	rdb := redistest.Client(t)
	lim, err := ratelimit.New(rdb, ratelimit.Config{Rate: 2.5})
	require.NoError(t, err)
	key := redistest.Namespace(t)
	got3, _, _ := drain(t, lim, key)
	require.Equal(t, 3, got3)
	require.Equal(t, int64(1), rdb.Exists(t.Context(), "crunch:ratelimit:"+key).Val())
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t)
	for _, c := range []struct {
		name string
		rdb  redis.UniversalClient
		cfg  ratelimit.Config
		want string
	}{
		{"nil client", nil, ratelimit.Config{Rate: 1}, "nil Redis client"},
		{"no rate", rdb, ratelimit.Config{}, "Rate"},
		{"zero rate", rdb, ratelimit.Config{Rate: 0, Burst: 5}, "Rate"},
		{"negative rate", rdb, ratelimit.Config{Rate: -1}, "Rate"},
		{"NaN rate", rdb, ratelimit.Config{Rate: math.NaN()}, "Rate"},
		{"infinite rate", rdb, ratelimit.Config{Rate: math.Inf(1)}, "Rate"},
		{"rate too small", rdb, ratelimit.Config{Rate: ratelimit.MinRate / 2}, "Rate"},
		{"rate too large", rdb, ratelimit.Config{Rate: ratelimit.MaxRate * 2}, "Rate"},
		{"negative burst", rdb, ratelimit.Config{Rate: 1, Burst: -1}, "Burst"},
		{"burst too large", rdb, ratelimit.Config{Rate: 1, Burst: ratelimit.MaxBurst + 1}, "Burst"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			lim, err := ratelimit.New(c.rdb, c.cfg)
			require.ErrorIs(t, err, ratelimit.ErrInvalidConfig)
			require.ErrorContains(t, err, c.want)
			require.Nil(t, lim)
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, 1)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ok, _, err := b.lim.Allow(ctx, "acme")
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, ok)

	// A key of another type is Redis's error, passed on.
	require.NoError(t, b.rdb.Set(t.Context(), b.key("str"), "x", time.Minute).Err())
	ok, _, err = b.lim.Allow(t.Context(), "str")
	require.ErrorContains(t, err, "WRONGTYPE")
	require.False(t, ok)

	// No Redis at all.
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = down.Close() })
	lim, err := ratelimit.New(down, ratelimit.Config{Rate: 1})
	require.NoError(t, err)
	ok, _, err = lim.Allow(t.Context(), "acme")
	require.Error(t, err)
	require.False(t, ok)
}

func BenchmarkAllow(b *testing.B) {
	rdb := redistest.Client(b)
	lim, err := ratelimit.New(rdb, ratelimit.Config{Namespace: redistest.Namespace(b), Rate: ratelimit.MaxRate})
	require.NoError(b, err)
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := lim.Allow(b.Context(), "acme"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(16) // 32 goroutines on 2 cores, like busy API handlers
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, _, err := lim.Allow(context.Background(), "acme"); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	})
	b.Run("refused", func(b *testing.B) {
		slow, err := ratelimit.New(rdb, ratelimit.Config{Namespace: redistest.Namespace(b), Rate: ratelimit.MinRate})
		require.NoError(b, err)
		for b.Loop() {
			if _, _, err := slow.Allow(b.Context(), "acme"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	})
}

// exampleRedis gives an Example, which has no *testing.T, what redistest
// gives a test: a client on the tests' Redis, a fresh namespace, and a func
// that closes the client.
func exampleRedis() (rdb *redis.Client, ns string, done func()) {
	tb := &exampleTB{}
	return redistest.Client(tb), redistest.Namespace(tb), tb.done
}

// exampleTB is the testing.TB of exampleRedis: it fails by panicking and
// runs its cleanups when done is called. The embedded nil testing.TB only
// supplies the interface's unexported method; a method redistest would call
// beyond those below panics, which shows at once.
type exampleTB struct {
	testing.TB
	cleanups []func()
}

func (*exampleTB) Helper()                           {}
func (*exampleTB) Logf(string, ...any)               {}
func (*exampleTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (*exampleTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (e *exampleTB) Cleanup(f func())                { e.cleanups = append(e.cleanups, f) }

func (e *exampleTB) done() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}

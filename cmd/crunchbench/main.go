package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// settings are how long and how often the bench measures.
type settings struct {
	repeat    int           // runs of each figure
	window    time.Duration // one submit-rate or idle measurement
	latencyN  int           // jobs of one latency run
	jobs      int           // jobs of one completion run
	chunks    int           // chunks of the per-chunk job
	clients   []int         // client counts of the throughput curve
	workerSet []int         // worker counts of the scaling curve
}

var (
	full  = settings{repeat: 3, window: 5 * time.Second, latencyN: 200, jobs: 5000, chunks: 1000, clients: []int{1, 4, 16, 32, 64}, workerSet: []int{1, 2, 4}}
	smoke = settings{repeat: 1, window: 500 * time.Millisecond, latencyN: 10, jobs: 50, chunks: 20, clients: []int{1, 8}, workerSet: []int{1, 2}}
)

func main() {
	bare := flag.Bool("bare", false, "serve the bare-handler anchor (used by the bench itself)")
	redisURL := flag.String("redis", "", "with -bare: the Redis URL")
	addr := flag.String("addr", "", "with -bare: the listen address")
	queue := flag.String("queue", "", "with -bare: the asynq queue")
	short := flag.Bool("short", false, "a smoke run of seconds; its figures mean nothing")
	out := flag.String("o", "BENCHMARKS.md", "the file whose generated section is rewritten")
	img := flag.String("img", "docs/img", "where the plots go")
	flag.Parse()
	if *bare {
		if err := serveBare(*redisURL, *addr, *queue); err != nil {
			fmt.Fprintln(os.Stderr, "crunchbench:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s := full
	if *short {
		s = smoke
	}
	if err := run(ctx, s, *short, *out, *img); err != nil {
		fmt.Fprintln(os.Stderr, "crunchbench:", err)
		os.Exit(1)
	}
}

// bench is one run: its Redis, binaries and results.
type bench struct {
	s       settings
	dir     string
	bin     string
	self    string
	redis   *process
	rdb     *redis.Client
	url     string
	results results
	nsSeq   int
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "crunchbench: "+format+"\n", args...)
}

func run(ctx context.Context, s settings, short bool, out, img string) error {
	dir, err := os.MkdirTemp("", "crunchbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b := &bench{s: s, dir: dir, bin: filepath.Join(dir, "bin")}
	if b.self, err = os.Executable(); err != nil {
		return err
	}
	logf("building api and worker")
	if err := build(b.bin); err != nil {
		return err
	}
	if b.redis, b.rdb, b.url, err = startRedis(ctx, dir); err != nil {
		return err
	}
	defer b.redis.stop()
	defer b.rdb.Close()
	b.results.started = time.Now().UTC()
	for _, step := range []struct {
		name string
		f    func(context.Context) error
	}{
		{"redis capacity", b.capacity},
		{"submit rate", b.submit},
		{"submit rate against clients", b.clientsCurve},
		{"idle cost", b.idle},
		{"tiny-job latency", b.latency},
		{"completion and redis per job", b.complete},
		{"per-chunk overhead", b.perChunk},
		{"scaling with workers", b.workersCurve},
	} {
		logf("%s", step.name)
		if err := step.f(ctx); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
	}
	b.results.took = time.Since(b.results.started)
	return b.results.write(out, img, short, s)
}

// ns is a fresh namespace, so that no figure sees another's keys or queues.
func (b *bench) ns() string {
	b.nsSeq++
	return "bench" + strconv.Itoa(b.nsSeq)
}

// system is one api process and some workers on one namespace.
type system struct {
	ns      string
	base    string
	api     *process
	workers []*process
}

func (b *bench) startSystem(ctx context.Context, workers int, workerEnv ...string) (*system, error) {
	sys := &system{ns: b.ns()}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	common := []string{"REDIS_URL=" + b.url, "CRUNCH_NAMESPACE=" + sys.ns, "CRUNCH_LOG_LEVEL=warn"}
	sys.api, err = start(b.dir, sys.ns+"-api", append(common, fmt.Sprintf("CRUNCH_HTTP_ADDR=127.0.0.1:%d", port)), filepath.Join(b.bin, "api"))
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	sys.base = "http://" + addr
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitHTTP(wctx, addr, sys.api); err != nil {
		sys.stop()
		return nil, err
	}
	for i := range workers {
		if err := b.addWorker(sys, i, workerEnv...); err != nil {
			sys.stop()
			return nil, err
		}
	}
	return sys, nil
}

func (b *bench) addWorker(sys *system, i int, env ...string) error {
	w, err := start(b.dir, fmt.Sprintf("%s-worker%d", sys.ns, i), append([]string{"REDIS_URL=" + b.url,
		"CRUNCH_NAMESPACE=" + sys.ns, "CRUNCH_LOG_LEVEL=warn", fmt.Sprintf("CRUNCH_WORKER_ID=bench-%d", i)}, env...),
		filepath.Join(b.bin, "worker"))
	if err != nil {
		return err
	}
	sys.workers = append(sys.workers, w)
	return nil
}

func (sys *system) stop() {
	for _, w := range sys.workers {
		w.stop()
	}
	if sys.api != nil {
		sys.api.stop()
	}
}

// capacity measures what this Redis serves unpipelined, the ceiling of
// the scaling model.
func (b *bench) capacity(ctx context.Context) error {
	for range b.s.repeat {
		b.results.redisOps = append(b.results.redisOps, redisCapacity(ctx, b.rdb, 32, b.s.window))
	}
	return nil
}

// submit compares the submit rate of crunch's API with the bare handler
// and raw asynq Enqueue, interleaved, with 32 clients; no worker runs.
func (b *bench) submit(ctx context.Context) error {
	sys, err := b.startSystem(ctx, 0)
	if err != nil {
		return err
	}
	defer sys.stop()
	bareBase, bareProc, err := b.startBare(ctx)
	if err != nil {
		return err
	}
	defer bareProc.stop()
	for range b.s.repeat {
		r, err := submitRate(ctx, sys.base, 32, b.s.window)
		if err != nil {
			return fmt.Errorf("crunch: %w", err)
		}
		b.results.submitCrunch = append(b.results.submitCrunch, r)
		if r, err = submitRate(ctx, bareBase, 32, b.s.window); err != nil {
			return fmt.Errorf("bare handler: %w", err)
		}
		b.results.submitBare = append(b.results.submitBare, r)
		r, _ = enqueueRate(ctx, b.rdb, b.ns(), 32, b.s.window)
		b.results.submitRaw = append(b.results.submitRaw, r)
	}
	b.results.apiRSS = sys.api.peakRSS()
	b.results.bareRSS = bareProc.peakRSS()
	return nil
}

func (b *bench) startBare(ctx context.Context) (string, *process, error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p, err := start(b.dir, "bare", nil, b.self, "-bare", "-redis", b.url, "-addr", addr, "-queue", b.ns())
	if err != nil {
		return "", nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitHTTP(wctx, addr, p); err != nil {
		p.stop()
		return "", nil, err
	}
	return "http://" + addr, p, nil
}

// clientsCurve is the submit rate of crunch and the bare handler against
// the number of concurrent clients.
func (b *bench) clientsCurve(ctx context.Context) error {
	sys, err := b.startSystem(ctx, 0)
	if err != nil {
		return err
	}
	defer sys.stop()
	bareBase, bareProc, err := b.startBare(ctx)
	if err != nil {
		return err
	}
	defer bareProc.stop()
	for _, n := range b.s.clients {
		c, err := submitRate(ctx, sys.base, n, b.s.window)
		if err != nil {
			return err
		}
		r, err := submitRate(ctx, bareBase, n, b.s.window)
		if err != nil {
			return err
		}
		b.results.clients = append(b.results.clients, clientPoint{clients: n, crunch: c, bare: r})
	}
	return nil
}

// idle measures the Redis commands per second of an idle API and one idle
// worker, then of an idle API and four.
func (b *bench) idle(ctx context.Context) error {
	for _, workers := range []int{1, 4} {
		sys, err := b.startSystem(ctx, workers)
		if err != nil {
			return err
		}
		time.Sleep(2 * time.Second) // past start-up
		var rates []float64
		for range b.s.repeat {
			before, err := readStats(ctx, b.rdb)
			if err != nil {
				sys.stop()
				return err
			}
			t0 := time.Now()
			time.Sleep(b.s.window)
			after, err := readStats(ctx, b.rdb)
			if err != nil {
				sys.stop()
				return err
			}
			rates = append(rates, float64(after.calls-before.calls-1)/time.Since(t0).Seconds())
		}
		sys.stop()
		if workers == 1 {
			b.results.idle1 = rates
		} else {
			b.results.idle4 = rates
		}
	}
	return nil
}

// latency is POST → succeeded visible, one tiny job at a time on an idle
// API and worker.
func (b *bench) latency(ctx context.Context) error {
	sys, err := b.startSystem(ctx, 1)
	if err != nil {
		return err
	}
	defer sys.stop()
	time.Sleep(time.Second)
	for range b.s.repeat {
		lat, err := roundTrips(ctx, sys.base, b.s.latencyN, 500*time.Microsecond)
		if err != nil {
			return err
		}
		b.results.latency = append(b.results.latency, lat)
	}
	return nil
}

// complete submits many tiny jobs to two workers and times them to the
// last; Redis's counters give the commands, bytes and memory per job.
func (b *bench) complete(ctx context.Context) error {
	sys, err := b.startSystem(ctx, 2)
	if err != nil {
		return err
	}
	defer sys.stop()
	time.Sleep(time.Second)
	for range b.s.repeat {
		before, err := readStats(ctx, b.rdb)
		if err != nil {
			return err
		}
		took, err := completion(ctx, sys.base, b.rdb, sys.ns, b.s.jobs, 32)
		if err != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond) // webhooks none; let the last announcements land
		after, err := readStats(ctx, b.rdb)
		if err != nil {
			return err
		}
		n := float64(b.s.jobs)
		b.results.completed = append(b.results.completed, n/took.Seconds())
		b.results.cmdsPerJob = append(b.results.cmdsPerJob, float64(after.calls-before.calls)/n)
		b.results.bytesPerJob = append(b.results.bytesPerJob, float64(after.netIn+after.netOut-before.netIn-before.netOut)/n)
		b.results.memPerJob = append(b.results.memPerJob, float64(after.memory-before.memory)/n)
	}
	return nil
}

// perChunk runs one job of many no-op chunks on two workers: its time per
// chunk is the coordination overhead a chunk costs.
func (b *bench) perChunk(ctx context.Context) error {
	sys, err := b.startSystem(ctx, 2)
	if err != nil {
		return err
	}
	defer sys.stop()
	time.Sleep(time.Second)
	c := httpClient(2)
	body := fmt.Sprintf(`{"kernel":"pi","params":{"samples":%d},"chunks":%d}`, b.s.chunks, b.s.chunks)
	for range b.s.repeat {
		before, err := readStats(ctx, b.rdb)
		if err != nil {
			return err
		}
		t0 := time.Now()
		id, err := post(ctx, c, sys.base, body)
		if err != nil {
			return err
		}
		for {
			st, err := status(ctx, c, sys.base, id)
			if err != nil {
				return err
			}
			if st == "succeeded" {
				break
			}
			if st == "failed" || st == "canceled" || time.Since(t0) > 10*time.Minute {
				return fmt.Errorf("job %s: %s", id, st)
			}
			time.Sleep(2 * time.Millisecond)
		}
		took := time.Since(t0)
		after, err := readStats(ctx, b.rdb)
		if err != nil {
			return err
		}
		b.results.perChunk = append(b.results.perChunk, float64(took.Microseconds())/1000/float64(b.s.chunks))
		b.results.cmdsPerChunk = append(b.results.cmdsPerChunk, float64(after.calls-before.calls)/float64(b.s.chunks))
	}
	return nil
}

// workersCurve is the completion rate and Redis load against the number
// of worker processes (one core each).
func (b *bench) workersCurve(ctx context.Context) error {
	for _, n := range b.s.workerSet {
		sys, err := b.startSystem(ctx, n, "GOMAXPROCS=1", "CRUNCH_WORKER_CONCURRENCY=1")
		if err != nil {
			return err
		}
		time.Sleep(time.Second)
		before, err := readStats(ctx, b.rdb)
		if err != nil {
			sys.stop()
			return err
		}
		t0 := time.Now()
		took, err := completion(ctx, sys.base, b.rdb, sys.ns, b.s.jobs, 32)
		if err != nil {
			sys.stop()
			return err
		}
		after, err := readStats(ctx, b.rdb)
		sys.stop()
		if err != nil {
			return err
		}
		b.results.workers = append(b.results.workers, workerPoint{workers: n,
			jobsPerSec:  float64(b.s.jobs) / took.Seconds(),
			redisPerSec: float64(after.calls-before.calls) / time.Since(t0).Seconds()})
	}
	return nil
}

// machine names the CPU and cores the figures were measured on.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores, %s %s/%s", model, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

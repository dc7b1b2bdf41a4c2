package e2e_test

// Browser tests of the dashboard (/ui/): a real headless Chromium, driven
// with chromedp, against a real API and real workers on the test Redis.
//
// They need Debian's chromium (scripts/test.sh installs it); without it
// they fail, unless CRUNCH_SKIP_BROWSER=1 is set, which skips them and
// says so. CRUNCH_CHROMIUM names another browser binary. Screenshots go to
// CRUNCH_SCREENSHOTS when set (docs/img holds the chosen ones), else to a
// temporary directory.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/worker"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels"
)

// browser starts one headless Chromium for the test, with a private
// profile, and checks when the test ends that no process of it is left.
func browser(t *testing.T) context.Context {
	t.Helper()
	if os.Getenv("CRUNCH_SKIP_BROWSER") == "1" {
		t.Skip("CRUNCH_SKIP_BROWSER=1: the dashboard's browser tests are skipped")
	}
	path := os.Getenv("CRUNCH_CHROMIUM")
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path != "" {
			break
		}
		path, _ = exec.LookPath(name)
	}
	if path == "" {
		t.Fatal("no chromium on PATH: install Debian's chromium (scripts/test.sh does), " +
			"set CRUNCH_CHROMIUM to a browser binary, or set CRUNCH_SKIP_BROWSER=1 to skip the browser tests")
	}
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests run as root
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("lang", "en-GB"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc() // waits for the browser process to exit
		require.Empty(t, processesUsing(profile), "chromium processes outlived the test")
	})
	require.NoError(t, chromedp.Do(ctx), "start %s", path)
	return ctx
}

// processesUsing lists the pids whose command line names dir.
func processesUsing(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// tab is one browser tab on a crunch system.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

func newTab(t *testing.T, browserCtx context.Context, base string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	// The first run opens the tab, which lives as long as the context of
	// that run: no timeout here, or the tab closes when it passes.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)))
	shots := os.Getenv("CRUNCH_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))
	return &tab{t: t, ctx: ctx, base: base, shots: shots}
}

// do runs steps, each wait bounded by timeout.
func (b *tab) do(timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, steps...))
}

func (b *tab) open(fragment string) {
	b.t.Helper()
	b.do(20*time.Second, chromedp.Navigate(b.base+"/ui/"+fragment))
	b.waitJS(`document.readyState === "complete"`, 10*time.Second)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(b.t, err, "evaluate %s", expr)
	return v
}

// waitJS waits until a JavaScript expression is truthy.
func (b *tab) waitJS(expr string, timeout time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		b.shot("failed-" + strings.NewReplacer("/", "-", " ", "-").Replace(b.t.Name()))
		b.t.Fatalf("waiting for %s: %v\npage text: %.3000s", expr, err, eval[string](b, `document.body.innerText`))
	}
}

// shot saves a screenshot of the viewport as name.png.
func (b *tab) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(b.t, err)
	path := filepath.Join(b.shots, name+".png")
	require.NoError(b.t, os.WriteFile(path, png, 0o644))
	b.t.Logf("screenshot %s", path)
}

// press sends one key (as typed by a person: keydown, keypress, keyup).
func (b *tab) press(key string) {
	b.t.Helper()
	b.do(5*time.Second, chromedp.KeyEvent(key))
}

// active is the id of the focused element.
func (b *tab) active() string {
	return eval[string](b, `document.activeElement ? document.activeElement.id : ""`)
}

// tabTo presses Tab until the element with id has the focus.
func (b *tab) tabTo(id string, maxPresses int) {
	b.t.Helper()
	for range maxPresses {
		if b.active() == id {
			return
		}
		b.press("\t")
	}
	require.Equal(b.t, id, b.active(), "Tab never reached #%s", id)
}

// fill sets a field's value as if typed (an input event follows); the
// keyboard test types for real.
func (b *tab) fill(id, value string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %q; e.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`, id, value))
}

func (b *tab) jobIDFromHash() string {
	b.t.Helper()
	b.waitJS(`/^#\/jobs\/job_/.test(location.hash)`, 10*time.Second)
	return strings.TrimPrefix(eval[string](b, `location.hash`), "#/jobs/")
}

func (b *tab) setSelect(sel, value string) {
	b.t.Helper()
	eval[bool](b, fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event("change")); return s.value === %q; })()`, sel, value, value))
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	flaky := &flakyRunner{oneDone: make(chan struct{})}
	s := startSystem(t, systemOptions{workers: 2, concurrency: 2,
		api:    func(c *api.Config) { c.Specs = append(kernels.Specs(), flakySpec{}) },
		worker: func(c *worker.Config) { c.Runners = append(kernels.Runners(), flaky) },
	})

	t.Run("root redirects to the dashboard", func(t *testing.T) {
		r := s.undocumented(http.MethodGet, "/")
		require.Equal(t, http.StatusOK, r.status) // the client followed the redirect
		require.Contains(t, string(r.body), "<title>crunch dashboard</title>")
	})

	var mandelbrot string
	t.Run("submit from the form, watch it finish, read its timeline", func(t *testing.T) {
		b := newTab(t, ctx, s.url)
		b.open("#/submit")
		b.waitJS(`document.querySelector('#f-kernel option[value="mandelbrot"]')`, 10*time.Second)
		b.setSelect("#f-kernel", "mandelbrot")
		b.waitJS(`document.querySelector("#f-params-max_iter")`, 5*time.Second)
		for _, f := range []struct{ id, value string }{
			{"f-params-width", "640"}, {"f-params-height", "400"}, {"f-params-max_iter", "4000"},
			{"f-params-x_min", "-2.2"}, {"f-params-x_max", "0.8"}, {"f-params-y_min", "-1"}, {"f-params-y_max", "1"},
			{"f-chunks", "16"}, {"f-metadata", `{"from": "the dashboard test"}`},
		} {
			b.fill(f.id, f.value)
		}
		b.shot("dashboard-submit")
		b.do(5*time.Second, chromedp.Click(chromedp.ID("submit-button")))
		mandelbrot = b.jobIDFromHash()

		// Live: the bar moves while the job runs, then reaches 100 %.
		b.waitJS(`["running", "succeeded"].includes(document.querySelector("#job-status").textContent)`, 20*time.Second)
		b.waitJS(`document.querySelector("#job-status").textContent === "succeeded"`, 60*time.Second)
		b.waitJS(`document.querySelector("#job-progress").getAttribute("aria-valuenow") === "100"`, 5*time.Second)
		j := s.get(mandelbrot)
		require.Equal(t, "succeeded", j.Status)
		require.JSONEq(t, `{"from":"the dashboard test"}`, string(j.Metadata))

		// The image, fetched with the key into a blob URL.
		b.waitJS(`document.querySelector("#job-image").complete && document.querySelector("#job-image").naturalWidth === 640`, 15*time.Second)
		require.True(t, strings.HasPrefix(eval[string](b, `document.querySelector("#job-image").src`), "blob:"))

		// The timeline: a lane per worker, a bar per chunk.
		b.waitJS(`document.querySelectorAll("#timeline rect.chunk").length === 16 &&
			[...document.querySelectorAll("#timeline rect.chunk")].every(r => r.dataset.status === "succeeded")`, 10*time.Second)
		var apiWorkers []string
		for _, c := range s.chunks(mandelbrot) {
			require.NotNil(t, c.Worker)
			if !slices.Contains(apiWorkers, *c.Worker) {
				apiWorkers = append(apiWorkers, *c.Worker)
			}
		}
		slices.Sort(apiWorkers)
		lanes := eval[[]string](b, `[...document.querySelectorAll("#timeline g.lane")].map(g => g.dataset.worker)`)
		require.Equal(t, apiWorkers, lanes, "one lane per worker that ran a chunk")
		require.Equal(t, []string{"worker-1", "worker-2"}, lanes, "the 16 chunks spread over both workers")
		indexes := eval[[]int](b, `[...document.querySelectorAll("#timeline rect.chunk")].map(r => +r.dataset.index).sort((a, b) => a - b)`)
		require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, indexes)
		for _, c := range s.chunks(mandelbrot) {
			lane := eval[string](b, fmt.Sprintf(`document.querySelector('#timeline rect.chunk[data-index="%d"]').dataset.worker`, c.Index))
			require.Equal(t, *c.Worker, lane, "chunk %d is drawn on its worker's lane", c.Index)
		}
		// Bars span their chunk's time: within a lane, later chunks start further right.
		widths := eval[[]float64](b, `[...document.querySelectorAll("#timeline rect.chunk")].map(r => +r.getAttribute("width"))`)
		for _, w := range widths {
			require.Greater(t, w, 0.0)
		}

		// Focus shows a chunk's details.
		eval[bool](b, `(document.querySelector('#timeline rect.chunk[data-index="5"]').focus(), true)`)
		b.waitJS(`!document.querySelector("#timeline-tip").hidden && document.querySelector("#timeline-tip").textContent.includes("Chunk 5")`, 5*time.Second)
		require.Contains(t, eval[string](b, `document.querySelector("#timeline-tip").textContent`), "attempts 1")
		b.do(5*time.Second, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, document.querySelector("#timeline-title").offsetTop - 420)`))
		eval[bool](b, `(document.querySelector('#timeline rect.chunk[data-index="5"]').focus({preventScroll: true}), true)`)
		b.shot("dashboard-timeline")
		b.do(5*time.Second, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		b.shot("dashboard-job")

		// The list shows it, finished, with its progress bar full.
		b.open("#/jobs")
		b.waitJS(fmt.Sprintf(`document.querySelector('#jobs-body tr[data-job="%s"][data-status="succeeded"] [role=progressbar][aria-valuenow="100"]')`, mandelbrot), 10*time.Second)

		// A narrow window: nothing sticks out sideways.
		b.do(5*time.Second, chromedp.EmulateViewport(390, 844))
		b.open("#/jobs/" + mandelbrot)
		b.waitJS(`document.querySelectorAll("#timeline rect.chunk").length === 16`, 10*time.Second)
		require.LessOrEqual(t, eval[int](b, `document.documentElement.scrollWidth`), 390, "the page fits a narrow window")
		b.shot("dashboard-narrow")
	})

	t.Run("watch a running job on the workers page, then cancel it by keyboard", func(t *testing.T) {
		j := s.submit(`{"kernel":"primes","params":{"to":1e11},"chunks":1024,"metadata":{"why":"cancel test"}}`)
		b := newTab(t, ctx, s.url)
		b.open("#/jobs/" + j.ID)
		b.waitJS(`document.querySelector("#job-status").textContent === "running"`, 20*time.Second)
		b.waitJS(`document.querySelector('#timeline rect.chunk[data-status="running"]')`, 10*time.Second)

		// The jobs list and the workers page, while it runs.
		b.open("#/jobs")
		b.waitJS(fmt.Sprintf(`document.querySelector('#jobs-body tr[data-job="%s"][data-status="running"]')`, j.ID), 10*time.Second)
		b.shot("dashboard-jobs")
		b.open("#/workers")
		b.waitJS(`document.querySelectorAll("#workers-body tr[data-worker]").length === 2 &&
			document.querySelectorAll("#workers-body .slot.busy").length >= 2`, 15*time.Second)
		rows := eval[[]string](b, `[...document.querySelectorAll("#workers-body tr[data-worker]")].map(r => r.dataset.worker)`)
		require.Equal(t, []string{"worker-1", "worker-2"}, rows)
		require.Contains(t, eval[string](b, `document.querySelector("#workers-body").textContent`), j.ID)
		require.Equal(t, 2, eval[int](b, `document.querySelectorAll('#workers-body tr[data-worker="worker-1"] .slot').length`), "concurrency 2: two slots")
		b.waitJS(`document.querySelector('#queues-body tr td') !== null`, 5*time.Second)
		b.shot("dashboard-workers")

		b.open("#/jobs/" + j.ID)
		b.waitJS(`document.querySelector("#job-status").textContent === "running" && !document.querySelector("#job-cancel").disabled`, 10*time.Second)
		b.do(5*time.Second, chromedp.Focus(chromedp.ID("job-cancel")))
		b.press(" ") // Space on the focused button
		b.waitJS(`document.querySelector("#job-status").textContent === "canceled"`, 5*time.Second)
		require.Equal(t, "canceled", s.get(j.ID).Status)
		b.waitJS(`document.querySelector("#job-cancel").disabled`, 5*time.Second)
		b.waitJS(`document.querySelector("#job-error").textContent.includes("canceled")`, 5*time.Second)
		b.waitJS(`![...document.querySelectorAll("#timeline rect.chunk")].some(r => r.dataset.status === "running")`, 10*time.Second)
		b.shot("dashboard-canceled")
	})

	t.Run("retried and failed chunks are marked on the timeline", func(t *testing.T) {
		j := s.submit(`{"kernel":"flaky","chunks":6,"max_retries":1}`)
		b := newTab(t, ctx, s.url)
		b.open("#/jobs/" + j.ID)
		b.waitJS(`document.querySelector("#job-status").textContent === "failed"`, 40*time.Second)
		b.waitJS(`document.querySelector('#timeline rect.chunk[data-index="4"][data-status="failed"]')`, 10*time.Second)
		b.waitJS(`document.querySelector('#timeline rect.chunk[data-index="1"][data-status="succeeded"]')`, 10*time.Second)
		chunks := s.chunks(j.ID)
		require.Equal(t, 2, chunks[1].Attempts)
		require.Equal(t, "failed", chunks[4].Status)
		require.Equal(t, "2", eval[string](b, `document.querySelector('#timeline rect.chunk[data-index="1"]').dataset.attempts`))
		require.True(t, eval[bool](b, `document.querySelector('#timeline rect.chunk[data-index="1"]').classList.contains("retried")`))
		require.True(t, eval[bool](b, `document.querySelector('#timeline rect.chunk[data-index="4"]').classList.contains("retried")`))
		require.Equal(t, "rgb(185, 28, 28)", eval[string](b, `getComputedStyle(document.querySelector('#timeline rect.chunk[data-index="4"]')).fill`), "failed chunks are red")
		require.False(t, eval[bool](b, `document.querySelector('#timeline rect.chunk[data-index="0"]').classList.contains("retried")`))
		require.Contains(t, eval[string](b, `document.querySelector("#timeline-summary").textContent`), "2 retried, 1 failed")
		eval[bool](b, `(document.querySelector('#timeline rect.chunk[data-index="4"]').focus(), true)`)
		b.waitJS(`document.querySelector("#timeline-tip").textContent.includes("attempts 2 (retried)")`, 5*time.Second)
		require.Contains(t, eval[string](b, `document.querySelector("#timeline-tip").textContent`), "flaky chunk 4")
		b.shot("dashboard-retries")
	})

	t.Run("asynqmon at /monitoring/ lists this deployment's queues", func(t *testing.T) {
		s.wait(s.submit(`{"kernel":"primes","params":{"to":1000}}`).ID, 30*time.Second) // its queues exist
		b := newTab(t, ctx, s.url)
		b.do(30*time.Second, chromedp.Navigate(s.url+"/monitoring/"))
		b.waitJS(fmt.Sprintf(`document.title.startsWith("Asynq") && document.body.innerText.includes(%q)`, s.ns+":normal"), 20*time.Second)
		b.shot("monitoring-queues")
	})

	t.Run("a 422 field error shows next to its field", func(t *testing.T) {
		b := newTab(t, ctx, s.url)
		b.open("#/submit")
		b.waitJS(`document.querySelector("#f-params-to")`, 10*time.Second)
		b.setSelect("#f-kernel", "primes")
		b.fill("f-params-to", "2e12")
		b.fill("f-chunks", "5000")
		b.do(10*time.Second, chromedp.Click(chromedp.ID("submit-button")))
		b.waitJS(`document.querySelector("#f-params-to-error").textContent !== ""`, 10*time.Second)
		require.Equal(t, "true", eval[string](b, `document.querySelector("#f-params-to").getAttribute("aria-invalid")`))
		require.Equal(t, "true", eval[string](b, `document.querySelector("#f-chunks").getAttribute("aria-invalid")`))
		require.NotEmpty(t, eval[string](b, `document.querySelector("#f-chunks-error").textContent`))
		require.Empty(t, eval[string](b, `document.querySelector("#f-params-from-error").textContent`))
		require.Contains(t, eval[string](b, `document.querySelector("#f-params-to").getAttribute("aria-describedby")`), "f-params-to-error")
		require.Equal(t, "f-params-to", b.active(), "the first invalid field has the focus")
		require.Equal(t, "#/submit", eval[string](b, `location.hash`), "nothing was submitted")
		b.shot("dashboard-error")
	})

	t.Run("submit with the keyboard only", func(t *testing.T) {
		b := newTab(t, ctx, s.url)
		b.open("#/submit")
		b.waitJS(`document.querySelector("#f-params-to")`, 10*time.Second)
		b.do(5*time.Second, chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
		b.tabTo("f-kernel", 30)
		require.Equal(t, "primes", eval[string](b, `document.querySelector("#f-kernel").value`))
		b.press("\t")
		require.Equal(t, "f-params-from", b.active())
		b.press("\t")
		require.Equal(t, "f-params-to", b.active())
		b.do(15*time.Second, chromedp.KeyEvent("1000000"))
		b.tabTo("submit-button", 20)
		b.press("\r")
		id := b.jobIDFromHash()
		b.waitJS(`document.querySelector("#job-status").textContent === "succeeded"`, 30*time.Second)
		b.waitJS(`document.querySelector("#job-result").textContent.includes('"count": 78498')`, 5*time.Second)
		require.Equal(t, "succeeded", s.get(id).Status)
	})

	t.Run("filter the list and page through it", func(t *testing.T) {
		var ids []string
		for i := range 22 {
			ids = append(ids, s.submit(fmt.Sprintf(`{"kernel":"pi","params":{"samples":%d}}`, 10+i)).ID)
		}
		for _, id := range ids {
			s.wait(id, 30*time.Second)
		}
		b := newTab(t, ctx, s.url)
		b.open("#/jobs")
		b.waitJS(`document.querySelector('#filter-kernel option[value="pi"]')`, 10*time.Second)
		b.setSelect("#filter-kernel", "pi")
		rows := `[...document.querySelectorAll("#jobs-body tr[data-job]")].map(r => r.dataset.job)`
		b.waitJS(fmt.Sprintf(`(%s).length === 20 && (%s)[0] === %q`, rows, rows, ids[21]), 10*time.Second)
		b.do(5*time.Second, chromedp.Click(chromedp.ID("page-next")))
		b.waitJS(fmt.Sprintf(`(%s).join() === %q`, rows, ids[1]+","+ids[0]), 10*time.Second)
		require.True(t, eval[bool](b, `document.querySelector("#page-next").disabled`), "no page after the last")
		b.do(5*time.Second, chromedp.Click(chromedp.ID("page-first")))
		b.waitJS(fmt.Sprintf(`(%s)[0] === %q`, rows, ids[21]), 10*time.Second)

		b.setSelect("#filter-kernel", "")
		b.setSelect("#filter-status", "failed")
		b.waitJS(`[...document.querySelectorAll("#jobs-body tr[data-job]")].length > 0 &&
			[...document.querySelectorAll("#jobs-body tr[data-job]")].every(r => r.dataset.status === "failed")`, 10*time.Second)
	})
}

// flaky is a test kernel of six chunks: chunk 1 fails on its first attempt
// only, chunk 4 on every attempt once chunk 1 has succeeded (so that the
// job, which then fails, shows both).
type flakySpec struct{}

func (flakySpec) Name() string         { return "flaky" }
func (flakySpec) Description() string  { return "Chunk 1 fails once, chunk 4 always (tests only)." }
func (flakySpec) ArtifactType() string { return "" }
func (flakySpec) ParamsSchema() json.RawMessage {
	return json.RawMessage(`{"type":"object","properties":{}}`)
}
func (flakySpec) Prepare(raw json.RawMessage) (*tasks.Prepared, error) {
	if err := tasks.NewParams(raw).Err(); err != nil {
		return nil, err
	}
	return &tasks.Prepared{Params: json.RawMessage(`{}`), Extent: 6, DefaultChunks: 6}, nil
}

type flakyRunner struct {
	failedOnce atomic.Bool
	oneDone    chan struct{} // closed when chunk 1 succeeds
	closeOnce  sync.Once
}

func (*flakyRunner) Name() string { return "flaky" }
func (r *flakyRunner) Run(ctx context.Context, c tasks.Chunk) ([]byte, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(150 * time.Millisecond):
	}
	switch {
	case c.Index == 1 && r.failedOnce.CompareAndSwap(false, true):
		return nil, errors.New("flaky chunk 1, first attempt")
	case c.Index == 4:
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-r.oneDone:
		case <-time.After(30 * time.Second):
		}
		return nil, errors.New("flaky chunk 4 always fails")
	case c.Index == 1:
		r.closeOnce.Do(func() { close(r.oneDone) })
	}
	return []byte(`{}`), nil
}
func (*flakyRunner) Reduce(context.Context, json.RawMessage, tasks.Input, [][]byte) (*tasks.Output, error) {
	return &tasks.Output{Result: json.RawMessage(`{}`)}, nil
}

// sleepy is a test kernel whose chunks wait a minute (or until stopped),
// using no CPU: a job that stays running while the test looks at it.
type sleepySpec struct{ flakySpec }

func (sleepySpec) Name() string        { return "sleepy" }
func (sleepySpec) Description() string { return "Chunks that wait a minute (tests only)." }

type sleepyRunner struct{}

func (sleepyRunner) Name() string { return "sleepy" }
func (sleepyRunner) Run(ctx context.Context, c tasks.Chunk) ([]byte, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Minute):
		return []byte(`{}`), nil
	}
}
func (sleepyRunner) Reduce(context.Context, json.RawMessage, tasks.Input, [][]byte) (*tasks.Output, error) {
	return &tasks.Output{Result: json.RawMessage(`{}`)}, nil
}

// With CRUNCH_API_KEYS set, the page asks for a key, and each tenant sees
// only its own jobs, and other tenants' running tasks only as counts.
func TestDashboardTenants(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	const aliceKey, bobKey = "alice-secret-key-1", "bob-secret-key-22"
	s := startSystem(t, systemOptions{workers: 1, concurrency: 2,
		api: func(c *api.Config) {
			c.APIKeys = map[string]string{"alice": aliceKey, "bob": bobKey}
			c.Specs = append(kernels.Specs(), sleepySpec{})
		},
		worker: func(c *worker.Config) { c.Runners = append(kernels.Runners(), sleepyRunner{}) },
	})
	s.key = aliceKey
	alice := s.submit(`{"kernel":"pi","params":{"samples":1000}}`)
	s.key = bobKey
	bob := s.submit(`{"kernel":"pi","params":{"samples":2000}}`)
	s.wait(bob.ID, 30*time.Second)
	s.key = aliceKey
	s.wait(alice.ID, 30*time.Second)
	running := s.submit(`{"kernel":"sleepy","chunks":64}`)
	t.Cleanup(func() { cancelJob(t, s.url, aliceKey, running.ID) })

	b := newTab(t, ctx, s.url)
	b.open("")
	b.waitJS(`!document.querySelector("#banner").hidden && document.querySelector("#key-state").textContent === "key needed"`, 10*time.Second)
	require.Zero(t, eval[int](b, `document.querySelectorAll("#jobs-body tr[data-job]").length`))

	enterKey := func(key string) {
		t.Helper()
		b.fill("api-key", key) // then Enter submits the key form
		b.do(20*time.Second, chromedp.Focus(chromedp.ID("api-key")), chromedp.KeyEvent("\r"))
		b.waitJS(`document.querySelector("#key-state").textContent === "key accepted"`, 10*time.Second)
	}
	row := func(id string) string {
		return fmt.Sprintf(`document.querySelector('#jobs-body tr[data-job="%s"]')`, id)
	}

	enterKey(aliceKey)
	b.waitJS(row(alice.ID)+` && `+row(running.ID), 10*time.Second)
	require.False(t, eval[bool](b, row(bob.ID)+` !== null`), "alice does not see bob's job")
	require.NotContains(t, eval[string](b, `location.href`), aliceKey, "the key stays out of the URL")
	require.Equal(t, aliceKey, eval[string](b, `sessionStorage.getItem("crunch.apiKey")`))
	b.shot("dashboard-tenant-alice")

	enterKey(bobKey)
	b.waitJS(row(bob.ID), 10*time.Second)
	require.False(t, eval[bool](b, row(alice.ID)+` !== null || `+row(running.ID)+` !== null`), "bob does not see alice's jobs")

	// Bob's workers page counts alice's running chunks without naming her job.
	b.open("#/workers")
	b.waitJS(`document.querySelector("#workers-body").textContent.includes("of other tenants")`, 15*time.Second)
	html := eval[string](b, `document.body.innerHTML`)
	require.NotContains(t, html, running.ID)
	require.NotContains(t, html, alice.ID)

	// Alice's own job page by URL: bob gets "no such job".
	b.open("#/jobs/" + alice.ID)
	b.waitJS(`document.querySelector("#banner").textContent.includes("No job")`, 10*time.Second)

	// A wrong key is refused and shown so.
	b.fill("api-key", "not-a-key-at-all")
	b.do(20*time.Second, chromedp.Focus(chromedp.ID("api-key")), chromedp.KeyEvent("\r"))
	b.waitJS(`document.querySelector("#key-state").textContent === "key refused"`, 10*time.Second)

	cancelJob(t, s.url, aliceKey, running.ID)
	var list struct{ Jobs []job }
	s.key = bobKey
	s.do(http.MethodGet, "/v1/jobs", nil).json(t, &list)
	require.Len(t, list.Jobs, 1)
}

// cancelJob cancels a job, also from a cleanup (whose test context is done).
func cancelJob(t *testing.T, url, key, id string) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url+"/v1/jobs/"+id+"/cancel", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
}

package grafana_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

type dashboard struct {
	Title  string  `json:"title"`
	UID    string  `json:"uid"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // of a collapsed row
}

func loadDashboard(t *testing.T) (dashboard, []panel) {
	t.Helper()
	b, err := os.ReadFile("crunch-dashboard.json")
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(b, &d))
	var all []panel
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			all = append(all, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return d, all
}

// TestDashboardShape checks what Grafana needs to import the dashboard:
// unique panel ids, and every query on the datasource variable.
func TestDashboardShape(t *testing.T) {
	t.Parallel()
	d, panels := loadDashboard(t)
	require.Equal(t, "crunch", d.Title)
	require.NotEmpty(t, d.UID)
	ids := map[int]bool{}
	queries := 0
	for _, p := range panels {
		require.False(t, ids[p.ID], "panel id %d twice", p.ID)
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		require.NotNil(t, p.Datasource, p.Title)
		require.Equal(t, "${datasource}", p.Datasource.UID, p.Title)
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			require.NotEmpty(t, tg.Expr, p.Title)
			queries++
		}
	}
	require.GreaterOrEqual(t, queries, 15)
}

func TestMetricNames(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		expr string
		want []string
	}{
		{`sum by (status) (max by (kernel, status) (increase(crunch_jobs_finished_total[$__range])))`, []string{"crunch_jobs_finished_total"}},
		{`histogram_quantile(0.95, sum by (le) (rate(crunch_chunk_duration_seconds_bucket{kernel="primes"}[5m])))`, []string{"crunch_chunk_duration_seconds_bucket"}},
		{`max by (queue) (asynq_queue_size) / on (queue) group_left max by (queue) (asynq_queue_latency_seconds offset 5m)`, []string{"asynq_queue_latency_seconds", "asynq_queue_size"}},
		{`sum without (instance) (rate(a_total[1m])) > bool 0 or vector(0)`, []string{"a_total"}},
		{`{__name__="up"}`, nil},
	} {
		require.Equal(t, tt.want, metricNames(tt.expr), tt.expr)
	}
}

// TestDashboardMetricsExist runs an api and two worker processes, makes
// every labelled series appear (a job runs, a worker is killed mid-chunk
// and its chunk handed back), scrapes /metrics of the API and the
// surviving worker, and checks every metric the dashboard queries.
func TestDashboardMetricsExist(t *testing.T) {
	t.Parallel()
	_, panels := loadDashboard(t)
	queried := map[string][]string{} // metric → panels
	for _, p := range panels {
		for _, tg := range p.Targets {
			for _, m := range metricNames(tg.Expr) {
				queried[m] = append(queried[m], p.Title)
			}
		}
	}
	require.NotEmpty(t, queried)

	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+string(filepath.Separator), "../../api", "../../worker")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	env := []string{"REDIS_URL=" + redistest.URL(t), "CRUNCH_NAMESPACE=" + redistest.Namespace(t), "CRUNCH_LOG_LEVEL=warn"}
	apiAddr, workerAddr, deadAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	start := func(name string, extra ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, filepath.Join(bin, name))
		cmd.Env = append(append(os.Environ(), env...), extra...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		cmd.WaitDelay = 5 * time.Second
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
		return cmd
	}
	start("api", "CRUNCH_HTTP_ADDR="+apiAddr)
	doomed := start("worker", "CRUNCH_WORKER_ID=doomed", "CRUNCH_WORKER_HTTP_ADDR="+deadAddr, "CRUNCH_WORKER_CONCURRENCY=1")
	base := "http://" + apiAddr
	waitReady(t, base+"/readyz")
	waitReady(t, "http://"+deadAddr+"/readyz")

	// One job to its end, on the doomed worker.
	var job struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	call(t, http.MethodPost, base+"/v1/jobs", `{"kernel":"primes","params":{"to":1e6},"chunks":2}`, &job)
	require.Eventually(t, func() bool {
		call(t, http.MethodGet, base+"/v1/jobs/"+job.ID, "", &job)
		return job.Status == "succeeded"
	}, 30*time.Second, 20*time.Millisecond)

	// A long job: once the doomed worker runs one of its chunks, kill it;
	// the other worker hands the chunk back.
	call(t, http.MethodPost, base+"/v1/jobs", `{"kernel":"primes","params":{"to":1e11},"chunks":64}`, &job)
	require.Eventually(t, func() bool {
		var chunks struct {
			Chunks []struct {
				Status string  `json:"status"`
				Worker *string `json:"worker"`
			} `json:"chunks"`
		}
		call(t, http.MethodGet, base+"/v1/jobs/"+job.ID+"/chunks", "", &chunks)
		return slices.ContainsFunc(chunks.Chunks, func(c struct {
			Status string  `json:"status"`
			Worker *string `json:"worker"`
		}) bool {
			return c.Status == "running" && c.Worker != nil && *c.Worker == "doomed"
		})
	}, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, doomed.Process.Signal(syscall.SIGKILL))
	start("worker", "CRUNCH_WORKER_ID=survivor", "CRUNCH_WORKER_HTTP_ADDR="+workerAddr, "CRUNCH_WORKER_CONCURRENCY=1")
	waitReady(t, "http://"+workerAddr+"/readyz")
	require.Eventually(t, func() bool {
		return scrape(t, "http://"+workerAddr+"/metrics")["crunch_tasks_handed_back_total"]
	}, 60*time.Second, 100*time.Millisecond, "the survivor hands back the killed worker's chunk")
	call(t, http.MethodPost, base+"/v1/jobs/"+job.ID+"/cancel", "", &job)

	// One more job to its end, now on the survivor, whose metrics are the
	// ones scraped.
	call(t, http.MethodPost, base+"/v1/jobs", `{"kernel":"primes","params":{"to":1e6},"chunks":2}`, &job)
	require.Eventually(t, func() bool {
		call(t, http.MethodGet, base+"/v1/jobs/"+job.ID, "", &job)
		return job.Status == "succeeded"
	}, 30*time.Second, 20*time.Millisecond)

	exposed := scrape(t, base+"/metrics")
	for name := range scrape(t, "http://"+workerAddr+"/metrics") {
		exposed[name] = true
	}
	var missing []string
	for m, where := range queried {
		if !exposed[m] {
			missing = append(missing, fmt.Sprintf("%s (panels %q)", m, where))
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "metrics the dashboard queries but no process exposes")
}

// metricNames returns the metric names a PromQL expression selects, sorted:
// the identifiers left once strings, label matchers, range and offset
// durations, grouping clauses, function calls and keywords are taken out.
// It is not a PromQL parser, but it is enough for the dashboard's queries,
// and TestMetricNames keeps it so.
func metricNames(expr string) []string {
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`"(?:[^"\\]|\\.)*"`),                                             // strings
		regexp.MustCompile(`\{[^}]*\}`),                                                     // label matchers
		regexp.MustCompile(`\[[^\]]*\]`),                                                    // ranges
		regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`), // groupings
		regexp.MustCompile(`\boffset\s+\S+`),                                                // offsets
		regexp.MustCompile(`\b[a-zA-Z_][a-zA-Z0-9_]*\s*\(`),                                 // function calls
	} {
		expr = re.ReplaceAllString(expr, " ")
	}
	keywords := map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
		"group_right": true, "bool": true, "and": true, "or": true, "unless": true, "offset": true, "inf": true, "nan": true}
	seen := map[string]bool{}
	var names []string
	for _, id := range regexp.MustCompile(`(?:^|[^$\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)`).FindAllStringSubmatch(expr, -1) {
		name := id[1]
		if keywords[strings.ToLower(name)] || seen[name] {
			continue
		}
		seen[name] = true
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// scrape returns the sample names of a Prometheus text exposition
// (histograms as their _bucket, _sum and _count series).
func scrape(t *testing.T, url string) map[string]bool {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	names := map[string]bool{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	require.NoError(t, sc.Err())
	return names
}

func call(t *testing.T, method, url, body string, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Less(t, res.StatusCode, 300, "%s %s: %s", method, url, b)
	require.NoError(t, json.Unmarshal(b, out), "%s", b)
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	require.Eventually(t, func() bool {
		res, err := http.Get(url)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond, "%s never ready", url)
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

package api

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/hibiken/asynq/x/metrics"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type httpMetrics struct {
	requests      *prometheus.CounterVec
	duration      *prometheus.HistogramVec
	jobsSubmitted *prometheus.CounterVec
}

// newMetrics builds the server's own registry (not the global one, so
// several servers can live in one process, as in tests).
func newMetrics(s *Server) (*prometheus.Registry, *httpMetrics) {
	reg := prometheus.NewRegistry()
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crunch_http_requests_total", Help: "HTTP requests by method, route and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "crunch_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"method", "route"}),
		jobsSubmitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crunch_jobs_submitted_total", Help: "Jobs accepted by this API process, by kernel.",
		}, []string{"kernel"}),
	}
	reg.MustRegister(m.requests, m.duration, m.jobsSubmitted,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		metrics.NewQueueMetricsCollector(s.inspector),
		&jobTotals{s: s},
		&backlogCollector{s: s},
	)
	return reg, m
}

// recordRequest counts every request and its latency by route template
// (never the raw path, whose ids would explode the label space).
func (s *Server) recordRequest(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		method := c.Request().Method
		s.metrics.requests.WithLabelValues(method, route, strconv.Itoa(c.Response().Status)).Inc()
		s.metrics.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		s.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "http request",
			slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
			slog.String("method", method), slog.String("route", route),
			slog.Int("status", c.Response().Status), slog.Duration("duration", time.Since(start)))
		return nil
	}
}

// serveMetrics is GET /metrics.
func (s *Server) serveMetrics(c echo.Context) error {
	promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}).ServeHTTP(c.Response(), c.Request())
	return nil
}

// jobTotals exposes the deployment-wide count of finished jobs by kernel
// and status, which workers keep in Redis, so any API replica reports the
// same numbers.
type jobTotals struct{ s *Server }

var jobTotalsDesc = prometheus.NewDesc("crunch_jobs_finished_total",
	"Jobs finished across the deployment, by kernel and terminal status.", []string{"kernel", "status"}, nil)

func (j *jobTotals) Describe(ch chan<- *prometheus.Desc) { ch <- jobTotalsDesc }

func (j *jobTotals) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	totals, err := j.s.store.FinishedTotals(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobTotalsDesc, err)
		return
	}
	for _, t := range totals {
		ch <- prometheus.MustNewConstMetric(jobTotalsDesc, prometheus.CounterValue, float64(t.Count), t.Kernel, string(t.Status))
	}
}

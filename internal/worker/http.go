package worker

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/internal/webhook"
)

// httpHandler serves the worker's own /healthz, /readyz and /metrics.
func (w *Worker) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		rw.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /readyz", func(rw http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := w.store.Ping(ctx); err != nil {
			rw.Header().Set("Content-Type", "application/problem+json")
			rw.WriteHeader(http.StatusServiceUnavailable)
			rw.Write([]byte(`{"type":"unavailable","title":"Service Unavailable","status":503,"detail":"Redis is unreachable."}`))
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.Write([]byte(`{"status":"ready"}`))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(w.registry, promhttp.HandlerOpts{}))
	return mux
}

type metrics struct {
	chunks        *prometheus.CounterVec
	chunkDuration *prometheus.HistogramVec
	jobs          *prometheus.CounterVec
	jobDuration   *prometheus.HistogramVec
	handedBack    *prometheus.CounterVec
	webhooks      *prometheus.CounterVec
}

func newMetrics() (*prometheus.Registry, *metrics) {
	reg := prometheus.NewRegistry()
	m := &metrics{
		chunks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crunch_chunks_total", Help: "Chunks run by this worker, by kernel and outcome (succeeded, failed, stopped, timeout, superseded).",
		}, []string{"kernel", "outcome"}),
		chunkDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "crunch_chunk_duration_seconds", Help: "Time to run one chunk, by kernel.",
			Buckets: prometheus.ExponentialBuckets(0.001, 3, 12),
		}, []string{"kernel"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crunch_worker_jobs_finished_total", Help: "Jobs this worker brought to a terminal status, by kernel and status.",
		}, []string{"kernel", "status"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "crunch_job_duration_seconds", Help: "Time from a job's creation to its terminal status, by kernel and status.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 12),
		}, []string{"kernel", "status"}),
		handedBack: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crunch_tasks_handed_back_total", Help: "Tasks of dead workers this worker handed back to the queue, by step (plan, chunk, reduce).",
		}, []string{"step"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crunch_webhook_deliveries_total", Help: "Webhook delivery attempts made by this worker, by event and outcome (delivered, retrying, given_up).",
		}, []string{"event", "outcome"}),
	}
	// Series that exist from the start, so that dashboards and alerts see
	// zeros rather than nothing.
	for _, step := range []string{store.StepPlan, store.StepChunk, store.StepReduce} {
		m.handedBack.WithLabelValues(step)
	}
	for _, event := range webhook.Events {
		for _, outcome := range webhook.Outcomes {
			m.webhooks.WithLabelValues(event, outcome)
		}
	}
	reg.MustRegister(m.chunks, m.chunkDuration, m.jobs, m.jobDuration, m.handedBack, m.webhooks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg, m
}

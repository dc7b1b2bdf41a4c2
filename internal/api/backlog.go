package api

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/crunchjobs/crunch/internal/queue"
)

// backlogCollector exports the work left in unfinished jobs, by priority:
// crunch_backlog_chunks counts the chunks not completed yet, which asynq's
// queue sizes do not show, since a job releases its chunks to the queue a
// window (4) at a time: a job of 4096 chunks shows 4 pending tasks.
// crunch_backlog_runnable_chunks caps each job at that window: the chunks
// workers could run at once, the signal to scale workers on (more workers
// than that would idle). The values are deployment-wide (read from Redis),
// so every API replica reports the same; aggregate replicas with max.
type backlogCollector struct{ s *Server }

var (
	backlogChunksDesc = prometheus.NewDesc("crunch_backlog_chunks",
		"Chunks of unfinished jobs that have not completed (queued, running or awaiting a retry), across the deployment, by job priority.",
		[]string{"priority"}, nil)
	backlogRunnableDesc = prometheus.NewDesc("crunch_backlog_runnable_chunks",
		"Chunks of unfinished jobs that workers could run at once: per job its chunks not completed, at most the release window (4). Scale workers on this.",
		[]string{"priority"}, nil)
	backlogJobsDesc = prometheus.NewDesc("crunch_backlog_jobs",
		"Unfinished (queued or running) jobs across the deployment, by priority.", []string{"priority"}, nil)
)

func (b *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backlogChunksDesc
	ch <- backlogRunnableDesc
	ch <- backlogJobsDesc
}

func (b *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ids, err := b.unfinished()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(backlogChunksDesc, err)
		return
	}
	backlog, err := b.s.store.Backlog(ctx, ids, b.s.cfg.JobWindow)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(backlogChunksDesc, err)
		return
	}
	for _, p := range []string{queue.PriorityHigh, queue.PriorityNormal, queue.PriorityLow} {
		ch <- prometheus.MustNewConstMetric(backlogChunksDesc, prometheus.GaugeValue, float64(backlog[p].Chunks), p)
		ch <- prometheus.MustNewConstMetric(backlogRunnableDesc, prometheus.GaugeValue, float64(backlog[p].Runnable), p)
		ch <- prometheus.MustNewConstMetric(backlogJobsDesc, prometheus.GaugeValue, float64(backlog[p].Jobs), p)
	}
}

// unfinished returns the ids of the jobs that have a deadline task: every
// accepted job gets one, and it is deleted when the job ends.
func (b *backlogCollector) unfinished() ([]string, error) {
	ns := b.s.store.Namespace()
	queueName := b.s.enqueue.Names().Control
	var ids []string
	for page := 1; ; page++ {
		tasks, err := b.s.inspector.ListScheduledTasks(queueName, asynq.PageSize(1000), asynq.Page(page))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return ids, nil
		}
		if err != nil {
			return nil, err
		}
		for _, t := range tasks {
			if id, ok := strings.CutSuffix(strings.TrimPrefix(t.ID, ns+":"), ":deadline"); ok {
				ids = append(ids, id)
			}
		}
		if len(tasks) < 1000 {
			return ids, nil
		}
	}
}

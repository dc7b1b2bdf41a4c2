package worker

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"
)

// reconcile plans jobs that were stored but whose plan task was lost (the
// API died between the two steps). Every worker runs it; the plan task's
// id makes concurrent reconcilers harmless.
func (w *Worker) reconcile(ctx context.Context) {
	for {
		// Jittered so that many workers do not scan in lockstep.
		wait := reconcileAge/2 + rand.N(reconcileAge/2)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		w.reconcileOnce(ctx)
	}
}

// reconcileOnce enqueues the plan of every job pending for longer than
// reconcileAge.
func (w *Worker) reconcileOnce(ctx context.Context) {
	ids, err := w.store.Unplanned(ctx, w.cfg.Now().Add(-reconcileAge), 100)
	if err != nil {
		return
	}
	for _, id := range ids {
		if err := w.enqueue.Plan(ctx, id); err != nil {
			w.log.WarnContext(ctx, "re-plan job", slog.String("job", id), slog.Any("err", err))
		}
	}
}

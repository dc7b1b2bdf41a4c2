package store

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/crunchjobs/crunch/crunchtype"
)

// Event kinds published when a job changes.
const (
	EventProgress = "progress"
	EventStatus   = "status"
)

// Publish announces a change of job id.
func (s *Store) Publish(ctx context.Context, id, kind string) error {
	return s.rdb.Publish(ctx, s.EventsChannel(id), kind).Err()
}

// PublishStop announces that job id ended early.
func (s *Store) PublishStop(ctx context.Context, id string) error {
	return s.rdb.Publish(ctx, s.CancelChannel(), id).Err()
}

// Statuses returns the current status of each job ("" for a missing job)
// in one round trip.
func (s *Store) Statuses(ctx context.Context, ids []string) ([]crunchtype.Status, error) {
	cmds := make([]*redis.StringCmd, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGet(ctx, s.keys(id).job, "status")
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		return nil, err
	}
	out := make([]crunchtype.Status, len(ids))
	for i, c := range cmds {
		out[i] = crunchtype.Status(c.Val())
	}
	return out, nil
}

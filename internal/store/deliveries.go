package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/crunchjobs/crunch/crunchtype"
)

// AddDelivery records a webhook attempt of job id, and keeps the job at
// least keep longer, so that the job outlives its last webhook attempt.
func (s *Store) AddDelivery(ctx context.Context, id string, d crunchtype.Delivery, keep time.Duration) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	key := s.deliveriesKey(id)
	if err := s.rdb.RPush(ctx, key, b).Err(); err != nil {
		return fmt.Errorf("record delivery of %s: %w", id, err)
	}
	return s.KeepAtLeast(ctx, id, keep)
}

// Deliveries returns every webhook attempt of job id, oldest first.
func (s *Store) Deliveries(ctx context.Context, id string) ([]crunchtype.Delivery, error) {
	raw, err := s.rdb.LRange(ctx, s.deliveriesKey(id), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", id, err)
	}
	out := make([]crunchtype.Delivery, 0, len(raw))
	for _, r := range raw {
		var d crunchtype.Delivery
		if err := json.Unmarshal([]byte(r), &d); err != nil {
			return nil, fmt.Errorf("decode delivery of %s: %w", id, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// KeepAtLeast extends the TTL of every key of job id that expires sooner
// than d (unfinished jobs have no TTL and are left alone).
func (s *Store) KeepAtLeast(ctx context.Context, id string, d time.Duration) error {
	keys := append(s.keys(id).all(), s.deliveriesKey(id))
	secs := int64(d / time.Second)
	if err := keepAtLeast.Run(ctx, s.rdb, keys, secs).Err(); err != nil {
		return fmt.Errorf("extend ttl of %s: %w", id, err)
	}
	return nil
}

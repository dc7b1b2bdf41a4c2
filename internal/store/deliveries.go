package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Delivery is one webhook attempt (the contract's Delivery object).
type Delivery struct {
	Event      string    `json:"event"`
	WebhookID  string    `json:"webhook_id"`
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code"`
	Error      *string   `json:"error"`
	DurationMS float64   `json:"duration_ms"`
	// GivenUp marks the last attempt of an event that was never delivered:
	// retries ran out, the receiver answered 410 Gone, or the target is
	// refused for good.
	GivenUp bool `json:"given_up"`
}

func (s *Store) deliveriesKey(id string) string { return s.keys(id).job + ":deliveries" }

// AddDelivery records a webhook attempt of job id, and keeps the job at
// least keep longer, so that the job outlives its last webhook attempt.
func (s *Store) AddDelivery(ctx context.Context, id string, d Delivery, keep time.Duration) error {
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
func (s *Store) Deliveries(ctx context.Context, id string) ([]Delivery, error) {
	raw, err := s.rdb.LRange(ctx, s.deliveriesKey(id), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", id, err)
	}
	out := make([]Delivery, 0, len(raw))
	for _, r := range raw {
		var d Delivery
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

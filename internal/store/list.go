package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crunchjobs/crunch/crunchtype"
)

// Filter selects jobs in a listing; empty fields match every job.
type Filter struct {
	Status crunchtype.Status
	Kernel string
}

func (f Filter) match(j *Job) bool {
	return (f.Status == "" || j.Status == f.Status) && (f.Kernel == "" || j.Kernel == f.Kernel)
}

// maxScan bounds how many index entries one List call reads, so that a
// filter matching few jobs cannot make a request scan a tenant's history.
const maxScan = 5000

// List returns up to limit of a tenant's jobs matching f, newest first,
// starting after the job with id after ("" for the start). next is the id
// to continue after, or "" when the listing is complete. Job ids are ULIDs,
// so the order is creation order and is stable while jobs are added: a new
// job sorts before every cursor and never shifts a later page.
func (s *Store) List(ctx context.Context, tenant string, f Filter, after string, limit int) (jobs []*Job, next string, err error) {
	key := s.tenantKey(tenant)
	start := "+"
	if after != "" {
		start = "(" + after
	}
	scanned := 0
	for len(jobs) < limit && scanned < maxScan {
		batch := min(max(limit-len(jobs), 50), 500)
		ids, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
			Key: key, Start: start, Stop: "-", ByLex: true, Rev: true, Count: int64(batch),
		}).Result()
		if err != nil {
			return nil, "", fmt.Errorf("list jobs: %w", err)
		}
		if len(ids) == 0 {
			return jobs, "", nil
		}
		found, err := s.getMany(ctx, ids)
		if err != nil {
			return nil, "", err
		}
		for i, j := range found {
			scanned++
			start = "(" + ids[i]
			if j == nil {
				s.rdb.ZRem(ctx, key, ids[i]) // expired: drop it from the index
				continue
			}
			if f.match(j) {
				jobs = append(jobs, j)
				if len(jobs) == limit {
					return jobs, ids[i], nil
				}
			}
		}
		if len(ids) < batch {
			return jobs, "", nil
		}
	}
	if len(jobs) == 0 && scanned == 0 {
		return jobs, "", nil
	}
	return jobs, start[1:], nil
}

// getMany reads jobs in one round trip; a missing job is nil.
func (s *Store) getMany(ctx context.Context, ids []string) ([]*Job, error) {
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, s.keys(id).job)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read jobs: %w", err)
	}
	out := make([]*Job, len(ids))
	for i, c := range cmds {
		m := c.Val()
		if len(m) == 0 || m["id"] == "" {
			continue
		}
		if out[i], err = decodeJob(m); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Idempotency is the record behind an Idempotency-Key.
type Idempotency struct {
	JobID    string
	BodyHash string
}

// ClaimIdempotency atomically records that the request with keyHash (a
// hash of the Idempotency-Key) creates job want, unless another request
// claimed that key first: it returns the record that holds, which is want
// itself when this call claimed it.
func (s *Store) ClaimIdempotency(ctx context.Context, tenant, keyHash string, want Idempotency) (Idempotency, error) {
	ttl := max(s.cfg.ResultTTL, time.Minute)
	v, err := claimIdempotency.Run(ctx, s.rdb, []string{s.idempotencyKey(tenant, keyHash)},
		want.JobID+" "+want.BodyHash, ttl.Milliseconds()).Text()
	if err != nil {
		return Idempotency{}, fmt.Errorf("claim idempotency key: %w", err)
	}
	var got Idempotency
	if _, err := fmt.Sscanf(v, "%s %s", &got.JobID, &got.BodyHash); err != nil {
		return Idempotency{}, fmt.Errorf("decode idempotency record: %w", err)
	}
	return got, nil
}

// ReleaseIdempotency forgets a claim whose job was never created.
func (s *Store) ReleaseIdempotency(ctx context.Context, tenant, keyHash string, held Idempotency) error {
	return releaseIdempotency.Run(ctx, s.rdb, []string{s.idempotencyKey(tenant, keyHash)}, held.JobID+" "+held.BodyHash).Err()
}

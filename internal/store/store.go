package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crunchjobs/crunch/crunchtype"
)

// Config configures a Store.
type Config struct {
	// Namespace prefixes every key, so several deployments (or tests) can
	// share one Redis. Defaults to "crunch".
	Namespace string
	// ResultTTL is how long a job is kept after it finishes. Defaults to 24h.
	ResultTTL time.Duration
}

// Defaults.
const (
	NamespaceDefault = "crunch"
	ResultTTLDefault = 24 * time.Hour
)

// WithDefaults fills unset fields with their defaults.
func (c Config) WithDefaults() Config {
	c.Namespace = cmp.Or(c.Namespace, NamespaceDefault)
	c.ResultTTL = cmp.Or(c.ResultTTL, ResultTTLDefault)
	return c
}

// Errors.
var (
	ErrNotFound = errors.New("job not found")
	// ErrNotActive means the job has already finished or been canceled.
	ErrNotActive = errors.New("job is not queued or running")
)

// Store reads and writes jobs in Redis.
type Store struct {
	rdb redis.UniversalClient
	cfg Config
}

// New returns a Store on rdb, which it does not own.
func New(rdb redis.UniversalClient, cfg Config) *Store {
	return &Store{rdb: rdb, cfg: cfg.WithDefaults()}
}

// Namespace is the store's key prefix.
func (s *Store) Namespace() string { return s.cfg.Namespace }

// Redis is the store's client.
func (s *Store) Redis() redis.UniversalClient { return s.rdb }

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.rdb.Ping(ctx).Err()
}

const timeLayout = time.RFC3339Nano

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// Create stores a new queued job and its bulk input (nil for none).
func (s *Store) Create(ctx context.Context, j *Job, input []byte) error {
	k := s.keys(j.ID)
	fields := map[string]any{
		"id":            j.ID,
		"tenant":        j.Tenant,
		"kernel":        j.Kernel,
		"status":        string(crunchtype.StatusQueued),
		"params":        string(j.Params),
		"priority":      j.Priority,
		"metadata":      string(j.Metadata),
		"created_at":    formatTime(j.CreatedAt),
		"deadline":      formatTime(j.Deadline),
		"max_retries":   j.MaxRetries,
		"extent":        j.Extent,
		"chunks_total":  j.Chunks.Total,
		"chunks_done":   0,
		"chunks_failed": 0,
		"has_input":     input != nil,
	}
	if j.Webhook != nil {
		b, err := json.Marshal(j.Webhook)
		if err != nil {
			return fmt.Errorf("encode webhook: %w", err)
		}
		fields["webhook"] = string(b)
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if input != nil {
			p.Set(ctx, k.input, input, 0)
		}
		p.HSet(ctx, k.job, fields)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store job %s: %w", j.ID, err)
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, s.pendingKey(), redis.Z{Score: float64(j.CreatedAt.UnixMilli()), Member: j.ID})
		// Score 0 for all: the index is ordered by id, and ids are ULIDs,
		// which sort by creation time.
		p.ZAdd(ctx, s.tenantKey(j.Tenant), redis.Z{Score: 0, Member: j.ID})
		return nil
	})
	if err != nil {
		return fmt.Errorf("index job %s: %w", j.ID, err)
	}
	return nil
}

// Delete removes a job that was never accepted (its enqueue failed) and
// no longer counts it among its tenant's unfinished jobs.
func (s *Store) Delete(ctx context.Context, j *Job) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.keys(j.ID).all()...)
		p.ZRem(ctx, s.pendingKey(), j.ID)
		p.ZRem(ctx, s.tenantKey(j.Tenant), j.ID)
		p.Eval(ctx, releaseActive, []string{s.activeKey(j.Tenant)})
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete job %s: %w", j.ID, err)
	}
	return nil
}

// Get returns a job.
func (s *Store) Get(ctx context.Context, id string) (*Job, error) {
	m, err := s.rdb.HGetAll(ctx, s.keys(id).job).Result()
	if err != nil {
		return nil, fmt.Errorf("get job %s: %w", id, err)
	}
	if len(m) == 0 || m["id"] == "" {
		return nil, ErrNotFound
	}
	return decodeJob(m)
}

func decodeJob(m map[string]string) (*Job, error) {
	j := &Job{
		Job: crunchtype.Job{
			ID:       m["id"],
			Kernel:   m["kernel"],
			Status:   crunchtype.Status(m["status"]),
			Params:   json.RawMessage(m["params"]),
			Priority: m["priority"],
			Metadata: json.RawMessage(m["metadata"]),
		},
		Tenant:   m["tenant"],
		HasInput: m["has_input"] == "1",
		Planned:  m["planned"] == "1",
	}
	var err error
	atoi := func(key string) int {
		n, e := strconv.Atoi(m[key])
		err = cmp.Or(err, e)
		return n
	}
	j.Chunks = crunchtype.ChunkCounts{Total: atoi("chunks_total"), Done: atoi("chunks_done"), Failed: atoi("chunks_failed")}
	j.MaxRetries = atoi("max_retries")
	j.Extent, _ = strconv.ParseInt(m["extent"], 10, 64)
	if j.Chunks.Total > 0 {
		j.Progress = float64(j.Chunks.Done) / float64(j.Chunks.Total)
	}
	if j.CreatedAt, err = time.Parse(timeLayout, m["created_at"]); err != nil {
		return nil, fmt.Errorf("decode job %s: created_at: %w", j.ID, err)
	}
	j.Deadline, _ = time.Parse(timeLayout, m["deadline"])
	j.StartedAt = parseOptionalTime(m["started_at"])
	j.FinishedAt = parseOptionalTime(m["finished_at"])
	if len(j.Metadata) == 0 {
		j.Metadata = json.RawMessage("{}")
	}
	if r := m["result"]; r != "" {
		j.Result = json.RawMessage(r)
	}
	if e := m["error"]; e != "" {
		j.Error = new(crunchtype.Problem)
		err = cmp.Or(err, json.Unmarshal([]byte(e), j.Error))
	}
	if w := m["webhook"]; w != "" {
		j.Webhook = new(crunchtype.Webhook)
		err = cmp.Or(err, json.Unmarshal([]byte(w), j.Webhook))
	}
	if err != nil {
		return nil, fmt.Errorf("decode job %s: %w", j.ID, err)
	}
	return j, nil
}

func parseOptionalTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return nil
	}
	return &t
}

// MarkPlanned records that every chunk task of a job has been enqueued.
func (s *Store) MarkPlanned(ctx context.Context, id string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.keys(id).job, "planned", 1)
		p.ZRem(ctx, s.pendingKey(), id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark job %s planned: %w", id, err)
	}
	return nil
}

// DropPending removes a job from the pending set, so that reconcilers no
// longer plan it.
func (s *Store) DropPending(ctx context.Context, id string) error {
	return s.rdb.ZRem(ctx, s.pendingKey(), id).Err()
}

// Unplanned returns the ids of accepted jobs created before t that are not
// planned yet — jobs whose plan task may have been lost.
func (s *Store) Unplanned(ctx context.Context, before time.Time, limit int64) ([]string, error) {
	return s.rdb.ZRangeByScore(ctx, s.pendingKey(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(before.UnixMilli(), 10), Count: limit,
	}).Result()
}

// Completed reports which chunk indexes of a job have completed.
func (s *Store) Completed(ctx context.Context, id string) (map[int]bool, error) {
	members, err := s.rdb.SMembers(ctx, s.keys(id).done).Result()
	if err != nil {
		return nil, fmt.Errorf("completed chunks of %s: %w", id, err)
	}
	done := make(map[int]bool, len(members))
	for _, m := range members {
		if i, err := strconv.Atoi(m); err == nil {
			done[i] = true
		}
	}
	return done, nil
}

// Total counts finished jobs of one kernel and status.
type Total struct {
	Kernel string
	Status crunchtype.Status
	Count  int64
}

// FinishedTotals returns how many jobs have finished, by kernel and status,
// across the deployment.
func (s *Store) FinishedTotals(ctx context.Context) ([]Total, error) {
	m, err := s.rdb.HGetAll(ctx, s.totalsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("finished totals: %w", err)
	}
	totals := make([]Total, 0, len(m))
	for field, v := range m {
		kernel, status, ok := strings.Cut(field, ":")
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil {
			continue
		}
		totals = append(totals, Total{Kernel: kernel, Status: crunchtype.Status(status), Count: n})
	}
	return totals, nil
}

// AdmitActive counts a new unfinished job of tenant unless the tenant
// already has max of them; it reports whether the job was admitted.
// A job admitted must be created, or released with ReleaseActive.
func (s *Store) AdmitActive(ctx context.Context, tenant string, max int) (bool, error) {
	n, err := admitActive.Run(ctx, s.rdb, []string{s.activeKey(tenant)}, max).Int()
	if err != nil {
		return false, fmt.Errorf("admit job: %w", err)
	}
	return n == 1, nil
}

// ReleaseActive undoes AdmitActive for a job that was not created.
func (s *Store) ReleaseActive(ctx context.Context, tenant string) error {
	return s.rdb.Eval(ctx, releaseActive, []string{s.activeKey(tenant)}).Err()
}

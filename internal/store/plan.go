package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// setPlan records the extent (and, when ARGV[2] > 0 and the request fixed
// none, the chunk count) of a job whose extent was unknown at creation:
// only while the job is unfinished and its extent still unknown (-1), so
// that two workers planning one job agree on the first answer.
//
// KEYS: job. ARGV: extent, chunks (0: keep the stored count).
// Returns {verdict, extent, chunks_total} as strings; verdict is "ok",
// "ended" (the job is finished) or "missing".
var setPlan = redis.NewScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', '', ''} end
if status ~= 'queued' and status ~= 'running' then return {'ended', '', ''} end
if redis.call('HGET', KEYS[1], 'extent') == '-1' then
  redis.call('HSET', KEYS[1], 'extent', ARGV[1])
  if tonumber(ARGV[2]) > 0 and redis.call('HGET', KEYS[1], 'chunks_total') == '0' then
    redis.call('HSET', KEYS[1], 'chunks_total', ARGV[2])
  end
end
return {'ok', redis.call('HGET', KEYS[1], 'extent'), redis.call('HGET', KEYS[1], 'chunks_total')}
`)

// SetPlan stores the extent and default chunk count a runner's plan step
// computed for job id, whose extent was unknown (tasks.ExtentUnknown). The
// chunk count is kept when the request fixed it. It returns the extent and
// chunk total now stored: those of this call, or of an earlier SetPlan
// that won. ErrNotActive: the job has ended; ErrNotFound: it is gone.
func (s *Store) SetPlan(ctx context.Context, id string, extent int64, chunks int) (int64, int, error) {
	res, err := setPlan.Run(ctx, s.rdb, []string{s.keys(id).job}, extent, chunks).StringSlice()
	if err != nil {
		return 0, 0, fmt.Errorf("set plan of %s: %w", id, err)
	}
	switch res[0] {
	case "missing":
		return 0, 0, ErrNotFound
	case "ended":
		return 0, 0, ErrNotActive
	}
	storedExtent, err1 := strconv.ParseInt(res[1], 10, 64)
	total, err2 := strconv.Atoi(res[2])
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("set plan of %s: stored extent %q, chunks %q", id, res[1], res[2])
	}
	return storedExtent, total, nil
}

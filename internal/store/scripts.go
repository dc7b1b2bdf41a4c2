package store

import "github.com/redis/go-redis/v9"

// Every Lua script of the store, in one place, each with its KEYS and ARGV.
// A script touches the keys of one hash slot only (see keys.go), so each
// also runs on Redis Cluster.

// startChunk marks a chunk running unless its job is finished or the chunk
// already completed. The first chunk to start moves the job to running.
//
// KEYS: job, chunks, done. ARGV: index, chunk record, now, worker.
// Returns {verdict, attempts, job started (0/1)}.
var startChunk = redis.NewScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', 0, 0} end
if status == 'succeeded' or status == 'failed' or status == 'canceled' then return {'terminal', 0, 0} end
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return {'done', 0, 0} end
local attempts = redis.call('HINCRBY', KEYS[2], ARGV[1] .. ':n', 1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2], ARGV[1] .. ':w', ARGV[4])
local started = 0
if status == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'running', 'started_at', ARGV[3])
  started = 1
end
return {'ok', attempts, started}
`)

// completeChunk records a chunk's partial result once. A chunk completed
// twice (asynq ran it again after a crash) is counted once; an attempt
// that is no longer the chunk's latest (another worker started it again
// after it was handed back) is refused.
//
// KEYS: job, chunks, done, partials. ARGV: index, chunk record, partial,
// attempt. Returns {chunks done, chunks total, 1 if this call counted},
// {-1, 0, 0} when the job is already finished, or {-2, 0, 0} when the
// attempt was superseded.
var completeChunk = redis.NewScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' and status ~= 'queued' then return {-1, 0, 0} end
if tonumber(redis.call('HGET', KEYS[2], ARGV[1] .. ':n') or '0') ~= tonumber(ARGV[4]) then return {-2, 0, 0} end
local total = tonumber(redis.call('HGET', KEYS[1], 'chunks_total'))
local counted = 0
if redis.call('SADD', KEYS[3], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'chunks_done', 1)
  counted = 1
end
return {redis.call('SCARD', KEYS[3]), total, counted}
`)

// recordChunk overwrites a chunk's record while its job is unfinished and
// the attempt is the chunk's latest; ARGV[3] = "1" also counts the chunk
// as failed. Returns 1 if it recorded, else 0.
//
// KEYS: job, chunks. ARGV: index, chunk record, failed, attempt.
var recordChunk = redis.NewScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' and status ~= 'queued' then return 0 end
if tonumber(redis.call('HGET', KEYS[2], ARGV[1] .. ':n') or '0') ~= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[1], 'chunks_failed', 1) end
return 1
`)

// finish moves a job to a terminal status if its status is one of the
// expected ones: the single compare-and-set through which every job ends.
// Partials are deleted; every key of the job gets the result TTL.
//
// KEYS: job, chunks, done, partials, input, artifact.
// ARGV: new status, finished_at, field ("result" or "error"), value,
// ttl seconds, artifact ("" for none), expected statuses...
// Returns "kernel tenant" of the job if it was finished by this call,
// else "".
var finish = redis.NewScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
local ok = false
for i = 7, #ARGV do
  if status == ARGV[i] then ok = true end
end
if not ok then return '' end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'finished_at', ARGV[2], ARGV[3], ARGV[4])
if ARGV[6] ~= '' then redis.call('SET', KEYS[6], ARGV[6]) end
redis.call('DEL', KEYS[3], KEYS[4])
local ttl = tonumber(ARGV[5])
for i = 1, #KEYS do
  redis.call('EXPIRE', KEYS[i], ttl)
end
return redis.call('HGET', KEYS[1], 'kernel') .. ' ' .. redis.call('HGET', KEYS[1], 'tenant')
`)

// keepAtLeast raises the TTL of each key that expires sooner than ARGV[1]
// seconds. The job record decides: a job without a TTL is unfinished and
// keeps no TTL; the deliveries list follows the job record.
var keepAtLeast = redis.NewScript(`
local want = tonumber(ARGV[1])
local jobTTL = redis.call('TTL', KEYS[1])
if jobTTL == -1 then return 0 end
for i = 1, #KEYS do
  local ttl = redis.call('TTL', KEYS[i])
  if ttl == -1 or (ttl >= 0 and ttl < want) then
    if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], want) end
  end
end
return 1
`)

// releaseActive decrements a tenant's active-job count, never below 0.
// It is EVALed inside pipelines.
//
// KEYS: the tenant's active count.
const releaseActive = `if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then return redis.call('DECR', KEYS[1]) end return 0`

// admitActive counts one more unfinished job of a tenant unless it has
// ARGV[1] already; returns 1 if it counted, else 0.
//
// KEYS: the tenant's active count. ARGV: the most it may have.
var admitActive = redis.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
return 1
`)

// claimIdempotency sets KEYS[1] to ARGV[1] for ARGV[2] ms unless it is
// set, and returns the value it holds.
//
// KEYS: the idempotency record. ARGV: "job_id body_hash", ttl in ms.
var claimIdempotency = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
`)

// releaseIdempotency deletes an idempotency record if it still holds the
// claim ARGV[1].
//
// KEYS: the idempotency record. ARGV: "job_id body_hash".
var releaseIdempotency = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// leadSweeper makes ARGV[1] the sweeper for ARGV[2] ms if no other worker
// holds the lease; returns 1 if it leads.
//
// KEYS: the sweeper lease. ARGV: worker id, lease in ms.
var leadSweeper = redis.NewScript(`
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`)

// forgetWorker drops a worker from the registry once it has neither a
// heartbeat nor running tasks; returns 1 if it was dropped.
//
// KEYS: its heartbeat, its running set, the registry. ARGV: worker id.
var forgetWorker = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('SCARD', KEYS[2]) > 0 then return 0 end
return redis.call('SREM', KEYS[3], ARGV[1])
`)

// reclaimChunk takes a chunk back from a dead worker: unless the job ended,
// the chunk completed or another worker holds it, it drops the holder and
// writes the chunk's queued record; returns the chunk's attempts, or -1.
//
// KEYS: job, chunks, done. ARGV: index, dead worker, chunk record.
var reclaimChunk = redis.NewScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' and status ~= 'queued' then return -1 end
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return -1 end
local holder = redis.call('HGET', KEYS[2], ARGV[1] .. ':w')
if holder and holder ~= ARGV[2] then return -1 end
redis.call('HDEL', KEYS[2], ARGV[1] .. ':w')
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return tonumber(redis.call('HGET', KEYS[2], ARGV[1] .. ':n') or '0')
`)

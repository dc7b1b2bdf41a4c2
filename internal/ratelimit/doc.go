// Package ratelimit limits how fast each tenant may submit jobs, with a token
// bucket per tenant that every API replica shares.
//
// A bucket holds up to Burst tokens and gains Rate tokens a second; each
// accepted request takes one. A tenant may therefore send Burst requests at
// once and Rate a second after that: over any interval of length T at most
// Burst + Rate·T requests are accepted. A refused request learns how long
// until the next token ([Limiter.Allow]'s retryAfter), which the API sends
// back as 429 Too Many Requests with Retry-After in whole seconds, rounded up.
//
// # Why Redis
//
// The API runs as several replicas behind a load balancer, and a tenant's
// requests land on any of them. A bucket in each replica's memory would let a
// tenant through N times as fast with N replicas, and the limit would change
// whenever the deployment scaled. The buckets live in Redis, which every
// replica already uses for jobs, so the limit holds for the service as a
// whole, and a replica that restarts forgets nothing.
//
// # One script, atomic
//
// Each [Limiter.Allow] is one Lua script (EVALSHA, one round trip): read the
// bucket, refill it for the time elapsed, take a token or compute the wait,
// write it back. Redis runs a script to completion before anything else, so
// concurrent requests from any number of goroutines and replicas can neither
// both take the last token nor lose each other's updates, which a
// read-then-write from Go would do. The script touches one key, so it works
// on Redis Cluster as well.
//
// # Why the server's clock
//
// The refill depends on the time between two requests, and those two
// requests may be served by different replicas on different machines. Their
// clocks differ by milliseconds to seconds: a replica whose clock runs ahead
// would refill the bucket with tokens that were never earned, one that runs
// behind would starve it, and the bound above would hold for no one. The
// script reads Redis's own clock (redis.call('TIME'), microseconds), one
// clock for every request, so only the time Redis measures counts. Should that
// clock step back (NTP, a failover to a replica whose clock is behind), the
// bucket adds nothing until time passes its last write again; a step forward
// can at most fill the bucket, that is grant Burst early.
//
// # Storage
//
// Bucket key is "{Namespace}:ratelimit:{key}", a hash of two fields: tokens,
// the tokens left after the last accepted request (a fraction), and ts, the
// server time of that request in microseconds since the Unix epoch. A refusal
// writes nothing. Each accepted request sets the key's TTL to the time the
// bucket needs to refill completely, rounded up to a millisecond, so a
// tenant that stops sending costs nothing after at most Burst/Rate seconds; a
// missing key is a full bucket, which is exactly what it would have become.
//
// # miniredis (dev mode)
//
// The embedded miniredis of `crunch dev` (v2.40.0) runs the script unchanged:
// it implements TIME inside Lua (the wall clock, or the time set with
// SetTime), HSET with several fields, PEXPIRE and string.format. Its TTLs,
// however, only run down with FastForward or ClockTTL, which dev mode uses
// neither of, so idle buckets are never removed there. The limits are still
// right, since they are computed from TIME and not from the TTL.
package ratelimit

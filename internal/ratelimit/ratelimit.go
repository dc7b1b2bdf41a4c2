package ratelimit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config configures a Limiter.
type Config struct {
	// Namespace prefixes keys ("{ns}:ratelimit:{key}"). Defaults to "crunch".
	Namespace string
	// Rate is tokens added per second. Required, > 0 (at least MinRate and at
	// most MaxRate).
	Rate float64
	// Burst is the bucket size. Defaults to max(1, ceil(Rate)); at most
	// MaxBurst.
	Burst int
}

// Defaults and bounds.
const (
	NamespaceDefault = "crunch"
	// MinRate is one token in about 11.6 days: below it the time to refill a
	// bucket, which is its TTL, would overflow what PEXPIRE accepts.
	MinRate = 1e-6
	// MaxRate is far above anything an HTTP API can serve; it keeps the
	// default Burst, ceil(Rate), a sane int.
	MaxRate = 1e9
	// MaxBurst keeps token counts exact in the script's float64 arithmetic.
	MaxBurst = 1_000_000_000
)

// Errors.
var (
	// ErrInvalidConfig is wrapped by every error of New about its arguments.
	ErrInvalidConfig = errors.New("ratelimit: invalid config")
)

// WithDefaults fills unset fields with their defaults. Burst stays 0 when
// Rate is out of bounds, for New to report Rate.
func (c Config) WithDefaults() Config {
	c.Namespace = cmp.Or(c.Namespace, NamespaceDefault)
	if c.Burst == 0 && validRate(c.Rate) {
		c.Burst = max(1, int(math.Ceil(c.Rate)))
	}
	return c
}

// validRate reports whether r is within [MinRate, MaxRate]; NaN is not.
func validRate(r float64) bool { return r >= MinRate && r <= MaxRate }

// validate checks a Config with its defaults filled in.
func (c Config) validate() error {
	switch {
	case !validRate(c.Rate):
		return fmt.Errorf("%w: Rate must be between %g and %g tokens per second, got %g", ErrInvalidConfig, float64(MinRate), float64(MaxRate), c.Rate)
	case c.Burst < 1 || c.Burst > MaxBurst:
		return fmt.Errorf("%w: Burst must be between 1 and %d (0 for the default), got %d", ErrInvalidConfig, MaxBurst, c.Burst)
	}
	return nil
}

// Limiter is a token bucket per key kept in Redis, so every API replica draws from the same bucket.
type Limiter struct {
	rdb    redis.UniversalClient
	cfg    Config
	prefix string // "{ns}:ratelimit:"
}

// New returns a Limiter on rdb, which it does not own. It does not touch
// Redis.
func New(rdb redis.UniversalClient, cfg Config) (*Limiter, error) {
	if rdb == nil {
		return nil, fmt.Errorf("%w: nil Redis client", ErrInvalidConfig)
	}
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Limiter{rdb: rdb, cfg: cfg, prefix: cfg.Namespace + ":ratelimit:"}, nil
}

// takeToken is the whole limiter: it refills the bucket KEYS[1] for the time
// elapsed since it was last written, by Redis's clock, and takes one token
// if there is a whole one. ARGV[1] is the rate in tokens per second, ARGV[2]
// the burst. The bucket is a hash {tokens, ts}: the tokens left after the
// last take (a fraction) and the server time of that take in microseconds,
// both written with %.17g so they read back exactly. A missing bucket is a
// full one, which is what a bucket left alone for its TTL, the time to
// refill completely, has become anyway.
//
// It returns {1, 0} when it took a token, else {0, microseconds until a
// whole token is there}. A refusal writes nothing: the bucket's state is a
// function of time, so refilling it in Redis now or later is the same.
//
// redis.replicate_commands makes Redis before 5.0 replicate the writes
// rather than the script, which is required after a non-deterministic
// command (TIME); from 5.0 on that is the default, and 7.0 ignores it.
var takeToken = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then
  tokens = burst
elseif now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000000)
else
  -- The clock stood still or went back (NTP, a failover to a replica whose
  -- clock is behind): add nothing and keep the later time.
  tokens = math.min(burst, tokens)
  now = ts
end
if tokens < 1 then
  return {0, math.ceil((1 - tokens) * 1000000 / rate)}
end
tokens = tokens - 1
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil((burst - tokens) * 1000 / rate)))
return {1, 0}
`)

// Allow takes one token for key. When none is left it returns false and how long until one is.
//
// retryAfter is positive whenever ok is false, with microsecond precision;
// a Retry-After header wants it in whole seconds, rounded up. It is a lower
// bound: other callers may take that token first. An error (Redis is
// unreachable, the context ended) is returned as is, wrapped, for the
// caller to decide whether to fail open or closed.
func (l *Limiter) Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error) {
	res, err := takeToken.Run(ctx, l.rdb, []string{l.prefix + key}, l.cfg.Rate, l.cfg.Burst).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("ratelimit: take a token for %q: %w", key, err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("ratelimit: take a token for %q: unexpected reply %v", key, res)
	}
	if res[0] == 1 {
		return true, 0, nil
	}
	return false, time.Duration(res[1]) * time.Microsecond, nil
}

// Package redisconn opens the Redis client that one crunch process shares
// between its job store and asynq.
//
// Timeouts are short on purpose: while Redis is unreachable the API must
// answer 503 within a second or two rather than hang, and workers must
// notice and reconnect by themselves.
package redisconn

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultURL is used when REDIS_URL is unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

// Options parses a redis:// or rediss:// URL and applies crunch's timeouts.
func Options(url string) (*redis.Options, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	opt.DialTimeout = 2 * time.Second
	opt.ReadTimeout = 3 * time.Second
	opt.WriteTimeout = 3 * time.Second
	opt.PoolTimeout = 4 * time.Second
	opt.MaxRetries = 1
	return opt, nil
}

// Open returns a client for url. It does not connect until first used.
func Open(url string) (*redis.Client, error) {
	opt, err := Options(url)
	if err != nil {
		return nil, err
	}
	return redis.NewClient(opt), nil
}

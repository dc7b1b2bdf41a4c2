// Package config reads the environment variables that the API and the
// worker share, and the parsers both use. Each binary's own variables are
// read by its public package (apiserver, workerserver), next to the Config
// they fill; all of them are called with a getenv func, so nothing else
// reads the environment and tests can pass their own.
//
// It imports neither internal/api nor internal/worker: the layers above it
// depend on it, never the reverse.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/redisconn"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/tasks"
)

// Common is what both binaries read.
type Common struct {
	// RedisURL is REDIS_URL. Defaults to redis://127.0.0.1:6379/0.
	RedisURL string
	// RedisURLSet reports whether REDIS_URL was given (dev mode embeds a
	// Redis when it was not).
	RedisURLSet bool
	// Namespace is CRUNCH_NAMESPACE. Defaults to "crunch".
	Namespace string
	// ResultTTL is CRUNCH_RESULT_TTL. Defaults to 24h.
	ResultTTL time.Duration
	// WebhookSecret is CRUNCH_WEBHOOK_SECRET ("whsec_" + base64).
	WebhookSecret string
	// WebhookAllowPrivate is CRUNCH_WEBHOOK_ALLOW_PRIVATE.
	WebhookAllowPrivate bool
	// LogLevel is CRUNCH_LOG_LEVEL (debug, info, warn, error). Defaults to info.
	LogLevel string
	// RedisKind is the kind of deployment REDIS_URL names.
	RedisKind redisconn.Kind
	// JobWindow is CRUNCH_JOB_WINDOW, 1–4096: how many chunks of one job
	// may be queued or running at once. Defaults to 0: queue.WindowDefault.
	JobWindow int
	// ChunkShards is CRUNCH_CHUNK_SHARDS, 1–64. Defaults to 0: 6 on a
	// Redis Cluster, 1 otherwise.
	ChunkShards int
}

// ReadCommon reads the variables both binaries share.
func ReadCommon(getenv func(string) string) (Common, error) {
	c := Common{
		RedisURL:      getenv("REDIS_URL"),
		Namespace:     getenv("CRUNCH_NAMESPACE"),
		WebhookSecret: getenv("CRUNCH_WEBHOOK_SECRET"),
		LogLevel:      getenv("CRUNCH_LOG_LEVEL"),
	}
	c.RedisURLSet = c.RedisURL != ""
	if !c.RedisURLSet {
		c.RedisURL = redisconn.DefaultURL
	}
	var errs []error
	if v := getenv("CRUNCH_RESULT_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			errs = append(errs, fmt.Errorf("CRUNCH_RESULT_TTL must be a Go duration of at least 1s, got %q", v))
		}
		c.ResultTTL = d
	}
	if v := getenv("CRUNCH_WEBHOOK_ALLOW_PRIVATE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("CRUNCH_WEBHOOK_ALLOW_PRIVATE must be true or false, got %q", v))
		}
		c.WebhookAllowPrivate = b
	}
	if c.WebhookSecret != "" {
		if err := checkSecret(c.WebhookSecret); err != nil {
			errs = append(errs, err)
		}
	}
	if t, err := redisconn.Options(c.RedisURL); err != nil {
		errs = append(errs, err)
	} else {
		c.RedisKind = t.Kind
	}
	if v := getenv("CRUNCH_CHUNK_SHARDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > queue.MaxShards {
			errs = append(errs, fmt.Errorf("CRUNCH_CHUNK_SHARDS must be an integer from 1 to %d, got %q", queue.MaxShards, v))
		}
		c.ChunkShards = n
	}
	if v := getenv("CRUNCH_JOB_WINDOW"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > tasks.MaxChunks {
			errs = append(errs, fmt.Errorf("CRUNCH_JOB_WINDOW must be an integer from 1 to %d, got %q", tasks.MaxChunks, v))
		}
		c.JobWindow = n
	}
	return c, errors.Join(errs...)
}

func checkSecret(s string) error {
	b64, ok := strings.CutPrefix(s, "whsec_")
	raw, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil || len(raw) < 16 {
		return errors.New(`CRUNCH_WEBHOOK_SECRET must be "whsec_" followed by the base64 of at least 16 random bytes`)
	}
	return nil
}

// ParseAPIKeys parses "tenant=key,tenant2=key2".
func ParseAPIKeys(s string) (map[string]string, error) {
	keys := map[string]string{}
	seen := map[string]bool{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		tenant, key, ok := strings.Cut(pair, "=")
		tenant, key = strings.TrimSpace(tenant), strings.TrimSpace(key)
		switch {
		case !ok || tenant == "" || key == "":
			return nil, fmt.Errorf("CRUNCH_API_KEYS: entry %d must be tenant=key", len(keys)+1)
		case len(key) < 8:
			return nil, fmt.Errorf("CRUNCH_API_KEYS: the key of tenant %q must be at least 8 characters", tenant)
		case tenant == store.AnonymousTenant:
			return nil, fmt.Errorf("CRUNCH_API_KEYS: the tenant name %q is reserved", tenant)
		case keys[tenant] != "":
			return nil, fmt.Errorf("CRUNCH_API_KEYS: tenant %q appears twice", tenant)
		case seen[key]:
			return nil, fmt.Errorf("CRUNCH_API_KEYS: tenant %q reuses another tenant's key", tenant)
		}
		keys[tenant] = key
		seen[key] = true
	}
	if len(keys) == 0 {
		return nil, errors.New("CRUNCH_API_KEYS is set but names no tenant")
	}
	return keys, nil
}

// PositiveInt parses the value of the variable name as an integer of at
// least 1.
func PositiveInt(name, value string) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 {
		return n, fmt.Errorf("%s must be a positive integer, got %q", name, value)
	}
	return n, nil
}

// ReadRedisWait reads CRUNCH_REDIS_WAIT_REPLICAS (0–10; defaults to 1 on
// Sentinel, 0 otherwise) and CRUNCH_REDIS_WAIT_TIMEOUT (a Go duration,
// 1ms–5s; defaults to 1s).
func ReadRedisWait(getenv func(string) string, kind redisconn.Kind) (int, time.Duration, error) {
	n := 0
	if kind == redisconn.Sentinel {
		n = 1
	}
	var errs []error
	if v := getenv("CRUNCH_REDIS_WAIT_REPLICAS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 || n > 10 {
			errs = append(errs, fmt.Errorf("CRUNCH_REDIS_WAIT_REPLICAS must be an integer from 0 to 10, got %q", v))
		}
	}
	var timeout time.Duration
	if v := getenv("CRUNCH_REDIS_WAIT_TIMEOUT"); v != "" {
		var err error
		if timeout, err = time.ParseDuration(v); err != nil || timeout < time.Millisecond || timeout > 5*time.Second {
			errs = append(errs, fmt.Errorf("CRUNCH_REDIS_WAIT_TIMEOUT must be a Go duration from 1ms to 5s, got %q", v))
		}
	}
	return n, timeout, errors.Join(errs...)
}

package apiserver_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/apiserver"
	"github.com/crunchjobs/crunch/workerserver"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	t.Parallel()
	common, api, err := apiserver.ConfigFromEnv(env(nil))
	require.NoError(t, err)
	require.Equal(t, "redis://127.0.0.1:6379/0", common.RedisURL)
	require.False(t, common.RedisURLSet)
	require.Empty(t, api.APIKeys)
	_, w, err := workerserver.ConfigFromEnv(env(nil))
	require.NoError(t, err)
	require.Zero(t, w.Concurrency, "0 means the number of CPUs (worker.Config.WithDefaults)")
}

func TestValues(t *testing.T) {
	t.Parallel()
	common, api, err := apiserver.ConfigFromEnv(env(map[string]string{
		"REDIS_URL":                     "rediss://user:pw@redis.example:6380/2",
		"CRUNCH_HTTP_ADDR":              ":9000",
		"CRUNCH_API_KEYS":               " acme = key-acme-123 ,globex=key-globex-456,",
		"CRUNCH_WEBHOOK_SECRET":         "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"CRUNCH_WEBHOOK_ALLOW_PRIVATE":  "true",
		"CRUNCH_MAX_BODY_BYTES":         "1048576",
		"CRUNCH_RESULT_TTL":             "90m",
		"CRUNCH_TENANT_RATE":            "2.5",
		"CRUNCH_TENANT_BURST":           "10",
		"CRUNCH_TENANT_MAX_ACTIVE_JOBS": "50",
	}))
	require.NoError(t, err)
	require.True(t, common.RedisURLSet)
	require.Equal(t, map[string]string{"acme": "key-acme-123", "globex": "key-globex-456"}, api.APIKeys)
	require.True(t, api.WebhookAllowPrivate)
	require.Equal(t, int64(1<<20), api.MaxBodyBytes)
	require.Equal(t, 90*time.Minute, api.ResultTTL)
	require.Equal(t, 2.5, api.TenantRate)
	require.Equal(t, 10, api.TenantBurst)
	require.Equal(t, 50, api.TenantMaxActiveJobs)

	_, w, err := workerserver.ConfigFromEnv(env(map[string]string{"CRUNCH_WORKER_CONCURRENCY": "3", "CRUNCH_WORKER_ID": "w-7",
		"CRUNCH_WORKER_HTTP_ADDR": ":9090", "CRUNCH_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"CRUNCH_JOB_WINDOW": "32"}))
	require.NoError(t, err)
	require.Equal(t, 32, w.Window)
	require.Equal(t, 3, w.Concurrency)
	require.Equal(t, "w-7", w.ID)
	require.Equal(t, ":9090", w.HTTPAddr)
	require.NotEmpty(t, w.WebhookSecret)
}

func TestInvalid(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, key, value, want string }{
		{"bad redis url", "REDIS_URL", "http://x", "REDIS_URL"},
		{"ttl", "CRUNCH_RESULT_TTL", "soon", "CRUNCH_RESULT_TTL"},
		{"ttl too short", "CRUNCH_RESULT_TTL", "10ms", "CRUNCH_RESULT_TTL"},
		{"bool", "CRUNCH_WEBHOOK_ALLOW_PRIVATE", "yes please", "CRUNCH_WEBHOOK_ALLOW_PRIVATE"},
		{"secret prefix", "CRUNCH_WEBHOOK_SECRET", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "CRUNCH_WEBHOOK_SECRET"},
		{"secret short", "CRUNCH_WEBHOOK_SECRET", "whsec_c2hvcnQ=", "CRUNCH_WEBHOOK_SECRET"},
		{"body", "CRUNCH_MAX_BODY_BYTES", "12", "CRUNCH_MAX_BODY_BYTES"},
		{"keys form", "CRUNCH_API_KEYS", "acme", "tenant=key"},
		{"key short", "CRUNCH_API_KEYS", "acme=short", "at least 8"},
		{"tenant twice", "CRUNCH_API_KEYS", "a=key-aaaa-1,a=key-aaaa-2", "twice"},
		{"key reused", "CRUNCH_API_KEYS", "a=key-aaaa-1,b=key-aaaa-1", "reuses"},
		{"reserved tenant", "CRUNCH_API_KEYS", "anonymous=key-aaaa-1", "reserved"},
		{"no tenant", "CRUNCH_API_KEYS", ",", "names no tenant"},
		{"rate", "CRUNCH_TENANT_RATE", "-1", "CRUNCH_TENANT_RATE"},
		{"burst", "CRUNCH_TENANT_BURST", "0", "CRUNCH_TENANT_BURST"},
		{"window", "CRUNCH_JOB_WINDOW", "0", "CRUNCH_JOB_WINDOW"},
		{"window too large", "CRUNCH_JOB_WINDOW", "4097", "CRUNCH_JOB_WINDOW"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := apiserver.ConfigFromEnv(env(map[string]string{tt.key: tt.value}))
			require.ErrorContains(t, err, tt.want)
		})
	}
	_, _, err := workerserver.ConfigFromEnv(env(map[string]string{"CRUNCH_WORKER_CONCURRENCY": "0"}))
	require.ErrorContains(t, err, "CRUNCH_WORKER_CONCURRENCY")
}

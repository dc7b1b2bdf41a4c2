package apiserver_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/apiserver"
	"github.com/crunchjobs/crunch/internal/redisconn"
	"github.com/crunchjobs/crunch/workerserver"
)

func TestRedisBeyondOneNode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		env         map[string]string
		kind        redisconn.Kind
		waitN       int
		waitTimeout time.Duration
		shards      int
		wantError   string
	}{
		{name: "single: no wait", env: nil, kind: redisconn.Single},
		{name: "sentinel: wait for one replica by default",
			env:  map[string]string{"REDIS_URL": "redis-sentinel://s1:26379,s2:26379?master=m"},
			kind: redisconn.Sentinel, waitN: 1},
		{name: "sentinel: wait off",
			env:  map[string]string{"REDIS_URL": "redis-sentinel://s1:26379?master=m", "CRUNCH_REDIS_WAIT_REPLICAS": "0"},
			kind: redisconn.Sentinel},
		{name: "cluster: shards and wait set",
			env: map[string]string{"REDIS_URL": "redis-cluster://n1:7000,n2:7001", "CRUNCH_CHUNK_SHARDS": "9",
				"CRUNCH_REDIS_WAIT_REPLICAS": "2", "CRUNCH_REDIS_WAIT_TIMEOUT": "250ms"},
			kind: redisconn.Cluster, waitN: 2, waitTimeout: 250 * time.Millisecond, shards: 9},
		{name: "sentinel without master", env: map[string]string{"REDIS_URL": "redis-sentinel://s1:26379"},
			wantError: "?master=NAME"},
		{name: "bad shards", env: map[string]string{"CRUNCH_CHUNK_SHARDS": "65"}, wantError: "CRUNCH_CHUNK_SHARDS must be an integer from 1 to 64"},
		{name: "bad replicas", env: map[string]string{"CRUNCH_REDIS_WAIT_REPLICAS": "-1"}, wantError: "CRUNCH_REDIS_WAIT_REPLICAS must be an integer from 0 to 10"},
		{name: "bad timeout", env: map[string]string{"CRUNCH_REDIS_WAIT_TIMEOUT": "1m"}, wantError: "CRUNCH_REDIS_WAIT_TIMEOUT must be a Go duration from 1ms to 5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			common, api, err := apiserver.ConfigFromEnv(env(tt.env))
			if tt.wantError != "" {
				require.ErrorContains(t, err, tt.wantError)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.kind, common.RedisKind)
			require.Equal(t, tt.waitN, api.RedisWaitReplicas)
			require.Equal(t, tt.waitTimeout, api.RedisWaitTimeout, "0 means api.RedisWaitTimeoutDefault")
			require.Equal(t, tt.shards, api.ChunkShards)
			_, w, err := workerserver.ConfigFromEnv(env(tt.env))
			require.NoError(t, err)
			require.Equal(t, tt.shards, w.ChunkShards, "the API and the workers agree")
		})
	}
}

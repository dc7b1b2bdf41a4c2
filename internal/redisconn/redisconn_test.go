package redisconn

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url       string
		kind      Kind
		addrs     []string
		master    string
		user      string
		password  string
		wantError string // a substring of the error; "" for none
	}{
		{url: "redis://127.0.0.1:6379/0", kind: Single, addrs: []string{"127.0.0.1:6379"}},
		{url: "redis://u:p%40ss@h:1/3", kind: Single, addrs: []string{"h:1"}, user: "u", password: "p@ss"},
		{url: "rediss://h:6380/0", kind: Single, addrs: []string{"h:6380"}},
		{url: "redis-sentinel://s1:26379,s2:26380,s3:26381?master=mymaster", kind: Sentinel,
			addrs: []string{"s1:26379", "s2:26380", "s3:26381"}, master: "mymaster"},
		{url: "redis-sentinel://:secret@s1:26379?master=m", kind: Sentinel, addrs: []string{"s1:26379"}, master: "m", password: "secret"},
		{url: "redis-sentinel://app:secret@s1:26379/0?master=m", kind: Sentinel, addrs: []string{"s1:26379"}, master: "m", user: "app", password: "secret"},
		{url: "REDIS-SENTINEL://[::1]:26379?master=m", kind: Sentinel, addrs: []string{"[::1]:26379"}, master: "m"},
		{url: "redis-cluster://n1:7000,n2:7001", kind: Cluster, addrs: []string{"n1:7000", "n2:7001"}},
		{url: "redis-cluster://:pw@n1:7000", kind: Cluster, addrs: []string{"n1:7000"}, password: "pw"},
		{url: "redis-cluster://n1:7000/", kind: Cluster, addrs: []string{"n1:7000"}},

		{url: "127.0.0.1:6379", wantError: "is not a URL"},
		{url: "http://h:1", wantError: "parse REDIS_URL"},
		{url: "redis-sentinel://s1:26379", wantError: "?master=NAME"},
		{url: "redis-sentinel://s1:26379?master=", wantError: "?master=NAME"},
		{url: "redis-sentinel://s1?master=m", wantError: `address "s1": want host:port`},
		{url: "redis-sentinel://s1:0?master=m", wantError: "port must be 1-65535"},
		{url: "redis-sentinel://s1:1,,s2:2?master=m", wantError: `address "": want host:port`},
		{url: "redis-sentinel://s1:26379/2?master=m", wantError: "the database must be 0"},
		{url: "redis-sentinel://s1:26379?master=m&db=2", wantError: `unknown query parameter "db"`},
		{url: "redis-sentinel://?master=m", wantError: "no host"},
		{url: "redis-cluster://n1:7000?master=m", wantError: `unknown query parameter "master"`},
		{url: "redis-cluster://n1:7000/1", wantError: "the database must be 0"},
		{url: "redis-cluster://:7000", wantError: "empty host"},
		{url: "redis-cluster://n1:x", wantError: "port must be 1-65535"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			got, err := Options(tt.url)
			if tt.wantError != "" {
				require.ErrorContains(t, err, tt.wantError)
				require.True(t, strings.HasPrefix(err.Error(), "parse REDIS_URL"), err.Error())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.kind, got.Kind)
			var addrs []string
			var user, password, master string
			var dial, read, write, pool time.Duration
			var retries int
			switch tt.kind {
			case Single:
				o := got.Single
				addrs, user, password = []string{o.Addr}, o.Username, o.Password
				dial, read, write, pool, retries = o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries
			case Sentinel:
				o := got.Failover
				addrs, user, password, master = o.SentinelAddrs, o.Username, o.Password, o.MasterName
				require.Empty(t, o.SentinelPassword, "the password is the data nodes'")
				require.Zero(t, o.DB)
				dial, read, write, pool, retries = o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries
			case Cluster:
				o := got.Cluster
				addrs, user, password = o.Addrs, o.Username, o.Password
				dial, read, write, pool, retries = o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout, o.MaxRetries
			}
			require.Equal(t, tt.addrs, addrs)
			require.Equal(t, tt.user, user)
			require.Equal(t, tt.password, password)
			require.Equal(t, tt.master, master)
			require.Equal(t, []time.Duration{dialTimeout, readTimeout, writeTimeout, poolTimeout},
				[]time.Duration{dial, read, write, pool}, "crunch's short timeouts")
			require.Equal(t, maxRetries, retries)
		})
	}
}

func TestErrorsHideThePassword(t *testing.T) {
	t.Parallel()
	_, err := Options("nonsense:hunter2@host")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
}

func TestClientKinds(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]any{
		"redis://127.0.0.1:1/0":                 (*redis.Client)(nil),
		"redis-sentinel://127.0.0.1:1?master=m": (*redis.Client)(nil),
		"redis-cluster://127.0.0.1:1":           (*redis.ClusterClient)(nil),
	} {
		c, err := Open(url)
		require.NoError(t, err)
		require.IsType(t, want, c, url)
		require.NoError(t, c.Close())
	}
}

func TestKeySlot(t *testing.T) {
	t.Parallel()
	// Known answers from the Redis Cluster specification and CLUSTER KEYSLOT.
	for key, want := range map[string]int{
		"123456789":            12739, // CRC16/XMODEM("123456789") = 0x31C3
		"foo":                  12182,
		"bar":                  5061,
		"{user1000}.following": KeySlot("user1000"),
		"{user1000}.followers": KeySlot("user1000"),
		"foo{}{bar}":           KeySlot("foo{}{bar}"), // an empty first tag: the whole key
		"foo{{bar}}zap":        KeySlot("{bar"),
		"foo{bar}{zap}":        KeySlot("bar"),
		"{":                    KeySlot("{"),
	} {
		require.Equal(t, want, KeySlot(key), key)
	}
	require.NotEqual(t, KeySlot("foo{}{bar}"), KeySlot("bar"))
}

package redisconn

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultURL is used when REDIS_URL is unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

// Kind is the shape of the Redis deployment a URL names.
type Kind int

// Kinds of deployment.
const (
	// Single is one Redis server: redis:// or rediss://.
	Single Kind = iota
	// Sentinel is a master with replicas watched by Redis Sentinel:
	// redis-sentinel://.
	Sentinel
	// Cluster is a Redis Cluster: redis-cluster://.
	Cluster
)

func (k Kind) String() string {
	switch k {
	case Sentinel:
		return "sentinel"
	case Cluster:
		return "cluster"
	default:
		return "single"
	}
}

// URL schemes of the Sentinel and Cluster forms.
const (
	SchemeSentinel = "redis-sentinel"
	SchemeCluster  = "redis-cluster"
)

// crunch's timeouts, the same for every kind of deployment.
const (
	dialTimeout  = 2 * time.Second
	readTimeout  = 3 * time.Second
	writeTimeout = 3 * time.Second
	poolTimeout  = 4 * time.Second
	maxRetries   = 1
)

// Target is a parsed REDIS_URL: exactly one of Single, Failover and Cluster
// is set, as Kind says, with crunch's timeouts applied.
type Target struct {
	Kind     Kind
	Single   *redis.Options
	Failover *redis.FailoverOptions
	Cluster  *redis.ClusterOptions
}

// Options parses REDIS_URL in any of its forms (see the package
// documentation) and applies crunch's timeouts. Its errors say what is
// wrong with the URL, for a process to refuse to start with.
func Options(rawURL string) (*Target, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("parse REDIS_URL: %q is not a URL: want redis://, rediss://, %s:// or %s://", redact(rawURL), SchemeSentinel, SchemeCluster)
	}
	switch strings.ToLower(scheme) {
	case SchemeSentinel:
		return parseMulti(Sentinel, rest)
	case SchemeCluster:
		return parseMulti(Cluster, rest)
	}
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	opt.DialTimeout = dialTimeout
	opt.ReadTimeout = readTimeout
	opt.WriteTimeout = writeTimeout
	opt.PoolTimeout = poolTimeout
	opt.MaxRetries = maxRetries
	return &Target{Kind: Single, Single: opt}, nil
}

// parseMulti parses what follows "redis-sentinel://" or "redis-cluster://":
// [[user]:password@]host:port[,host:port…][/0][?master=NAME].
func parseMulti(kind Kind, rest string) (*Target, error) {
	scheme := SchemeSentinel
	if kind == Cluster {
		scheme = SchemeCluster
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("parse REDIS_URL: %s://: "+format, append([]any{scheme}, args...)...)
	}
	rest, rawQuery, _ := strings.Cut(rest, "?")
	var user, password string
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		info := rest[:at]
		rest = rest[at+1:]
		u, p, hasPass := strings.Cut(info, ":")
		var err error
		if user, err = url.PathUnescape(u); err != nil {
			return nil, fail("bad user name: %v", err)
		}
		if hasPass {
			if password, err = url.PathUnescape(p); err != nil {
				return nil, fail("bad password: %v", err)
			}
		}
	}
	hosts, path, _ := strings.Cut(rest, "/")
	if path != "" && path != "0" {
		return nil, fail("the database must be 0 (or left out), got /%s", path)
	}
	if hosts == "" {
		return nil, fail("no host: want host:port[,host:port…]")
	}
	var addrs []string
	for _, h := range strings.Split(hosts, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			return nil, fail("address %q: want host:port", h)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fail("address %q: port must be 1-65535", h)
		}
		if host == "" {
			return nil, fail("address %q: empty host", h)
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fail("query: %v", err)
	}
	master := query.Get("master")
	for name := range query {
		if name != "master" || kind == Cluster {
			return nil, fail("unknown query parameter %q", name)
		}
	}
	if kind == Sentinel {
		if master == "" {
			return nil, fail("the master's name is missing: add ?master=NAME (the name the sentinels monitor)")
		}
		return &Target{Kind: Sentinel, Failover: &redis.FailoverOptions{
			MasterName:    master,
			SentinelAddrs: addrs,
			Username:      user,
			Password:      password,
			DialTimeout:   dialTimeout,
			ReadTimeout:   readTimeout,
			WriteTimeout:  writeTimeout,
			PoolTimeout:   poolTimeout,
			MaxRetries:    maxRetries,
		}}, nil
	}
	return &Target{Kind: Cluster, Cluster: &redis.ClusterOptions{
		Addrs:        addrs,
		Username:     user,
		Password:     password,
		DialTimeout:  dialTimeout,
		ReadTimeout:  readTimeout,
		WriteTimeout: writeTimeout,
		PoolTimeout:  poolTimeout,
		MaxRetries:   maxRetries,
	}}, nil
}

// redact hides a password in a URL that could not be parsed.
func redact(s string) string {
	if at := strings.LastIndex(s, "@"); at >= 0 {
		return "…@" + s[at+1:]
	}
	return s
}

// Client returns a client for t: a plain client, a failover client that
// follows the master the sentinels elect, or a cluster client. It does not
// connect until first used.
func (t *Target) Client() redis.UniversalClient {
	switch t.Kind {
	case Sentinel:
		return redis.NewFailoverClient(t.Failover)
	case Cluster:
		return redis.NewClusterClient(t.Cluster)
	default:
		return redis.NewClient(t.Single)
	}
}

// Open returns a client for url (see [Options]). It does not connect until
// first used.
func Open(url string) (redis.UniversalClient, error) {
	t, err := Options(url)
	if err != nil {
		return nil, err
	}
	return t.Client(), nil
}

// Package redisconn opens the Redis client that one crunch process shares
// between its job store and asynq, from REDIS_URL in one of three forms:
//
//	redis://[user:password@]host:port/db     one server (rediss:// for TLS)
//	redis-sentinel://[:password@]host:port[,host:port…]?master=NAME
//	redis-cluster://[:password@]host:port[,host:port…]
//
// The Sentinel form is asynq's (asynq.ParseRedisURI): the hosts are the
// sentinels, NAME the master they monitor; the client asks them where the
// master is and follows it when they fail over. The Cluster form lists seed
// nodes; the client learns the slot map from them and follows MOVED and ASK
// redirections. In both, the password is the data nodes' (the sentinels
// have none) and the database is 0, the only one a Cluster has.
//
// # Why one client type
//
// [Open] returns a redis.UniversalClient — a *redis.Client, a failover
// *redis.Client or a *redis.ClusterClient — which the job store, the rate
// limiter and asynq (NewServerFromRedisClient, NewClientFromRedisClient,
// NewInspectorFromRedisClient) all accept, so nothing above this package
// knows which kind of deployment it runs on.
//
// # Timeouts
//
// Timeouts are short on purpose, the same for every form: while Redis is
// unreachable (or a failover is under way) the API must answer 503 within a
// second or two rather than hang, and workers must notice and reconnect by
// themselves.
//
// # Validation
//
// [Options] parses a URL without connecting, so a process refuses to start
// on a bad REDIS_URL with a message naming what is wrong (a missing
// ?master=, a host without a port, a database other than 0 …).
package redisconn

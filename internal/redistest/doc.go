// Package redistest gives tests a real Redis: a URL to a running redis-server, a
// key namespace per test, a ready go-redis client, and dedicated redis-server
// processes that a test may stop, kill and restart.
//
// # Why a real redis-server and never a mock
//
// crunch keeps all of its state in Redis, and most of what can go wrong lives in
// Redis itself: asynq runs Lua scripts whose semantics, atomicity and error
// replies an in-memory imitation only approximates; leases, TTLs and retry
// delays depend on Redis's clock; and the behaviour that matters most in
// production — a worker or the server dying mid-job, the append-only file
// bringing data back after a restart — cannot be exercised without a process to
// kill. A mock would pass exactly the tests that prove nothing. The embedded
// miniredis that `crunch dev` uses is a convenience for running the service
// without installing anything; tests never use it.
//
// # Where the Redis comes from
//
// A test package opts in with a TestMain:
//
//	func TestMain(m *testing.M) { redistest.Main(m) }
//
// [URL] then returns CRUNCH_TEST_REDIS_URL when it is set (`make test` starts a
// private redis-server for the whole run and sets it), or else the URL of a
// private redis-server that this test binary starts on a free loopback port the
// first time a test asks for it (redis-server must be on PATH). If there is no
// Redis to be had the tests fail, with a message saying to run `make test`:
// they are never skipped, because a skipped integration test is a test that
// silently stopped running.
//
// Private servers keep nothing on disk (`--save "" --appendonly no`) and live
// in a temporary directory removed at the end.
//
// # Sharing one Redis
//
// Test binaries of several packages run at once against the same server, and
// tests call t.Parallel, so nothing may FLUSHDB or assume an empty database.
// Each test calls [Namespace] for a short unique prefix and uses it for its
// keys and asynq queue names. Keys are not deleted afterwards: the server is
// thrown away at the end of the run.
//
// # Fault drills
//
// [StartServer] starts a redis-server of the test's own, with its data directory
// in t.TempDir, optionally with the append-only file fsynced on every write.
// [Server.Stop], [Server.Kill] and [Server.Start] stop it gracefully, kill it
// with SIGKILL, and bring it back on the same port with the same data, so a test
// can watch the API answer 503 and recover, or a job survive a crash.
//
// # Sentinel and Cluster
//
// [StartSentinel] starts a master, its replicas and the sentinels watching
// them (1 + 2 + 3 by default) and waits until every sentinel knows every
// replica and every other sentinel, so a test can fail over at once:
// [Server.Kill] the master or [Sentinel.Failover], then
// [Sentinel.WaitNewMaster]. [StartCluster] starts a Redis Cluster of masters
// (3 by default), assigns the slots in equal ranges with CLUSTER
// ADDSLOTSRANGE, joins the nodes with CLUSTER MEET and waits for
// cluster_state:ok. Both give a URL in crunch's redis-sentinel:// or
// redis-cluster:// form, optionally with a password on the data nodes.
// [Server.Pause] and [Server.Resume] (SIGSTOP, SIGCONT) stall a node, e.g.
// a replica that should acknowledge nothing.
//
// # No process is left behind
//
// Every redis-server is stopped by t.Cleanup or by [Main], also when a test
// fails. On Linux each one also runs in its own process group with a parent-death
// signal (SIGKILL), so one killed test binary (a timeout, Ctrl-C, SIGKILL) takes
// its servers with it.
//
// # Goroutine leaks
//
// [Main] checks for leaked goroutines with goleak once the tests passed, after
// its own servers are stopped. It ignores one function only, see [Main].
package redistest

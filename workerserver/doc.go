// Package workerserver builds a crunch worker into a program of your own,
// running your kernels next to (or instead of) the built-ins.
//
// crunch's own worker binary is this package's Main with no options. Run as
// many replicas as you like against one Redis: each takes chunks of every
// job whose kernel it knows.
//
//	func main() {
//		workerserver.Main(workerserver.Options{Runners: []tasks.Runner{pricing.Runner{}}})
//	}
//
// Every setting comes from the same environment variables as crunch's
// worker (REDIS_URL, CRUNCH_WORKER_CONCURRENCY, …; see the README), and
// Options.Configure can change any field of [Config] in code. The API half
// is package apiserver; both must know the same kernel names.
package workerserver

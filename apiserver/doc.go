// Package apiserver builds crunch's HTTP API into a program of your own,
// with your kernels next to (or instead of) the built-ins.
//
// crunch's own api binary is this package's Main with no options. A program
// that offers its own kernel links only the kernel's Spec — the half that
// validates parameters and sizes the work — never its Runner: the API
// computes nothing.
//
//	func main() {
//		apiserver.Main(apiserver.Options{Specs: []tasks.Spec{pricing.Spec{}}})
//	}
//
// Every setting comes from the same environment variables as crunch's api
// (REDIS_URL, CRUNCH_HTTP_ADDR, CRUNCH_API_KEYS, …; see the README), and
// Options.Configure can change any field of [Config] in code. The worker
// half is package workerserver; both must know the same kernel names.
package apiserver

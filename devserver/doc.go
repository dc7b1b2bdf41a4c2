// Package devserver runs crunch's API and one worker in a single process,
// for trying kernels out: `crunch dev` (and `make run`) is this package's
// Run with no options, and a program of your own can run it with its
// kernels.
//
// With REDIS_URL unset it embeds an in-memory Redis and says so loudly:
// nothing is durable in that mode. For real use, run the api and worker
// programs (packages apiserver and workerserver) against a real Redis.
package devserver

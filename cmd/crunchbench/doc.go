// Command crunchbench measures crunch's job path from the outside, side by
// side with the anchors it is compared with, and writes the figures into
// BENCHMARKS.md and plots into docs/img. `make bench` runs it.
//
// It starts everything it measures itself — a private redis-server, the
// api and worker binaries built from this checkout, and, as anchors, a
// bare Echo handler that parses the body and makes one asynq Enqueue (this
// same binary, run again with -bare) and raw asynq Enqueue calls — so one
// run compares them on the same machine, Redis and client. The machines
// are shared and noisy: every figure is repeated, reported as the median
// with its range, and compared as a ratio to its anchor in the same run.
//
// -short is a smoke run of a few seconds, which CI makes: it proves the
// program works, and its figures mean nothing.
package main

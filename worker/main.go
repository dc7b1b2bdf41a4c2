// Command worker runs crunch's chunk, reduce and webhook tasks. Run any
// number of replicas against one Redis. It reads its configuration from the
// environment (see README.md) and on SIGINT or SIGTERM stops taking tasks
// and lets running chunks finish before it exits.
//
// It is package workerserver with the built-in kernels and nothing else: a
// program of your own that runs your kernels is the same one line.
package main

import "github.com/crunchjobs/crunch/workerserver"

func main() { workerserver.Main(workerserver.Options{}) }

// Command api is crunch's HTTP API. It reads its configuration from the
// environment (see README.md) and serves until SIGINT or SIGTERM, then
// drains in-flight requests.
//
// It is package apiserver with the built-in kernels and nothing else: a
// program of your own that offers your kernels is the same one line.
package main

import "github.com/crunchjobs/crunch/apiserver"

func main() { apiserver.Main(apiserver.Options{}) }

// Package optionpricing is an example of a program with its own crunch
// kernel: Monte Carlo prices of European options, in the package pricing,
// served by three small mains:
//
//   - api: crunch's HTTP API with the kernel's Spec (apiserver.Main);
//   - worker: crunch's worker with the kernel's Runner (workerserver.Main);
//   - dev: both in one process (devserver.Run), for trying it out.
//
// The tests of this package build api and worker, run them as separate
// processes against a real Redis (one API, two workers), and price an
// option over HTTP. See docs/README-examples.md for the walk-through and
// the Dockerfile beside this file for images.
package optionpricing

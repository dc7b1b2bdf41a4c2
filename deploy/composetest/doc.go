// Package composetest drills the Compose stack — the repository's
// docker-compose.yml on a real Docker engine — from the outside, the way
// an operator sees it: jobs go in through the API's published port, and
// containers are scaled, killed, restarted and cut off the network with
// the docker and docker-compose commands.
//
// Why a package of its own: the other packages test processes that a test
// starts itself; these drills need images, a Docker engine and minutes, so
// they run only when scripts/compose-test.sh (make compose-test) has built
// the images FROM scratch, brought the stack up under a project name of its
// own and set CRUNCH_COMPOSE_TEST=1. Under plain `go test ./...` the test is
// skipped with a message saying so.
//
// Every answer is checked against known values (the number and sum of the
// primes below 10^7 … 10^10), so a job that loses or double-counts a chunk
// across a kill, a Redis restart or a network partition fails the test.
package composetest

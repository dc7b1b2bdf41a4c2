// Package api is crunch's HTTP API: it validates jobs, stores them, hands
// them to the workers through asynq, and serves their state and results.
//
// The API keeps no state of its own; every replica reads and writes the
// same Redis, so any number of them can run behind a load balancer.
//
// # Layout
//
// routes.go holds the whole route table; errors.go the one error handler,
// which renders every error as RFC 9457 problem+json; each group of
// endpoints has its file with its request and response types next to the
// handlers. Nothing else writes an error response.
package api

// Package e2e holds crunch's end-to-end tests: the real API over real HTTP,
// real asynq worker servers (several of them, in process and as separate
// processes), and a real redis-server. Every response is also validated
// against the OpenAPI document, so the document cannot drift from the
// server.
package e2e

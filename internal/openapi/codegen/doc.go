// Package codegen holds no code: its test proves that the OpenAPI document
// is a product, not just a description. It runs the pinned oapi-codegen
// (OAPICodegen) on the document a real API serves at GET /openapi.json,
// builds the generated Go client in a module of its own (which knows
// nothing of crunch: no replace directive, no import of crunch's
// packages), and runs a program using that client against the real API
// and a worker: submit a job, poll it, read its typed result, and read the
// typed field errors of a 422.
//
// The generator comes from the Go module proxy the first time (about 30 s
// here) and from the module cache (GOMODCACHE) afterwards.
package codegen

// Package client is a Go client for the crunch HTTP API.
//
// It speaks the public contract only — the same JSON any curl user sees —
// so it works against any crunch deployment, whatever build runs there.
// Submit a job, then Wait for it: Wait follows the job's Server-Sent Events
// instead of polling, and reconnects with Last-Event-ID when a proxy drops
// the stream, so it never misses the terminal status.
//
//	c := client.New("http://localhost:8080", client.WithAPIKey(os.Getenv("CRUNCH_API_KEY")))
//	job, err := c.Submit(ctx, client.JobRequest{Kernel: "primes", Params: map[string]any{"to": 1e8}})
//	...
//	job, err = c.Wait(ctx, job.ID, nil)
//
// Every error the API answers is a *Problem (RFC 9457), with the field
// errors of a 422 in Problem.Errors.
package client

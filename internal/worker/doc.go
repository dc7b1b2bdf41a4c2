// Package worker runs crunch's tasks: it is the asynq server behind the
// worker binary.
//
// # One job, many tasks
//
// The API enqueues one plan task per job. The plan task enqueues one chunk
// task per chunk, each with a deterministic task id, then marks the job
// planned; if it dies halfway asynq retries it and the ids make the
// re-enqueues harmless. Chunk tasks spread over every worker replica; each
// runs its kernel on all the worker's cores and stores its partial result.
// The chunk whose completion brings the count to the total enqueues the
// reduce task (again with a deterministic id) before it acknowledges its own
// task, so a crash between the two cannot strand the job. The reduce merges
// the partials in chunk order and ends the job with one compare-and-set.
//
// # Stopping work
//
// A job ends early when it is canceled or its timeout passes. The job's
// status in Redis is the truth: each running chunk's context is cancelled
// when a message on the cancel channel names its job (fast), and a watcher
// re-reads the status of every job with a running chunk twice a second
// (sure, even if a message was lost while reconnecting). A chunk stopped
// this way returns asynq.RevokeTask, so asynq neither retries nor archives
// it.
//
// # Lost plans
//
// If the API dies between storing a job and enqueueing its plan task, the
// job sits in the pending set; a reconciler in every worker enqueues the
// plan of any job pending for longer than a few seconds (the task id makes
// concurrent reconcilers harmless).
package worker

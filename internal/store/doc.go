// Package store keeps crunch's jobs in Redis: the job record, its chunks'
// states, their partial results, the bulk input and the artifact.
//
// # Why Redis, and why Lua
//
// Jobs live next to the asynq queues so that one Redis is the whole state
// of a deployment: the API and any number of workers are stateless and can
// die at any moment. Every transition that must be atomic — a chunk
// starting, a chunk completing, a job reaching a terminal status — is one
// Lua script, so two workers racing on one job (or one chunk executed twice
// after a crash) cannot corrupt it:
//
//   - a chunk completes by adding its index to a set; only the first
//     completion of an index counts, so a chunk run twice is counted once;
//   - the completion that brings the count to the total is the one that
//     enqueues the reduce, with a deterministic task id;
//   - terminal statuses are set by one compare-and-set from an expected
//     status, so nothing late (a reduce after a cancel, a retry after a
//     timeout) can overwrite them.
//
// # Keys
//
// All keys of one job share the Redis Cluster hash tag {job id}, so every
// script touches a single slot:
//
//	{ns}:job:{id}            hash: the job record
//	{ns}:job:{id}:input      string: bulk input, read by chunks by range
//	{ns}:job:{id}:chunks     hash: "i" → chunk record, "i:n" → attempts
//	{ns}:job:{id}:done       set: indexes of completed chunks
//	{ns}:job:{id}:partials   hash: "i" → partial result
//	{ns}:job:{id}:artifact   string: the job's file (e.g. PNG)
//	{ns}:pending             sorted set: accepted jobs not yet planned
//	{ns}:tenant:{t}:jobs     sorted set: a tenant's jobs by creation time
//
// Unfinished jobs never expire. When a job reaches a terminal status its
// partials are deleted and every other key gets the result TTL.
package store

// Package tasks is the shared contract between the crunch API and its workers.
//
// It names the asynq task types (which never change once deployed), defines
// their payloads, and defines how a kernel plugs in. The API and the workers
// are separate binaries that may run different builds during a rolling
// deploy, so everything that crosses Redis between them is declared here and
// nowhere else.
//
// # Kernels
//
// A kernel is split in two halves so that the API links only what it needs:
//
//   - a [Spec] validates parameters, fills defaults, publishes a JSON Schema
//     and says how large the work is ([Prepared.Extent]) and into how many
//     chunks it should be split by default. It never computes anything.
//   - a [Runner] computes one chunk's partial result and merges partials
//     into the job's result. Only the worker links runners.
//
// The work of a job is a half-open range [0, Extent) — numbers to sieve,
// samples to draw, image rows, matrix rows, values or text bytes — split
// into contiguous [Range]s by [ChunkRange]. Chunk payloads carry the range,
// never a copy of the input: bulk input is stored once with the job and read
// by each chunk through [Input].
//
// Results must not depend on how the work was split: a Runner's Reduce over
// any chunking of the same job returns byte-identical results.
package tasks

// Package lifecycle owns every transition of a job: Submit, StartChunk,
// Cancel, Fail and Succeed. The API (submit, cancel) and the workers
// (start, fail, succeed) both change jobs, and each change is the same two
// parts wherever it is made:
//
//  1. one compare-and-set step in the store — the truth, atomic within the
//     job's Redis hash slot — which decides whether this caller made the
//     transition at all (a cancel racing a reduce: the first one stands);
//  2. then, only for the caller that made it, its announcements, always in
//     one order: tell workers to stop the job's running chunks, publish the
//     new status to live subscribers (SSE), enqueue the job's webhook, and
//     forget the job's deadline task.
//
// Announcements follow the stored status and never precede it. A lost
// pub/sub message costs a subscriber a little freshness (it re-reads the job
// on its next heartbeat) and a running chunk at most one watch interval;
// webhook tasks are enqueued with the webhook id as task id, so an event
// announced twice is sent once. A failed announcement is logged, not
// returned: the status is already stored.
//
// Submit is the one multi-step transition: admit the job against its
// tenant's limit, store it, and enqueue its plan and deadline; whichever
// step fails undoes the ones before it, so a job is either accepted whole
// or not at all. A process that dies between storing and enqueueing leaves
// the job in the store's pending set, where the workers' reconciler plans
// it.
package lifecycle

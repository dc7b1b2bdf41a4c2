// Package execkernel runs kernels written in any language, declared in a
// manifest (CRUNCH_KERNELS_FILE), through the exec protocol: each step of
// a job — plan, run (one per chunk), reduce — is a child process that
// reads one JSON object on stdin and writes one JSON value on stdout.
//
// # Why
//
// Built-in kernels are Go packages linked into the worker. Operators who
// want their own computation (a Python function behind a Flask view, a
// Fortran solver) should not have to rebuild crunch: they describe the
// kernel — name, params JSON Schema, command — in a file, and both
// binaries pick it up. The API only needs the [Spec]s (validation against
// the schema); workers need the [Runner]s too.
//
// # Wiring
//
// Packages apiserver and workerserver (so crunch's api and worker, and
// every program built on them) load the manifest CRUNCH_KERNELS_FILE
// names with [LoadEnv] and add its [Manifest.Specs] or [Manifest.Runners]
// to their kernels; either refuses to start, naming the file, the entry
// and the field, when the manifest is bad, and the worker also when a
// program cannot be found.
//
// # Params
//
// A Spec validates params with a JSON Schema 2020-12 validator
// (santhosh-tekuri/jsonschema), reports each violation at its field path
// relative to params ("zzz" for an unknown property, "to" for a missing
// required one, "points[3]" for a bad element), fills in the default of
// every absent top-level property, and writes every integral number as a
// JSON integer (1e9 as 1000000000). Params are capped in size
// (max_params_bytes, 256 KiB by default) and number literals in length and
// exponent, so validation costs little whatever a request holds.
//
// The API cannot know such a job's size: Prepare returns
// tasks.ExtentUnknown, and the worker calls [Runner.Plan] (the
// tasks.Planner interface) before splitting the job.
//
// # Processes
//
// A step must never outlive its job, not even when the worker is killed
// with SIGKILL, which no Go code survives to clean up after. So a worker
// does not start the step itself: it starts a supervisor — its own binary
// again (/proc/self/exe), which package supervisor's init function turns
// into the supervisor before the heavy package inits and main run — and
// the supervisor starts the step as the leader of a new process group, in
// a fresh temporary directory. The worker holds the only write end of a
// pipe (the lifeline) whose read end the supervisor watches: it reaches
// EOF when the worker closes it to stop the step (cancel, timeout, stdout
// overflow) and when the worker dies, however it dies, since the kernel
// closes a dead process's files. Either way the supervisor sends SIGTERM
// to the step's group and SIGKILL [StopGrace] later. Once the leader has
// exited (also after a successful step) it kills whatever is left of the
// group, reaps the step's orphans (it is a child subreaper), removes the
// directory, and reports the step's exit status on a second pipe. The
// step leader has a parent-death signal (SIGKILL) in case the supervisor
// itself is killed. The supervisor runs in a process group of its own, so
// that a terminal's Ctrl-C reaches the worker (which then stops its
// steps) and not the supervisors.
//
// A process that leaves the step's group (setsid) is beyond this reach,
// as the protocol's promise is about the group.
package execkernel

// Package supervisor turns a binary that links it into the supervisor of
// one exec-kernel step when it is executed again as such (see
// [Command]): its init function then runs the step and exits before the
// program's main — and, by Go's initialization order, before the init
// functions of nearly every other package.
//
// # Why a package of its own
//
// A worker starts a supervisor for every step, and a Go binary's start
// costs whatever its packages' init functions cost: the worker links a
// JSON Schema library whose init compiles metaschemas (16–42 ms here).
// Go initializes packages in the order of their import paths, each as
// soon as everything it imports is initialized; this package sorts
// before those libraries and imports only packages they import
// themselves (os, syscall, strconv, time), so it runs first and the
// supervisor skips them. TestSupervisorStartsFirst (in package
// execkernel) holds it to that.
//
// # What it does
//
// The supervisor runs the step as the leader of its own process group
// and makes sure no process of that group outlives it:
//
//   - when the step's leader exits, whatever is left of its group is
//     killed (SIGKILL) and reaped;
//   - when the lifeline (fd 3) reaches EOF — the worker closed it to stop
//     the step, or the worker died, even by SIGKILL, since the kernel
//     closes a dead process's files — the group gets SIGTERM, and SIGKILL
//     [StopGrace] later.
//
// It is a child subreaper, so the step's orphaned descendants become its
// children and are reaped rather than left as zombies. It then removes
// the step's working directory and writes the step's status to the
// status pipe (fd 4): "pid N" once the step has started, then "exit N",
// "signal N" or "error …". The step leader has a parent-death signal
// (SIGKILL) in case the supervisor itself is killed; init runs on the
// main thread, which lives as long as the process, so it fires only then.
package supervisor

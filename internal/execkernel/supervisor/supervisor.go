package supervisor

import "time"

// The supervisor is a binary that links this package, executed with
// argv[0] Arg0 and Env=1 in its environment. Its argv: Arg0, the step's
// directory, the step's argv. Its fds: 0, 1, 2 are handed to the step;
// LifelineFD is the read end of the lifeline, whose write end only the
// worker holds; StatusFD is the write end of the status pipe.
const (
	Arg0       = "crunch-exec-supervisor"
	Env        = "CRUNCH_EXEC_SUPERVISOR"
	LifelineFD = 3
	StatusFD   = 4
)

// StopGrace is how long a stopped step's process group has between
// SIGTERM and SIGKILL.
const StopGrace = 500 * time.Millisecond

// DrainTimeout bounds the killing of a step's leftover processes.
const DrainTimeout = 3 * time.Second

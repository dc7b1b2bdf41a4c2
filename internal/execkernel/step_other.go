//go:build !linux

package execkernel

import (
	"context"
	"errors"
	"time"
)

// StopGrace is how long a stopped step's process group has between
// SIGTERM and SIGKILL.
const StopGrace = 500 * time.Millisecond

const supervisorEnv = "CRUNCH_EXEC_SUPERVISOR"

var errNotLinux = errors.New("exec kernels run on Linux only")

func (r *Runner) step(context.Context, string, [][]byte) (*stepOutput, error) {
	return nil, errNotLinux
}

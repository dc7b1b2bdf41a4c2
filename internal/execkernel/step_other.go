//go:build !linux

package execkernel

import (
	"context"
	"errors"

	"github.com/crunchjobs/crunch/internal/execkernel/supervisor"
)

// StopGrace is how long a stopped step's process group has between
// SIGTERM and SIGKILL.
const StopGrace = supervisor.StopGrace

var errNotLinux = errors.New("exec kernels run on Linux only")

func (r *Runner) step(context.Context, string, [][]byte) (*stepOutput, error) {
	return nil, errNotLinux
}

package execkernel

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/execkernel/supervisor"
)

// TestSupervisorStartsFirst runs this test binary — which links the JSON
// Schema library whose init costs tens of milliseconds, as the worker
// does — as a supervisor with Go's init trace on: the supervisor's init
// must run, and exit, before that library's init, so that every step does
// not pay for it.
func TestSupervisorStartsFirst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	statusR, statusW, err := os.Pipe()
	require.NoError(t, err)
	defer statusR.Close()
	lifeR, lifeW, err := os.Pipe()
	require.NoError(t, err)
	defer lifeW.Close()
	var trace bytes.Buffer
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{supervisor.Arg0, dir, "/bin/sh", "-c", "exit 7"},
		Env:        append(os.Environ(), supervisor.Env+"=1", "GODEBUG=inittrace=1"),
		Stderr:     &trace,
		ExtraFiles: []*os.File{lifeR, statusW},
	}
	require.NoError(t, cmd.Run())
	statusW.Close()
	lifeR.Close()
	st := readStatus(statusR)
	require.Equal(t, "exit 7", st.final)
	require.Positive(t, st.pid)
	require.Contains(t, trace.String(), "init runtime", "the trace is on")
	for _, heavy := range []string{"santhosh-tekuri/jsonschema", "golang.org/x/text", "encoding/json", "net/http"} {
		require.NotContains(t, trace.String(), "init "+heavy, "the supervisor ran after %s's init:\n%s", heavy, lastLines(trace.String(), 10))
	}
	_, err = os.Stat(dir)
	require.True(t, os.IsNotExist(err), "the supervisor removes the step's directory")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

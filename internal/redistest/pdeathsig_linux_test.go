package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// helperEnv makes TestHelperHoldServer run: it is the body of a child test
// binary that TestKilledBinaryLeavesNoServer kills.
const helperEnv = "REDISTEST_HELPER_HOLD_SERVER"

func TestHelperHoldServer(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper process of TestKilledBinaryLeavesNoServer")
	}
	s := StartServer(t, ServerOptions{})
	fmt.Printf("pid %d\n", s.proc.cmd.Process.Pid)
	time.Sleep(time.Minute) // until killed
}

func TestKilledBinaryLeavesNoServer(t *testing.T) {
	t.Parallel()
	child := exec.Command(os.Args[0], "-test.run=^TestHelperHoldServer$", "-test.count=1")
	child.Env = append(os.Environ(), helperEnv+"=1")
	var stderr bytes.Buffer
	child.Stderr = &stderr
	stdout, err := child.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, child.Start())
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })

	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = child.Process.Kill()
		_ = child.Wait() // stderr is complete only now
		t.Fatalf("reading the child's pid: %v; child stderr:\n%s", err, stderr.String())
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "pid ")))
	require.NoError(t, err, "child said %q", line)
	require.True(t, running(pid))

	require.NoError(t, child.Process.Kill())
	_ = child.Wait()
	require.Eventually(t, func() bool { return !running(pid) }, 5*time.Second, 10*time.Millisecond,
		"redis-server %d outlived its killed test binary", pid)
}

// running reports whether pid is a live process: it exists and is not a zombie
// (an orphan's zombie lingers where PID 1 does not reap, as in some containers).
func running(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z'
}

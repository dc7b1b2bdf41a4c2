package execkernel

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// helperEnv makes the test binary a stand-in worker (see runHelper).
const helperEnv = "EXECKERNEL_TEST_HELPER"

// runHelper runs one step of the manifest named by helperEnv, printing
// "running" once the step has started (it writes its pids to a file),
// until killed.
func runHelper() int {
	m, err := Load(os.Getenv(helperEnv), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	runners, err := m.Runners()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	_, err = runners[0].Run(context.Background(), chunk(`{}`))
	fmt.Fprintln(os.Stderr, "step ended:", err)
	return 1
}

// TestKilledWorkerTakesItsStepsWithIt SIGKILLs a process running a step
// whose script has a child and a grandchild: within a bound, no process
// of the step's group is left, nor the supervisor, and the step's
// working directory is gone.
func TestKilledWorkerTakesItsStepsWithIt(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	manifest := writeManifest(t, "t", "", `
pwd >`+tmp+`/dir
(sh -c 'sleep 1000 & echo $! >`+tmp+`/grandchild; wait' &)
echo $$ >`+tmp+`/leader
sleep 1000`, "")
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), helperEnv+"="+manifest)
	stderr, err := helper.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, helper.Start())
	t.Cleanup(func() { _ = helper.Process.Kill(); _ = helper.Wait() })
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Logf("helper: %s", sc.Text())
		}
	}()

	grandchild, leader := readPids(t, tmp+"/grandchild", 1)[0], readPids(t, tmp+"/leader", 1)[0]
	_, supervisor, pg, _ := procStat(leader)
	require.Equal(t, leader, pg, "the step leads its group")
	_, _, gpg, _ := procStat(grandchild)
	require.Equal(t, leader, gpg, "the grandchild is in the step's group")
	_, helperPid, _, _ := procStat(supervisor)
	require.Equal(t, helper.Process.Pid, helperPid, "the supervisor is the worker's child")
	b, err := os.ReadFile(filepath.Join(tmp, "dir"))
	require.NoError(t, err)
	dir := strings.TrimSpace(string(b))

	require.NoError(t, helper.Process.Signal(syscall.SIGKILL))
	_ = helper.Wait()
	killed := time.Now()
	require.Eventually(t, func() bool {
		return len(groupMembers(leader)) == 0 && !alive(supervisor)
	}, 5*time.Second, 10*time.Millisecond, "processes of the step's group left: %v; supervisor alive: %v", groupMembers(leader), alive(supervisor))
	t.Logf("step group and supervisor gone %s after the SIGKILL", time.Since(killed).Round(time.Millisecond))
	_, err = os.Stat(dir)
	require.True(t, os.IsNotExist(err), "the step's directory %s is removed: %v", dir, err)
}

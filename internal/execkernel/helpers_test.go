package execkernel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/tasks"
)

// writeManifest writes a manifest of one kernel named name whose command
// is the shell script body, and returns the manifest's path.
func writeManifest(t testing.TB, name, schema, script, artifactType string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "k.sh"), []byte("#!/bin/sh\n"+script), 0o755))
	if schema == "" {
		schema = `{"type": "object"}`
	}
	manifest := fmt.Sprintf(`{"kernels": [{"name": %q, "description": "test", "params_schema": %s, "command": ["./k.sh"], "artifact_type": %q}]}`,
		name, schema, artifactType)
	path := filepath.Join(dir, "kernels.json")
	require.NoError(t, os.WriteFile(path, []byte(manifest), 0o644))
	return path
}

// scriptRunner returns the runner of a one-kernel manifest running script.
func scriptRunner(t testing.TB, script string) *Runner {
	t.Helper()
	m, err := Load(writeManifest(t, "t", "", script, ""), nil)
	require.NoError(t, err)
	runners, err := m.Runners()
	require.NoError(t, err)
	return runners[0].(*Runner)
}

func chunk(params string) tasks.Chunk {
	return tasks.Chunk{Index: 0, Total: 1, Range: tasks.Range{Lo: 0, Hi: 10}, Params: []byte(params)}
}

// groupMembers returns the live (not zombie) processes whose process
// group is pgid.
func groupMembers(pgid int) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, _, pg, ok := procStat(pid)
		if ok && pg == pgid && state != 'Z' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	state, _, _, ok := procStat(pid)
	return ok && state != 'Z'
}

// procStat reads a process's state, parent and process group.
func procStat(pid int) (state byte, ppid, pgid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, 0, false
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 3 {
		return 0, 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	pgid, _ = strconv.Atoi(f[2])
	return f[0][0], ppid, pgid, true
}

// readPids waits for a file of whitespace-separated pids to hold n of them.
func readPids(t testing.TB, path string, n int) []int {
	t.Helper()
	var pids []int
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(path)
		pids = pids[:0]
		for _, f := range strings.Fields(string(b)) {
			p, err := strconv.Atoi(f)
			if err == nil {
				pids = append(pids, p)
			}
		}
		return len(pids) >= n
	}, 10e9, 5e6, "pid file %s", path)
	return pids
}

func itoa(i int) string { return strconv.Itoa(i) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

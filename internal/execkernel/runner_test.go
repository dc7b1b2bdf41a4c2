package execkernel

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/tasks"
)

func TestStepsSpeakTheProtocol(t *testing.T) {
	t.Parallel()
	r := scriptRunner(t, `
in=$(cat)
case "$1" in
plan) echo '{"extent": 1e3, "chunks": 7.0, "extra": "ignored"}';;
run) printf '{"in": %s, "env": "%s %s %s", "dir": "%s", "files": "%s"}\n' "$in" "$CRUNCH_JOB_ID" "$CRUNCH_KERNEL" "$CRUNCH_STEP" "$PWD" "$(ls -A)";;
reduce) printf '  {"result": %s}\n\n' "$in";;
esac`)
	ctx := tasks.WithJobID(t.Context(), "job_1")
	extent, chunks, err := r.Plan(ctx, []byte(`{"n":1}`))
	require.NoError(t, err)
	require.Equal(t, int64(1000), extent)
	require.Equal(t, 7, chunks)

	out, err := r.Run(ctx, tasks.Chunk{Index: 2, Total: 3, Range: tasks.Range{Lo: 6, Hi: 10}, Params: []byte(`{"n":1}`)})
	require.NoError(t, err)
	var got struct {
		In              map[string]any
		Env, Dir, Files string
	}
	require.NoError(t, jsonUnmarshal(out, &got))
	require.Equal(t, map[string]any{"params": map[string]any{"n": 1.0}, "index": 2.0, "total": 3.0, "lo": 6.0, "hi": 10.0}, got.In)
	require.Equal(t, "job_1 t run", got.Env)
	require.Empty(t, got.Files, "the working directory starts empty")
	require.True(t, strings.HasPrefix(got.Dir, os.TempDir()), got.Dir)
	_, err = os.Stat(got.Dir)
	require.True(t, errors.Is(err, os.ErrNotExist), "the working directory is removed afterwards: %v", err)

	o, err := r.Reduce(ctx, []byte(`{"n":1}`), nil, [][]byte{[]byte(`1`), []byte(`{"a":[2]}`)})
	require.NoError(t, err)
	require.JSONEq(t, `{"params":{"n":1},"partials":[1,{"a":[2]}]}`, string(o.Result))
	require.Nil(t, o.Artifact)
}

func TestReduceReturnsTheArtifact(t *testing.T) {
	t.Parallel()
	m, err := Load(writeManifest(t, "img", "", `cat >/dev/null; echo '{"result": 7, "artifact_base64": "aGVsbG8="}'`, "text/plain"), nil)
	require.NoError(t, err)
	runners, err := m.Runners()
	require.NoError(t, err)
	o, err := runners[0].Reduce(t.Context(), []byte(`{}`), nil, nil)
	require.NoError(t, err)
	require.Equal(t, "7", string(o.Result))
	require.Equal(t, "hello", string(o.Artifact))
}

func TestFailedStepsSayWhy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, script string
		reason       string // the error's message contains it
		stderr       string // the message ends with it
	}{
		{"exit status", `echo "bad param" >&2; exit 3`, "run step: exited with status 3; stderr:\n", "bad param\n"},
		{"signal", `echo dying >&2; kill -SEGV $$`, "was killed by signal SIGSEGV (segmentation fault)", "dying\n"},
		{"empty stdout", `echo quiet >&2`, "exited with status 0, but stdout is empty; want one JSON value", "quiet\n"},
		{"not JSON", `echo 'hello'`, "exited with status 0, but stdout is not one JSON value", ""},
		{"two values", `echo '1 2'`, "stdout is not one JSON value: data after the value", ""},
		{"stdout over 16 MiB", `head -c 17000000 /dev/zero | tr '\0' 1`, "wrote more than 16777216 bytes (16 MiB) to stdout", ""},
		{"no such program", ``, "could not start", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := scriptRunner(t, tc.script)
			if tc.name == "no such program" {
				require.NoError(t, os.Remove(r.argv[0]))
			}
			_, err := r.Run(t.Context(), chunk(`{}`))
			var se *StepError
			require.ErrorAs(t, err, &se)
			require.ErrorIs(t, err, tasks.ErrPermanent, "a failed step fails the same way again: a failed reduce fails its job at once")
			require.Contains(t, err.Error(), tc.reason)
			require.True(t, strings.HasSuffix(err.Error(), "stderr:\n"+tc.stderr), "%q", err.Error())
		})
	}
}

func TestFailedStepKeepsTheLast4KiBOfStderr(t *testing.T) {
	t.Parallel()
	// 10,000 numbered lines, then exit 1: the error ends with the last
	// 4096 bytes of them.
	r := scriptRunner(t, `i=0; while [ $i -lt 10000 ]; do echo "line $i" >&2; i=$((i+1)); done; exit 1`)
	_, err := r.Run(t.Context(), chunk(`{}`))
	require.Error(t, err)
	var want strings.Builder
	for i := range 10000 {
		want.WriteString("line " + itoa(i) + "\n")
	}
	tail := want.String()[want.Len()-StderrTail:]
	require.True(t, strings.HasSuffix(err.Error(), "exited with status 1; stderr:\n"+tail), "%.200q", err.Error())
}

func TestPlanAndReduceOutputsAreChecked(t *testing.T) {
	t.Parallel()
	r := scriptRunner(t, `cat >/dev/null; case "$1" in plan) echo '{"extent": -1, "chunks": 2}';; reduce) echo '{"answer": 1}';; esac`)
	_, _, err := r.Plan(t.Context(), []byte(`{}`))
	require.ErrorContains(t, err, `"extent" must be an integer from 0 to 9223372036854775807, got -1`)
	_, err = r.Reduce(t.Context(), []byte(`{}`), nil, nil)
	require.ErrorContains(t, err, `stdout has no "result"`)
}

// TestStopKillsTheWholeGroup cancels a step whose script has a child
// that ignores SIGTERM and a grandchild: Run returns within StopGrace and
// a margin, and no process of the step's group remains.
func TestStopKillsTheWholeGroup(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	r := scriptRunner(t, `
(trap '' TERM; sleep 1000 & echo $! >`+tmp+`/kid; wait) &
echo $$ >`+tmp+`/leader
sleep 1000`)
	ctx, cancel := context.WithCancelCause(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx, chunk(`{}`))
		errc <- err
	}()
	leader := readPids(t, tmp+"/leader", 1)[0]
	for _, p := range readPids(t, tmp+"/kid", 1) {
		_, _, pg, _ := procStat(p)
		require.Equal(t, leader, pg, "pid %d is in the step's group", p)
	}
	start := time.Now()
	cause := errors.New("job canceled")
	cancel(cause)
	select {
	case err := <-errc:
		require.ErrorIs(t, err, cause)
		require.Less(t, time.Since(start), StopGrace+time.Second)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context was canceled")
	}
	require.Empty(t, groupMembers(leader), "the step's group is gone")
}

func TestLeftoversOfASucceededStepAreKilled(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	r := scriptRunner(t, `(sleep 1000 >/dev/null 2>&1 & echo $! >`+tmp+`/kid); echo $$ >`+tmp+`/leader; echo '"done"'`)
	start := time.Now()
	out, err := r.Run(t.Context(), chunk(`{}`))
	require.NoError(t, err)
	require.Equal(t, `"done"`, string(out))
	require.Less(t, time.Since(start), 5*time.Second)
	require.Empty(t, groupMembers(readPids(t, tmp+"/leader", 1)[0]))
	require.False(t, alive(readPids(t, tmp+"/kid", 1)[0]), "the background sleep was killed")
}

func TestStepOfACanceledContextDoesNotStart(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "ran")
	r := scriptRunner(t, `touch `+marker)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := r.Run(ctx, chunk(`{}`))
	require.ErrorIs(t, err, context.Canceled)
	_, statErr := os.Stat(marker)
	require.True(t, errors.Is(statErr, os.ErrNotExist))
}

func TestTailKeepsTheLastBytesFromARuneStart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		writes []string
		max    int
		want   string
	}{
		{[]string{"abc"}, 8, "abc"},
		{[]string{"abcdef", "ghij"}, 8, "cdefghij"},
		{[]string{"0123456789"}, 4, "6789"},
		{[]string{"a", "b", "c", "d", "e"}, 3, "cde"},
		{[]string{"xé€"}, 4, "€"},     // é's second byte, then € (3 bytes): the stray byte is dropped
		{[]string{"é", "€"}, 5, "é€"}, // nothing cut: nothing dropped
	} {
		tl := &tail{max: tc.max}
		for _, w := range tc.writes {
			n, err := tl.Write([]byte(w))
			require.NoError(t, err)
			require.Equal(t, len(w), n)
		}
		require.Equal(t, tc.want, string(tl.bytes()), "%q", tc.writes)
	}
}

package archtest_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/crunchjobs/crunch"

// root is the module's directory.
func root(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	require.True(t, ok)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// deps lists the module's packages that pkg depends on (itself included),
// relative to the module path.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg)
	cmd.Dir = root(t)
	out, err := cmd.Output()
	require.NoError(t, err, "go list -deps %s", pkg)
	var mine []string
	for _, p := range strings.Fields(string(out)) {
		if rel, ok := strings.CutPrefix(p, module+"/"); ok {
			mine = append(mine, rel)
		} else if !strings.Contains(strings.SplitN(p, "/", 2)[0], ".") {
			continue // the standard library
		} else {
			mine = append(mine, p)
		}
	}
	return mine
}

// TestImportGraph holds the intended layering: wire types and the kernel
// contract at the bottom, the store above them, the lifecycle above the
// store, API and worker side by side above that and unaware of each other,
// the public server packages and the mains on top.
func TestImportGraph(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pkg    string
		forbid []string // packages (or prefixes ending in /) pkg must not depend on
		why    string
	}{
		{"./crunchtype", []string{"internal/", "tasks", "client"}, "the wire types are the bottom layer, shared by server and client"},
		{"./client", []string{"internal/", "tasks/kernels/", "github.com/hibiken/asynq", "github.com/redis/go-redis/v9"}, "the client speaks HTTP only"},
		{"./tasks/...", []string{"internal/api", "internal/worker", "internal/store", "internal/queue", "internal/lifecycle", "github.com/hibiken/asynq"}, "the kernel contract knows nothing of Redis or the servers"},
		{"./internal/store", []string{"internal/api", "internal/worker", "internal/lifecycle", "internal/queue", "tasks/kernels/"}, "the store is below everything that changes jobs"},
		{"./internal/config", []string{"internal/api", "internal/worker"}, "config is read by the servers, not the reverse"},
		{"./internal/lifecycle", []string{"internal/api", "internal/worker", "tasks/kernels/"}, "the lifecycle serves API and worker alike"},
		{"./internal/api", []string{"internal/worker", "internal/devredis", "github.com/alicebob/miniredis/v2"}, "the API runs no tasks"},
		{"./internal/worker", []string{"internal/api", "internal/devredis", "github.com/labstack/echo/v4"}, "the worker serves no API"},
		{"./api", []string{"internal/worker", "workerserver", "devserver", "internal/devredis", "github.com/alicebob/miniredis/v2"}, "the api binary carries no worker and no embedded Redis"},
		{"./worker", []string{"internal/api", "apiserver", "devserver", "internal/devredis", "github.com/labstack/echo/v4", "github.com/alicebob/miniredis/v2"}, "the worker binary carries no API and no embedded Redis"},
	} {
		t.Run(tt.pkg, func(t *testing.T) {
			t.Parallel()
			got := deps(t, tt.pkg)
			for _, d := range got {
				for _, f := range tt.forbid {
					bad := d == f || (strings.HasSuffix(f, "/") && strings.HasPrefix(d, f))
					require.False(t, bad, "%s depends on %s, but must not: %s", tt.pkg, d, tt.why)
				}
			}
		})
	}
}

// TestAPILinksNoRunners builds the api and worker binaries and reads their
// symbols: the API validates and sizes jobs with the kernels' Specs and must
// not carry their Runners (the code that computes); the worker must, which
// shows the check can fail.
func TestAPILinksNoRunners(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds two binaries; skipped with -short")
	}
	dir := t.TempDir()
	runner := regexp.MustCompile(`crunch/tasks/kernels/\w+\.Runner\.`)
	for _, tt := range []struct {
		pkg         string
		wantRunners bool
	}{{"./api", false}, {"./worker", true}} {
		bin := filepath.Join(dir, filepath.Base(tt.pkg))
		build := exec.Command("go", "build", "-o", bin, tt.pkg)
		build.Dir = root(t)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := build.CombinedOutput()
		require.NoError(t, err, "go build %s: %s", tt.pkg, out)
		syms, err := exec.Command("go", "tool", "nm", bin).Output()
		require.NoError(t, err)
		var found []string
		for _, line := range bytes.Split(syms, []byte("\n")) {
			if runner.Match(line) {
				found = append(found, string(bytes.TrimSpace(line)))
			}
		}
		if tt.wantRunners {
			require.NotEmpty(t, found, "the worker binary should link the kernels' Runners")
		} else {
			require.Empty(t, found, "the api binary links Runner code: %v", found[:min(len(found), 5)])
		}
	}
}

// transitions are the store's methods that change a job's status; only
// package lifecycle may call them, so that every transition makes its
// announcements in one order.
var transitions = []string{"Create", "Delete", "StartChunk", "Cancel", "Fail", "Succeed", "AdmitActive", "ReleaseActive"}

// TestTransitionsHaveOneOwner scans every non-test Go file outside
// internal/store and internal/lifecycle for calls of the store's
// transition methods on a value named like a store.
func TestTransitionsHaveOneOwner(t *testing.T) {
	t.Parallel()
	top := root(t)
	fset := token.NewFileSet()
	var offenders []string
	err := filepath.WalkDir(top, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(top, path)
		if d.IsDir() {
			if rel == ".git" || rel == "internal/store" || rel == "internal/lifecycle" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !slices.Contains(transitions, sel.Sel.Name) {
				return true
			}
			if recv, ok := sel.X.(*ast.SelectorExpr); ok && recv.Sel.Name == "store" {
				offenders = append(offenders, fset.Position(call.Pos()).String()+": store."+sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
	require.Empty(t, offenders, "job transitions belong to package lifecycle (call its Submit, StartChunk, Cancel, Fail or Succeed instead)")
}

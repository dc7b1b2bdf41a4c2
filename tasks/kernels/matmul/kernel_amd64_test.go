//go:build amd64 && !purego

package matmul

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/cpu"
)

// TestBestPathFollowsTheCPU checks the run-time selection: AVX-512 where
// the CPU (and operating system) has it, else AVX2 with FMA, else Go.
func TestBestPathFollowsTheCPU(t *testing.T) {
	t.Parallel()
	want := "generic"
	switch {
	case cpu.X86.HasAVX512F:
		want = "avx512"
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		want = "avx2"
	}
	require.Equal(t, want, bestPath.name)
	require.Equal(t, "generic", paths()[len(paths())-1].name)
	var names []string
	for _, p := range paths() {
		names = append(names, p.name)
	}
	t.Logf("paths on this CPU, best first: %v", names)
}

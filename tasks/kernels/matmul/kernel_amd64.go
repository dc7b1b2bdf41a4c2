//go:build amd64 && !purego

package matmul

//go:generate python3 gen_kernels.py

import "golang.org/x/sys/cpu"

// The assembly micro-kernels of kernel_amd64.s. Each computes one mr×nr
// tile of C from a packed sliver of A (mr entries per inner step) and one of
// B (nr entries per step): with load = 0 it starts every entry from +0, with
// load = 1 from the tile's current contents, then for each of the kc steps
// in order adds a·b with one fused multiply-add (VFMADD231PD), and stores
// the tile. ldc is C's row stride in entries.

//go:noescape
func kernAVX512(kc int, a, b, c *float64, ldc int, load int)

//go:noescape
func kernAVX2(kc int, a, b, c *float64, ldc int, load int)

// asmPaths are the assembly paths, best first, with whether this CPU (and
// its operating system) can run them.
var asmPaths = []struct {
	path
	ok bool
}{
	{path{name: "avx512", mr: 14, nr: 16, kernel: kernAVX512}, cpu.X86.HasAVX512F},
	{path{name: "avx2", mr: 6, nr: 8, kernel: kernAVX2}, cpu.X86.HasAVX2 && cpu.X86.HasFMA},
}

//go:build amd64 && !purego

package pi

import "golang.org/x/sys/cpu"

// lanes32 is the memory outside32AVX512 works on: the states of 32 lanes
// and their outside counts. The offsets (0, 256) are fixed in
// outside_amd64.s.
type lanes32 struct {
	s   [32]uint64
	out [32]uint64
}

//go:noescape
func outside32AVX512(b *lanes32, iters uint64)

func init() {
	// VPMULLQ (64-bit multiply of packed quadwords) is AVX512DQ.
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ {
		paths = append(paths, path{name: "avx512", count: countInsideAVX512})
	}
}

// avxIters bounds one call of outside32AVX512 (32 samples an iteration):
// well under a millisecond, as assembly cannot be preempted.
const avxIters = 1 << 14

// countInsideAVX512 is countInside with outside32AVX512 for the samples in
// multiples of 32 and countInside for the rest.
func countInsideAVX512(seed, lo, hi uint64) uint64 {
	var b lanes32
	var outside uint64
	a := lo
	for hi-a >= 32 {
		iters := min((hi-a)/32, avxIters)
		for j := range b.s {
			b.s[j] = seed + (a+uint64(j)+1)*golden
		}
		outside32AVX512(&b, iters)
		for _, o := range b.out {
			outside += o
		}
		a += 32 * iters
	}
	return (a - lo - outside) + countInside(seed, a, hi)
}

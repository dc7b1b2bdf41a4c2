package pi

// A path is one implementation of countInside: the pure-Go one, which runs
// everywhere, or a SIMD one the CPU supports. All count exactly the points
// Point says are inside.
type path struct {
	name string
	// count returns how many of the samples [lo, hi) of seed are inside.
	count func(seed, lo, hi uint64) uint64
}

// paths are the implementations this CPU can run, the pure-Go one first;
// init functions of the SIMD files append theirs.
var paths = []path{{name: "go", count: countInside}}

// countFast is the fastest of paths: the last one.
func countFast(seed, lo, hi uint64) uint64 {
	return paths[len(paths)-1].count(seed, lo, hi)
}

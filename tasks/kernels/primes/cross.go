package primes

// A crossPath is one implementation of crossEight, for the tests and
// benchmarks that compare them.
type crossPath struct {
	name  string
	cross [64]func(blk *[blockBytes]byte, j, end, p30 uint32) uint32
}

// crossPaths are the implementations this build has, the pure-Go one
// first.
var crossPaths = []crossPath{{"go", crossEight}}

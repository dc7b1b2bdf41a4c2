package mandelbrot

// A path is one implementation of span: the pure-Go lanes, which runs
// everywhere, or a SIMD one the CPU supports. All compute exactly what
// escape computes.
type path struct {
	name string
	// span renders the pixels whose c is (cxs[i], cy) into dst[i] (palette
	// indices through table) and returns how many are inside.
	span func(cxs []float64, cy float64, maxIter int, table []uint8, dst []byte) int64
}

// paths are the implementations this CPU can run, the pure-Go one first;
// init functions of the SIMD files append theirs.
var paths = []path{{name: "go", span: lanes}}

// span is the fastest of paths: the last one.
func span(cxs []float64, cy float64, maxIter int, table []uint8, dst []byte) int64 {
	return paths[len(paths)-1].span(cxs, cy, maxIter, table, dst)
}

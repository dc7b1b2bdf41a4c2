//go:build !amd64 || purego

package matmul

// asmPaths is empty off amd64 (and with the purego build tag): every
// product uses the portable Go kernel.
var asmPaths []struct {
	path
	ok bool
}

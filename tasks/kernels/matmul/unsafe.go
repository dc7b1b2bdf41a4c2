package matmul

import "unsafe"

// unsafeSlice is the n entries from p on, for kernGeneric, which shares the
// assembly kernels' pointer signature.
func unsafeSlice(p *float64, n int) []float64 { return unsafe.Slice(p, n) }

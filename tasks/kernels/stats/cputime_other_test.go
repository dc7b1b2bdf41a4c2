//go:build !linux

package stats

import "testing"

// threadCPU runs f b.N times; the CPU-time metric needs Linux.
func threadCPU(b *testing.B, _ int64, f func()) {
	for b.Loop() {
		f()
	}
}

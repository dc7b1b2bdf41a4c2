//go:build amd64 && !purego

package mandelbrot

import "golang.org/x/sys/cpu"

// batchLanes is the number of orbits escape32AVX512 iterates at once.
const batchLanes = 32

// batch is the memory escape32AVX512 works on: c's real parts, the cycle
// checkpoints and the escape counts of 32 orbits. The offsets (0, 256, 512,
// 768) are fixed in escape_amd64.s.
type batch struct {
	cx  [batchLanes]float64
	sx  [batchLanes]float64
	sy  [batchLanes]float64
	cnt [batchLanes]int64
}

//go:noescape
func escape32AVX512(b *batch, cy float64, maxIter int)

// hasAVX512 reports whether the CPU and OS support the AVX-512 foundation
// instructions escape32AVX512 uses.
var hasAVX512 = cpu.X86.HasAVX512F

func init() {
	if hasAVX512 {
		paths = append(paths, path{name: "avx512", span: spanAVX512})
	}
}

// spanAVX512 is span with escape32AVX512: the pixels are taken 32 at a
// time, the last batch padded with copies of its last pixel.
func spanAVX512(cxs []float64, cy float64, maxIter int, table []uint8, dst []byte) (inside int64) {
	var b batch
	for i := 0; i < len(cxs); i += batchLanes {
		n := copy(b.cx[:], cxs[i:])
		for k := n; k < batchLanes; k++ {
			b.cx[k] = b.cx[n-1]
		}
		b.sx, b.sy, b.cnt = [batchLanes]float64{}, [batchLanes]float64{}, [batchLanes]int64{}
		escape32AVX512(&b, cy, maxIter)
		for k, c := range b.cnt[:n] {
			inside += b2i(c == 0)
			dst[i+k] = table[c]
		}
	}
	return inside
}

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

// batch12 is the memory escape12AVX2 works on: 12 orbits' c real parts,
// checkpoints and escape counts, then 2, 4 and cy in four lanes each. The
// offsets (0, 96, 192, 288, 384, 416, 448) are fixed in
// escape_avx2_amd64.s.
type batch12 struct {
	cx        [12]float64
	sx        [12]float64
	sy        [12]float64
	cnt       [12]int64
	two, four [4]float64
	cy        [4]float64
}

//go:noescape
func escape12AVX2(b *batch12, maxIter int)

// The paths in order of speed: the last is used.
func init() {
	if cpu.X86.HasAVX2 {
		paths = append(paths, path{name: "avx2", span: spanAVX2})
	}
	if hasAVX512 {
		paths = append(paths, path{name: "avx512", span: spanAVX512})
	}
}

// spanAVX2 is span with escape12AVX2: the pixels are taken 12 at a time,
// the last batch padded with copies of its last pixel.
func spanAVX2(cxs []float64, cy float64, maxIter int, table []uint8, dst []byte) (inside int64) {
	b := batch12{two: [4]float64{2, 2, 2, 2}, four: [4]float64{4, 4, 4, 4}, cy: [4]float64{cy, cy, cy, cy}}
	for i := 0; i < len(cxs); i += len(b.cx) {
		n := copy(b.cx[:], cxs[i:])
		for k := n; k < len(b.cx); k++ {
			b.cx[k] = b.cx[n-1]
		}
		b.sx, b.sy, b.cnt = [12]float64{}, [12]float64{}, [12]int64{}
		escape12AVX2(&b, maxIter)
		for k, c := range b.cnt[:n] {
			inside += b2i(c == 0)
			dst[i+k] = table[c]
		}
	}
	return inside
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

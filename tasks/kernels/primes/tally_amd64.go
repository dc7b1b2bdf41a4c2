//go:build amd64 && !purego

package primes

import "golang.org/x/sys/cpu"

//go:noescape
func tallyAVX512(words *byte, n int, masks *[8]uint64, acc *[80]uint64)

func init() {
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VPOPCNTDQ {
		tallyPaths = append(tallyPaths, tallyPath{"avx512", sumsAVX512})
		sumsFast = sumsAVX512
	}
}

// sumsAVX512 is sumsGo with tallyAVX512 for the words in multiples of 8.
func sumsAVX512(seg []byte) popSums {
	n8 := len(seg) / 64 * 8
	var s popSums
	if n8 > 0 {
		masks := [8]uint64{byteMasks[0], byteMasks[1], byteMasks[2], residueMasks[0], residueMasks[1], residueMasks[2], residueMasks[3], residueMasks[4]}
		var acc [80]uint64
		tallyAVX512(&seg[0], n8, &masks, &acc)
		for l := range 8 {
			s.cnt += acc[l]
			s.wsum += acc[8+l]
			for i := range s.m {
				s.m[i] += acc[8*(i+2)+l]
			}
		}
	}
	r := sumsGo(seg[8*n8:])
	s.cnt += r.cnt
	s.wsum += r.wsum + uint64(n8)*r.cnt
	for i := range s.m {
		s.m[i] += r.m[i]
	}
	return s
}

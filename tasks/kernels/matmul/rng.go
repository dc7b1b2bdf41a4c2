package matmul

// golden is SplitMix64's increment, ⌊2^64/φ⌋ made odd.
const golden = 0x9E3779B97F4A7C15

// mix64 is SplitMix64's output function (Stafford's variant 13).
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// Which matrix an entry belongs to, in the generator's counter.
const (
	matA = 0
	matB = 1
)

// randomRow fills dst with entries (i, 0), (i, 1), … of matrix mat (matA or
// matB) for seed; see the package doc.
func randomRow(seed int64, mat, i int, dst []float64) {
	key := mix64(uint64(seed) + golden)
	ctr := uint64(mat)<<48 | uint64(i)<<24
	z := key + (ctr+1)*golden
	for j := range dst {
		dst[j] = toUnit(mix64(z))
		z += golden
	}
}

// toUnit maps 64 random bits to a multiple of 2^-53 in [-1, 1), exactly:
// the top 54 bits as an integer u, then (u − 2^53)·2^-53.
func toUnit(z uint64) float64 {
	return float64(int64(z>>10)-1<<53) * 0x1p-53
}

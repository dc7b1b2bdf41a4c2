package matmul_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/matmul"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// result mirrors the contract's result.
type result struct {
	Rows      int         `json:"rows"`
	Cols      int         `json:"cols"`
	Checksum  float64     `json:"checksum"`
	Frobenius float64     `json:"frobenius"`
	C         [][]float64 `json:"c"`
}

func decode(t testing.TB, raw json.RawMessage) result {
	t.Helper()
	var r result
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&r))
	return r
}

func matrixJSON(m [][]float64) string {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func explicit(a, b [][]float64) string {
	return fmt.Sprintf(`{"a":%s,"b":%s}`, matrixJSON(a), matrixJSON(b))
}

// naive is the arithmetic the package doc promises, written out: every
// entry of C one chain of fused multiply-adds in ascending order of the
// inner index, c = fma(a_il, b_lj, c) from c = 0.
func naive(a, b [][]float64) [][]float64 {
	c := make([][]float64, len(a))
	for i := range a {
		c[i] = make([]float64, len(b[0]))
		for j := range c[i] {
			s := 0.0
			for l := range b {
				s = math.FMA(a[i][l], b[l][j], s)
			}
			c[i][j] = s
		}
	}
	return c
}

// exactPrec holds any sum of up to 2^20 squares of float64 values exactly.
const exactPrec = 4400

// exactSums are the exact sum of c's entries and of their squares.
func exactSums(t testing.TB, c [][]float64) (sum, squares *big.Float) {
	sum = new(big.Float).SetPrec(exactPrec)
	squares = new(big.Float).SetPrec(exactPrec)
	sq := new(big.Float).SetPrec(exactPrec)
	for _, row := range c {
		for _, x := range row {
			xf := big.NewFloat(x)
			sum.Add(sum, xf)
			squares.Add(squares, sq.Mul(xf, xf))
			require.Equal(t, big.Exact, sum.Acc())
			require.Equal(t, big.Exact, squares.Acc())
		}
	}
	return sum, squares
}

func rounded(f *big.Float) float64 {
	x, _ := f.Float64()
	return x
}

// requireConsistent checks that checksum and frobenius are the exact sums
// over the result's own C, rounded once.
func requireConsistent(t *testing.T, r result) {
	t.Helper()
	sum, squares := exactSums(t, r.C)
	require.Equal(t, rounded(sum), r.Checksum, "checksum")
	require.Equal(t, math.Sqrt(rounded(squares)), r.Frobenius, "frobenius")
}

func TestNames(t *testing.T) {
	t.Parallel()
	require.Equal(t, "matmul", matmul.Spec{}.Name())
	require.Equal(t, "matmul", matmul.Runner{}.Name())
	require.Empty(t, matmul.Spec{}.ArtifactType())
	require.NotEmpty(t, matmul.Spec{}.Description())
}

func TestParamsSchema(t *testing.T) {
	t.Parallel()
	require.Empty(t, matmul.Spec{}.ArtifactType())
	kerneltest.CheckSpec(t, matmul.Spec{}, matmul.Runner{}, []string{"a", "b", "n", "seed"}, nil)
}

func TestKnownProducts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		params string
		want   string
	}{
		{"2x2", `{"a":[[1,2],[3,4]],"b":[[5,6],[7,8]]}`,
			`{"rows":2,"cols":2,"checksum":134,"frobenius":` + fmt.Sprint(math.Sqrt(19*19+22*22+43*43+50*50)) + `,"c":[[19,22],[43,50]]}`},
		{"row times column", `{"a":[[1,2,3]],"b":[[4],[5],[6]]}`, `{"rows":1,"cols":1,"checksum":32,"frobenius":32,"c":[[32]]}`},
		{"column times row", `{"a":[[1],[2]],"b":[[3,4,5]]}`, `{"rows":2,"cols":3,"checksum":36,"frobenius":` + fmt.Sprint(math.Sqrt(9+16+25+36+64+100)) + `,"c":[[3,4,5],[6,8,10]]}`},
		{"identity", `{"a":[[1,0,0],[0,1,0],[0,0,1]],"b":[[1.5,-2,3],[4,5e-300,6],[-7,8,9e40]]}`,
			`{"rows":3,"cols":3,"checksum":9e+40,"frobenius":9e+40,"c":[[1.5,-2,3],[4,5e-300,6],[-7,8,9e+40]]}`},
		{"1x1", `{"a":[[-3]],"b":[[0.5]]}`, `{"rows":1,"cols":1,"checksum":-1.5,"frobenius":1.5,"c":[[-1.5]]}`},
		{"zero", `{"a":[[0,0]],"b":[[-1],[1]]}`, `{"rows":1,"cols":1,"checksum":0,"frobenius":0,"c":[[0]]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := kerneltest.Invariant(t, matmul.Spec{}, matmul.Runner{}, tc.params, 1, 2, 3, 7)
			require.Equal(t, tc.want, string(out.Result))
			require.Nil(t, out.Artifact)
		})
	}
}

func TestNonSquareAgainstNaive(t *testing.T) {
	t.Parallel()
	for _, shape := range [][3]int{{1, 1, 1}, {3, 5, 2}, {7, 1, 9}, {65, 70, 130}, {130, 129, 67}, {1, 300, 1}, {200, 3, 300}} {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			t.Parallel()
			a := pattern(shape[0], shape[1], 1)
			b := pattern(shape[1], shape[2], 2)
			out := kerneltest.Invariant(t, matmul.Spec{}, matmul.Runner{}, explicit(a, b), 1, 3, 0)
			r := decode(t, out.Result)
			require.Equal(t, shape[0], r.Rows)
			require.Equal(t, shape[2], r.Cols)
			want := naive(a, b)
			if shape[0]*shape[2] > matmul.MaxCEntries {
				require.Nil(t, r.C)
				require.NotContains(t, string(out.Result), `"c"`)
				sum, squares := exactSums(t, want)
				requireSame(t, rounded(sum), r.Checksum)
				requireSame(t, math.Sqrt(rounded(squares)), r.Frobenius)
				return
			}
			requireConsistent(t, r)
			require.Equal(t, want, r.C, "C is the documented summation, bit for bit")
		})
	}
}

// requireSame requires the same float64, bit for bit: the arithmetic is
// fixed (math.FMA in the reference, fused multiply-adds on every path), so
// there is no tolerance on any architecture.
func requireSame(t *testing.T, want, got float64) {
	t.Helper()
	require.Equal(t, math.Float64bits(want), math.Float64bits(got), "want %v, got %v", want, got)
}

// pattern is a rows×cols matrix of awkward values: mixed signs and
// magnitudes, exact zeros, values that cancel.
func pattern(rows, cols, salt int) [][]float64 {
	m := make([][]float64, rows)
	for i := range m {
		m[i] = make([]float64, cols)
		for j := range m[i] {
			k := (i*31 + j*17 + salt*7) % 23
			switch {
			case k == 0:
				m[i][j] = 0
			case k%5 == 1:
				m[i][j] = math.Ldexp(float64(k), k-11) // powers of two apart
			case k%2 == 0:
				m[i][j] = -1 / float64(k)
			default:
				m[i][j] = float64(k) * 0.1
			}
		}
	}
	return m
}

func TestHugeEntries(t *testing.T) {
	t.Parallel()
	// Entries near 10^50: products near 10^100 that cancel almost entirely,
	// leaving small terms only an exact sum keeps.
	a := [][]float64{{1e50, 1, -1e50, 3}, {-1e50, 2, 1e50 * (1 - 0x1p-52), 1e-50}, {7e49, -1e50, 1, 0}}
	b := [][]float64{{1e50, -1e50, 1}, {1, 1e50, 1e50}, {1e50, -1e50 * (1 - 0x1p-52), 2}, {5, 1e-50, -1e50}}
	out := kerneltest.Invariant(t, matmul.Spec{}, matmul.Runner{}, explicit(a, b), 1, 2, 3)
	r := decode(t, out.Result)
	requireConsistent(t, r)
	require.Equal(t, naive(a, b), r.C)
	// The checksum against a big.Rat sum of the float64 entries of C.
	sum, squares := new(big.Rat), new(big.Rat)
	for _, row := range r.C {
		for _, x := range row {
			q := new(big.Rat).SetFloat64(x)
			sum.Add(sum, q)
			squares.Add(squares, q.Mul(q, q))
		}
	}
	wantSum, _ := sum.Float64()
	wantSquares, _ := squares.Float64()
	require.Equal(t, wantSum, r.Checksum)
	require.Equal(t, math.Sqrt(wantSquares), r.Frobenius)
	for _, row := range r.C {
		for _, x := range row {
			require.False(t, math.IsInf(x, 0) || math.IsNaN(x))
		}
	}
	// The largest allowed magnitudes do not overflow: 512 products of 10^100.
	big := make([][]float64, 1)
	big[0] = make([]float64, 512)
	col := make([][]float64, 512)
	for i := range big[0] {
		big[0][i] = 1e50
		col[i] = []float64{-1e50}
	}
	out = kerneltest.MustRun(t, matmul.Spec{}, matmul.Runner{}, explicit(big, col), 1)
	r = decode(t, out.Result)
	requireConsistent(t, r)
	require.Less(t, r.Checksum, -5e102)
}

func TestCancellingChecksum(t *testing.T) {
	t.Parallel()
	// C = [[1e30, 1, -1e30, 1e-10]]: a float64 running sum of C's entries
	// gives 1e-10 (or 0); the exact checksum is 1 + 1e-10 rounded once.
	a := [][]float64{{1}}
	b := [][]float64{{1e30, 1, -1e30, 1e-10}}
	out := kerneltest.MustRun(t, matmul.Spec{}, matmul.Runner{}, explicit(a, b), 1)
	r := decode(t, out.Result)
	require.Equal(t, 1+1e-10, r.Checksum)
	requireConsistent(t, r)

	// Rows whose huge entries cancel, within a row and across chunks,
	// leaving 3 per row: a float64 running sum loses the 3s.
	a = [][]float64{{1}, {1}, {-1}, {1}}
	b = [][]float64{{1e50, 3, -1e50}}
	out = kerneltest.Invariant(t, matmul.Spec{}, matmul.Runner{}, explicit(a, b), 1, 2, 3, 4, 7)
	r = decode(t, out.Result)
	require.Equal(t, 6.0, r.Checksum)
	requireConsistent(t, r)
}

func TestRandomForm(t *testing.T) {
	t.Parallel()
	out := kerneltest.Invariant(t, matmul.Spec{}, matmul.Runner{}, `{"n":100,"seed":42}`, 1, 2, 3, 7, 64, 101, 0)
	r := decode(t, out.Result)
	require.Equal(t, 100, r.Rows)
	require.Equal(t, 100, r.Cols)
	require.Len(t, r.C, 100)
	requireConsistent(t, r)
	// Entries of C are sums of 100 products of values uniform in [-1, 1):
	// the mean square of an entry is 100/9.
	meanSquare := r.Frobenius * r.Frobenius / (100 * 100)
	require.InDelta(t, 100.0/9, meanSquare, 1.5)

	other := decode(t, kerneltest.MustRun(t, matmul.Spec{}, matmul.Runner{}, `{"n":100,"seed":43}`, 0).Result)
	require.NotEqual(t, r.Checksum, other.Checksum)
	zero := decode(t, kerneltest.MustRun(t, matmul.Spec{}, matmul.Runner{}, `{"n":100}`, 0).Result)
	require.NotEqual(t, r.Checksum, zero.Checksum)
}

// docEntry is the random entry (i, j) of matrix m as the package doc
// defines it, written out again.
func docEntry(seed uint64, m, i, j uint64) float64 {
	mix := func(z uint64) uint64 {
		z ^= z >> 30
		z *= 0xBF58476D1CE4E5B9
		z ^= z >> 27
		z *= 0x94D049BB133111EB
		return z ^ z>>31
	}
	const gamma = 0x9E3779B97F4A7C15
	key := mix(seed + gamma)
	ctr := m<<48 + i<<24 + j
	bits := mix(key + (ctr+1)*gamma)
	return float64(int64(bits>>10)-(1<<53)) / (1 << 53)
}

func TestRandomEntriesAsDocumented(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{0, 1, 42, math.MaxInt64} {
		const n = 37
		a, b := make([][]float64, n), make([][]float64, n)
		for i := range n {
			a[i], b[i] = make([]float64, n), make([]float64, n)
			for j := range n {
				a[i][j] = docEntry(seed, 0, uint64(i), uint64(j))
				b[i][j] = docEntry(seed, 1, uint64(i), uint64(j))
				require.True(t, a[i][j] >= -1 && a[i][j] < 1)
			}
		}
		out := kerneltest.MustRun(t, matmul.Spec{}, matmul.Runner{}, fmt.Sprintf(`{"n":%d,"seed":%d}`, n, seed), 3)
		r := decode(t, out.Result)
		want := naive(a, b)
		for i := range want {
			for j := range want[i] {
				requireSame(t, want[i][j], r.C[i][j])
			}
		}
	}
}

func TestRandomLargeHasNoC(t *testing.T) {
	t.Parallel()
	out := kerneltest.Invariant(t, matmul.Spec{}, matmul.Runner{}, `{"n":257,"seed":9}`, 1, 3, 7)
	require.NotContains(t, string(out.Result), `"c"`)
	require.Regexp(t, `^\{"rows":257,"cols":257,"checksum":[-0-9.e+]+,"frobenius":[0-9.e+]+\}$`, string(out.Result))
	out = kerneltest.MustRun(t, matmul.Spec{}, matmul.Runner{}, `{"n":256,"seed":9}`, 2)
	require.Contains(t, string(out.Result), `"c":[[`)
}

func TestRandomN1(t *testing.T) {
	t.Parallel()
	out := kerneltest.Invariant(t, matmul.Spec{}, matmul.Runner{}, `{"n":1,"seed":5}`, 1, 2, 7)
	r := decode(t, out.Result)
	require.Len(t, r.C, 1)
	x := r.C[0][0]
	require.Equal(t, x, r.Checksum)
	require.Equal(t, math.Abs(x), r.Frobenius)
	require.Less(t, math.Abs(x), 1.0)
}

func TestPrepare(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		params string
		echo   string
		extent int64
		chunks int
		input  bool
	}{
		{`{"n":4096}`, `{"n":4096,"seed":0}`, 4096, 64, false},
		{`{"seed":9223372036854775807,"n":1}`, `{"n":1,"seed":9223372036854775807}`, 1, 1, false},
		{`{"n":2048,"seed":3}`, `{"n":2048,"seed":3}`, 2048, 8, false},
		{`{"n":1e3}`, `{"n":1000,"seed":0}`, 1000, 1, false},
		{`{"a":[[1,2]],"b":[[1],[2]]}`, `{}`, 1, 1, true},
		{`{"a":[[1,2]],"b":[[1],[2]],"n":null,"seed":null}`, `{}`, 1, 1, true},
	} {
		prep, err := matmul.Spec{}.Prepare(json.RawMessage(tc.params))
		require.NoError(t, err, tc.params)
		require.Equal(t, tc.echo, string(prep.Params), tc.params)
		require.Equal(t, tc.extent, prep.Extent, tc.params)
		require.Equal(t, tc.chunks, prep.DefaultChunks, tc.params)
		require.Equal(t, tc.input, prep.Input != nil, tc.params)
	}
}

func TestPrepareValidation(t *testing.T) {
	t.Parallel()
	row := func(n int) string { return "[" + strings.TrimSuffix(strings.Repeat("1,", n), ",") + "]" }
	rows := func(r, c int) string { return "[" + strings.TrimSuffix(strings.Repeat(row(c)+",", r), ",") + "]" }
	for _, tc := range []struct {
		name   string
		params string
		fields []string
	}{
		{"neither", `{}`, []string{"n"}},
		{"absent", ``, []string{"n"}},
		{"seed only", `{"seed":1}`, []string{"n"}},
		{"both forms", `{"a":[[1]],"b":[[1]],"n":2}`, []string{"n"}},
		{"seed with a", `{"a":[[1]],"b":[[1]],"seed":2}`, []string{"seed"}},
		{"a without b", `{"a":[[1]]}`, []string{"b"}},
		{"b without a", `{"b":[[1]]}`, []string{"a"}},
		{"ragged a", `{"a":[[1,2],[3]],"b":[[1],[2]]}`, []string{"a[1]"}},
		{"ragged b", `{"a":[[1,2]],"b":[[1],[2,3]]}`, []string{"b[1]"}},
		{"inner mismatch", `{"a":[[1,2]],"b":[[1,2]]}`, []string{"b"}},
		{"513 rows", `{"a":` + rows(513, 1) + `,"b":[[1]]}`, []string{"a"}},
		{"513 columns", `{"a":[[1]],"b":[` + row(513) + `]}`, []string{"b[0]"}},
		{"empty a", `{"a":[],"b":[[1]]}`, []string{"a"}},
		{"empty row", `{"a":[[]],"b":[[1]]}`, []string{"a[0]"}},
		{"not a matrix", `{"a":[1,2],"b":[[1]]}`, []string{"a[0]", "a[1]"}},
		{"too large entry", `{"a":[[1,2,3],[4,5,1.1e50]],"b":[[1],[2],[3]]}`, []string{"a[1][2]"}},
		{"non-finite entry", `{"a":[[1]],"b":[[1e400]]}`, []string{"b[0][0]"}},
		{"string entry", `{"a":[[1,"2"]],"b":[[1],[2]]}`, []string{"a[0][1]"}},
		{"null entry", `{"a":[[1,null]],"b":[[1],[2]]}`, []string{"a[0][1]"}},
		{"n zero", `{"n":0}`, []string{"n"}},
		{"n too large", `{"n":4097}`, []string{"n"}},
		{"n fraction", `{"n":2.5}`, []string{"n"}},
		{"n string", `{"n":"2"}`, []string{"n"}},
		{"negative seed", `{"n":2,"seed":-1}`, []string{"seed"}},
		{"seed too large", `{"n":2,"seed":9223372036854775808}`, []string{"seed"}},
		{"unknown", `{"n":2,"m":3}`, []string{"m"}},
		{"not an object", `[1]`, []string{"", "n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.fields, kerneltest.RefusedFields(t, matmul.Spec{}, tc.params))
		})
	}
}

func TestLargestExplicit(t *testing.T) {
	t.Parallel()
	// The largest a (small integers, to keep the JSON short), times one
	// column.
	a, b := make([][]float64, 512), pattern(512, 1, 4)
	for i := range a {
		a[i] = make([]float64, 512)
		for j := range a[i] {
			a[i][j] = float64((i*7+j*3)%11 - 5)
		}
	}
	out := kerneltest.Invariant(t, matmul.Spec{}, matmul.Runner{}, explicit(a, b), 1, 5)
	r := decode(t, out.Result)
	require.Len(t, r.C, 512)
	requireConsistent(t, r)
	want := naive(a, b)
	for i := range want {
		requireSame(t, want[i][0], r.C[i][0])
	}

	// 512×8 by 8×129: C has 66048 entries, too many to list.
	a, b = pattern(512, 8, 5), pattern(8, 129, 6)
	out = kerneltest.Invariant(t, matmul.Spec{}, matmul.Runner{}, explicit(a, b), 1, 5)
	r = decode(t, out.Result)
	require.Nil(t, r.C)
	require.NotContains(t, string(out.Result), `"c"`)
	sum, squares := exactSums(t, naive(a, b))
	requireSame(t, rounded(sum), r.Checksum)
	requireSame(t, math.Sqrt(rounded(squares)), r.Frobenius)
}

func TestEmptyChunk(t *testing.T) {
	t.Parallel()
	for _, params := range []string{`{"n":3}`, `{"a":[[1,2]],"b":[[3],[4]]}`} {
		prep, err := matmul.Spec{}.Prepare(json.RawMessage(params))
		require.NoError(t, err)
		var input tasks.Input
		if prep.Input != nil {
			input = bytes.NewReader(prep.Input)
		}
		p, err := matmul.Runner{}.Run(t.Context(), tasks.Chunk{Index: 1, Total: 2, Range: tasks.Range{Lo: 1, Hi: 1}, Params: prep.Params, Input: input})
		require.NoError(t, err)
		require.NotEmpty(t, p)
	}
}

func TestRunRejectsBadJobs(t *testing.T) {
	t.Parallel()
	prep, err := matmul.Spec{}.Prepare(json.RawMessage(`{"a":[[1,2]],"b":[[3],[4]]}`))
	require.NoError(t, err)
	good := bytes.NewReader(prep.Input)
	for name, ch := range map[string]tasks.Chunk{
		"range past rows":  {Range: tasks.Range{Lo: 0, Hi: 2}, Params: prep.Params, Input: good},
		"negative range":   {Range: tasks.Range{Lo: -1, Hi: 1}, Params: prep.Params, Input: good},
		"no input":         {Range: tasks.Range{Lo: 0, Hi: 1}, Params: prep.Params},
		"truncated input":  {Range: tasks.Range{Lo: 0, Hi: 1}, Params: prep.Params, Input: bytes.NewReader(prep.Input[:len(prep.Input)-1])},
		"bad magic":        {Range: tasks.Range{Lo: 0, Hi: 1}, Params: prep.Params, Input: bytes.NewReader(append([]byte("XXXX"), prep.Input[4:]...))},
		"non-finite entry": {Range: tasks.Range{Lo: 0, Hi: 1}, Params: prep.Params, Input: bytes.NewReader(append(bytes.Clone(prep.Input[:len(prep.Input)-8]), 0, 0, 0, 0, 0, 0, 0xf0, 0x7f))},
		"unknown param":    {Range: tasks.Range{Lo: 0, Hi: 1}, Params: json.RawMessage(`{"x":1}`), Input: good},
		"bad n":            {Range: tasks.Range{Lo: 0, Hi: 1}, Params: json.RawMessage(`{"n":5000}`)},
	} {
		_, err := matmul.Runner{}.Run(t.Context(), ch)
		require.Error(t, err, name)
	}
}

func TestReduceRejectsCorruptPartials(t *testing.T) {
	t.Parallel()
	for _, params := range []string{`{"n":3,"seed":1}`, `{"n":300,"seed":1}`} {
		prep, err := matmul.Spec{}.Prepare(json.RawMessage(params))
		require.NoError(t, err)
		n := prep.Extent
		run := func(lo, hi int64) []byte {
			p, err := matmul.Runner{}.Run(t.Context(), tasks.Chunk{Range: tasks.Range{Lo: lo, Hi: hi}, Params: prep.Params})
			require.NoError(t, err)
			return p
		}
		a, b := run(0, 1), run(1, n)
		withByte := func(p []byte, i int, v byte) []byte {
			q := bytes.Clone(p)
			q[i] = v
			return q
		}
		for name, partials := range map[string][][]byte{
			"none":         nil,
			"missing rows": {a},
			"out of order": {b, a},
			"overlap":      {a, run(0, n)},
			"bad magic":    {withByte(a, 0, 'X'), b},
			"short":        {a[:10], b},
			"truncated":    {a[:len(a)-1], b},
			"extra":        {append(bytes.Clone(a), 1), b},
			"wrong cols":   {withByte(a, 12, 9), b},
			"past rows":    {a, withByte(b, 8, byte(n+1))},
			"bad sum":      {withByte(a, 16, 200), b},
			"bad sum enc":  {withByte(a, 20, 9), b},
		} {
			_, err := matmul.Runner{}.Reduce(t.Context(), prep.Params, nil, partials)
			require.Error(t, err, "%s %s", params, name)
		}
		out, err := matmul.Runner{}.Reduce(t.Context(), prep.Params, nil, [][]byte{a, run(1, 1), b})
		require.NoError(t, err)
		require.Equal(t, kerneltest.MustRun(t, matmul.Spec{}, matmul.Runner{}, params, 1).Result, out.Result)
	}
}

func TestCancellation(t *testing.T) {
	t.Parallel()
	prep, err := matmul.Spec{}.Prepare(json.RawMessage(`{"n":4096}`))
	require.NoError(t, err)
	ch := tasks.Chunk{Range: tasks.Range{Lo: 0, Hi: 4096}, Params: prep.Params}

	// Product calls take a few tens of milliseconds; the bound leaves room
	// for a loaded machine and the race detector. Uncancelled, this chunk
	// is the whole n = 4096 product: many seconds.
	ctx := kerneltest.Stops(t, matmul.Runner{}, ch, 10*time.Second, kerneltest.CancelAfter(100*time.Millisecond))

	_, err = matmul.Runner{}.Reduce(ctx, prep.Params, nil, [][]byte{nil})
	require.ErrorIs(t, err, context.Canceled)
}

func FuzzPrepare(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"n":1}`, `{"n":4096,"seed":7}`, `{"a":[[1]],"b":[[2]]}`, `{"a":[[1,2]],"b":[[1],[2]]}`,
		`{"a":[[1,2],[3]],"b":[[1]]}`, `{"a":[[1e51]],"b":[[1]]}`, `{"n":2,"a":[[1]]}`, `{"seed":-1}`, `{"a":{"x":1},"b":[]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, params string) {
		prep := kerneltest.Prepare(t, matmul.Spec{}, params)
		if prep == nil {
			return
		}
		require.GreaterOrEqual(t, prep.Extent, int64(1))
		require.LessOrEqual(t, int64(prep.DefaultChunks), prep.Extent)
		require.True(t, json.Valid(prep.Params))
		require.NotContains(t, string(prep.Params), `"a"`)
	})
}

func FuzzReduce(f *testing.F) {
	prep, err := matmul.Spec{}.Prepare(json.RawMessage(`{"a":[[1,2],[3,4]],"b":[[5],[6]]}`))
	require.NoError(f, err)
	input := bytes.NewReader(prep.Input)
	good, err := matmul.Runner{}.Run(context.Background(), tasks.Chunk{Range: tasks.Range{Lo: 0, Hi: 2}, Params: prep.Params, Input: input})
	require.NoError(f, err)
	f.Add(good)
	f.Add(good[:16])
	f.Add([]byte("MMP1"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, partial []byte) {
		out, err := matmul.Runner{}.Reduce(context.Background(), prep.Params, input, [][]byte{partial})
		if err == nil {
			require.True(t, json.Valid(out.Result))
		}
	})
}

func BenchmarkRunRandom(b *testing.B) {
	for _, n := range []int64{512, 1024} {
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			prep, err := matmul.Spec{}.Prepare(json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)))
			require.NoError(b, err)
			ch := tasks.Chunk{Range: tasks.Range{Lo: 0, Hi: n}, Params: prep.Params}
			for b.Loop() {
				_, err := matmul.Runner{}.Run(b.Context(), ch)
				require.NoError(b, err)
			}
			b.ReportMetric(2*float64(n*n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}

// BenchmarkRunChunk4096 is one default chunk of the largest random job: 64
// rows of C, with all of B generated.
func BenchmarkRunChunk4096(b *testing.B) {
	prep, err := matmul.Spec{}.Prepare(json.RawMessage(`{"n":4096}`))
	require.NoError(b, err)
	ch := tasks.Chunk{Range: tasks.ChunkRange(4096, prep.DefaultChunks, 0), Params: prep.Params}
	for b.Loop() {
		_, err := matmul.Runner{}.Run(b.Context(), ch)
		require.NoError(b, err)
	}
	b.ReportMetric(2*float64(ch.Range.Len()*4096*4096)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
}

// TestRandomKnownAnswers checks whole results of seeded jobs, byte for
// byte, against answers computed here independently of the package: the
// entries from the documented generator (docEntry), C by the scalar
// math.FMA chain (naive), the sums with big.Float, for several chunkings
// (n = 257 takes two blocks of the inner index).
func TestRandomKnownAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ n, seed int }{{1, 3}, {7, 0}, {64, 11}, {129, 5}, {257, 7}} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			t.Parallel()
			a, b := make([][]float64, tc.n), make([][]float64, tc.n)
			for i := range tc.n {
				a[i], b[i] = make([]float64, tc.n), make([]float64, tc.n)
				for j := range tc.n {
					a[i][j] = docEntry(uint64(tc.seed), 0, uint64(i), uint64(j))
					b[i][j] = docEntry(uint64(tc.seed), 1, uint64(i), uint64(j))
				}
			}
			c := naive(a, b)
			sum, squares := exactSums(t, c)
			want := result{Rows: tc.n, Cols: tc.n, Checksum: rounded(sum), Frobenius: math.Sqrt(rounded(squares))}
			if tc.n*tc.n <= matmul.MaxCEntries {
				want.C = c
			}
			wantJSON, err := json.Marshal(struct {
				Rows      int         `json:"rows"`
				Cols      int         `json:"cols"`
				Checksum  float64     `json:"checksum"`
				Frobenius float64     `json:"frobenius"`
				C         [][]float64 `json:"c,omitempty"`
			}(want))
			require.NoError(t, err)
			out := kerneltest.Invariant(t, matmul.Spec{}, matmul.Runner{}, fmt.Sprintf(`{"n":%d,"seed":%d}`, tc.n, tc.seed), 1, 7, tc.n, 0)
			require.Equal(t, string(wantJSON), string(out.Result))
		})
	}
}

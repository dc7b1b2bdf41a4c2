package wordcount_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/wordcount"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type wordCount struct {
	Word  string `json:"word"`
	Count int    `json:"count"`
}

type result struct {
	Total  int         `json:"total"`
	Unique int         `json:"unique"`
	Top    []wordCount `json:"top"`
}

// reference counts words straight from the contract, with the standard
// library: ranging over a string decodes invalid bytes as U+FFFD, as the
// kernel does.
func reference(text string, top int) result {
	words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	counts := map[string]int{}
	for _, w := range words {
		counts[strings.Map(unicode.ToLower, w)]++
	}
	res := result{Total: len(words), Unique: len(counts), Top: []wordCount{}}
	for w, c := range counts {
		res.Top = append(res.Top, wordCount{w, c})
	}
	slices.SortFunc(res.Top, func(a, b wordCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Word, b.Word))
	})
	res.Top = res.Top[:min(top, len(res.Top))]
	return res
}

func params(text string, top int) string {
	b, _ := json.Marshal(map[string]any{"text": text, "top": top})
	return string(b)
}

func decode(t testing.TB, out *tasks.Output) result {
	t.Helper()
	var r result
	dec := json.NewDecoder(bytes.NewReader(out.Result))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&r))
	return r
}

// runBytes runs the kernel on arbitrary bytes, which no JSON request can
// carry, split into the given number of chunks.
func runBytes(t testing.TB, data []byte, chunks, top int) *tasks.Output {
	t.Helper()
	in := bytes.NewReader(data)
	partials := make([][]byte, chunks)
	for i := range chunks {
		var err error
		partials[i], err = wordcount.Runner{}.Run(context.Background(), tasks.Chunk{
			Index: i, Total: chunks, Range: tasks.ChunkRange(int64(len(data)), chunks, i), Input: in,
		})
		require.NoError(t, err)
	}
	out, err := wordcount.Runner{}.Reduce(context.Background(), json.RawMessage(fmt.Sprintf(`{"top":%d}`, top)), in, partials)
	require.NoError(t, err)
	return out
}

func TestSchema(t *testing.T) {
	t.Parallel()
	require.Equal(t, "wordcount", wordcount.Spec{}.Name())
	require.Empty(t, wordcount.Spec{}.ArtifactType())
	kerneltest.CheckSpec(t, wordcount.Spec{}, wordcount.Runner{}, []string{"text", "top"}, []string{"text"})
}

func TestKnownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params string
		want   string
	}{
		{"empty text", `{"text":""}`, `{"total":0,"unique":0,"top":[]}`},
		{"only separators", `{"text":" ,.!? \n\t-_"}`, `{"total":0,"unique":0,"top":[]}`},
		{"punctuation", `{"text":"Hello, hello! HELLO? world...","top":5}`,
			`{"total":4,"unique":2,"top":[{"word":"hello","count":3},{"word":"world","count":1}]}`},
		{"digits", `{"text":"abc123 456 x-1 3.14 ABC123","top":10}`,
			`{"total":7,"unique":6,"top":[{"word":"abc123","count":2},{"word":"1","count":1},{"word":"14","count":1},{"word":"3","count":1},{"word":"456","count":1},{"word":"x","count":1}]}`},
		{"underscore and apostrophe separate", `{"text":"snake_case don't"}`,
			`{"total":4,"unique":4,"top":[{"word":"case","count":1},{"word":"don","count":1},{"word":"snake","count":1},{"word":"t","count":1}]}`},
		{"no full case folding", `{"text":"Straße STRASSE straße"}`,
			`{"total":3,"unique":2,"top":[{"word":"straße","count":2},{"word":"strasse","count":1}]}`},
		{"greek lower-cased code point by code point", `{"text":"Καλημέρα ΚΑΛΗΜΈΡΑ ΚΌΣΜΟΣ κόσμος"}`,
			`{"total":4,"unique":3,"top":[{"word":"καλημέρα","count":2},{"word":"κόσμος","count":1},{"word":"κόσμοσ","count":1}]}`},
		{"cyrillic", `{"text":"Привет, мир! ПРИВЕТ"}`,
			`{"total":3,"unique":2,"top":[{"word":"привет","count":2},{"word":"мир","count":1}]}`},
		{"CJK runs are single words", `{"text":"你好世界。你好世界、日本語"}`,
			`{"total":3,"unique":2,"top":[{"word":"你好世界","count":2},{"word":"日本語","count":1}]}`},
		{"combining marks split words", `{"text":"e\u0301te\u0301 \u00e9t\u00e9"}`,
			`{"total":3,"unique":3,"top":[{"word":"e","count":1},{"word":"te","count":1},{"word":"été","count":1}]}`},
		{"emoji separate", `{"text":"go🚀go 👍🏽ok👍"}`,
			`{"total":3,"unique":2,"top":[{"word":"go","count":2},{"word":"ok","count":1}]}`},
		{"other digits", `{"text":"٣٤ ४२ Ⅻ ½ ²"}`,
			`{"total":2,"unique":2,"top":[{"word":"٣٤","count":1},{"word":"४२","count":1}]}`},
		{"ties by code point", `{"text":"b a é z B Z ä c","top":4}`,
			`{"total":8,"unique":6,"top":[{"word":"b","count":2},{"word":"z","count":2},{"word":"a","count":1},{"word":"c","count":1}]}`},
		{"ties beyond ASCII", `{"text":"é z ä 中 a"}`,
			`{"total":5,"unique":5,"top":[{"word":"a","count":1},{"word":"z","count":1},{"word":"ä","count":1},{"word":"é","count":1},{"word":"中","count":1}]}`},
		{"top 1", `{"text":"a b b","top":1}`, `{"total":3,"unique":2,"top":[{"word":"b","count":2}]}`},
		{"top larger than unique", `{"text":"a b b","top":1000}`,
			`{"total":3,"unique":2,"top":[{"word":"b","count":2},{"word":"a","count":1}]}`},
		{"replacement character separates", `{"text":"ab\ufffdcd"}`,
			`{"total":2,"unique":2,"top":[{"word":"ab","count":1},{"word":"cd","count":1}]}`},
		{"dotted capital I", `{"text":"İstanbul ISTANBUL"}`,
			`{"total":2,"unique":1,"top":[{"word":"istanbul","count":2}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := kerneltest.Invariant(t, wordcount.Spec{}, wordcount.Runner{}, tt.params, 1, 2, 3, 7, 64, 200)
			require.Equal(t, tt.want, string(out.Result))
			require.Nil(t, out.Artifact)
			var p struct {
				Text string `json:"text"`
				Top  *int   `json:"top"`
			}
			require.NoError(t, json.Unmarshal([]byte(tt.params), &p))
			top := 10
			if p.Top != nil {
				top = *p.Top
			}
			require.Equal(t, reference(p.Text, top), decode(t, out))
		})
	}
}

const multilingual = "Ünïcödé wörds: Straße STRASSE straße; Καλημέρα κόσμε! Привет, мир — 你好世界 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 e\u0301té 👍🏽 x42 ٣٤ end"

// Every chunk count from 1 to 40, and more chunks than bytes, puts chunk
// edges inside multi-byte runes and inside words.
func TestChunkEdgesEverywhere(t *testing.T) {
	t.Parallel()
	p := params(multilingual, 1000)
	counts := []int{len(multilingual) + 7, len(multilingual)}
	for n := 1; n <= 40; n++ {
		counts = append(counts, n)
	}
	out := kerneltest.Invariant(t, wordcount.Spec{}, wordcount.Runner{}, p, counts...)
	require.Equal(t, reference(multilingual, 1000), decode(t, out))
}

// randomText draws words from a few scripts, with separators of several
// widths between them.
func randomText(rng *rand.Rand, n int) string {
	alphabets := []string{"abcXYZ", "äöüßÄÖÜ", "αβγΣς", "жзиЖЗ", "中文字", "𝔘𝔫𝔦", "0123٣४"}
	seps := []string{" ", ", ", "\n", "—", "👍🏽", "\u0301", "...", "\ufffd"}
	var sb strings.Builder
	for range n {
		a := []rune(alphabets[rng.IntN(len(alphabets))])
		for range 1 + rng.IntN(3) {
			sb.WriteRune(a[rng.IntN(len(a))])
		}
		sb.WriteString(seps[rng.IntN(len(seps))])
	}
	return sb.String()
}

func TestChunkInvarianceRandom(t *testing.T) {
	t.Parallel()
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 3))
			text := randomText(rng, 1+rng.IntN(400))
			top := 1 + rng.IntN(60)
			out := kerneltest.Invariant(t, wordcount.Spec{}, wordcount.Runner{}, params(text, top), 1, 2, 3, 7, 64, len(text)+1)
			require.Equal(t, reference(text, top), decode(t, out))
		})
	}
}

// A text long enough that a chunk is split over the cores and read in
// several blocks, with a word longer than a block across every edge.
func TestLargeText(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 11))
	long := strings.Repeat("λ", 100_000)
	text := randomText(rng, 30_000) + long + " " + randomText(rng, 30_000) + strings.ToUpper(long)
	require.Greater(t, len(text), 3*256<<10, "long enough to split over the cores")
	out := kerneltest.Invariant(t, wordcount.Spec{}, wordcount.Runner{}, params(text, 20), 1, 3)
	require.Equal(t, reference(text, 20), decode(t, out))
}

func TestPrepare(t *testing.T) {
	t.Parallel()
	prep, err := wordcount.Spec{}.Prepare(json.RawMessage(`{"text":"Grüß dich"}`))
	require.NoError(t, err)
	require.Equal(t, `{"top":10}`, string(prep.Params))
	require.Equal(t, []byte("Grüß dich"), prep.Input)
	require.Equal(t, int64(len("Grüß dich")), prep.Extent)
	require.Equal(t, 1, prep.DefaultChunks)

	prep, err = wordcount.Spec{}.Prepare(json.RawMessage(`{"top":1e3,"text":""}`))
	require.NoError(t, err)
	require.Equal(t, `{"top":1000}`, string(prep.Params))
	require.NotNil(t, prep.Input)
	require.Empty(t, prep.Input)
	require.Equal(t, int64(0), prep.Extent)
	require.Equal(t, 1, prep.DefaultChunks)

	big := `{"text":"` + strings.Repeat("a", 4<<20+1) + `"}`
	prep, err = wordcount.Spec{}.Prepare(json.RawMessage(big))
	require.NoError(t, err)
	require.Equal(t, 2, prep.DefaultChunks)
}

func TestValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		params string
		fields []string
	}{
		{"absent params", ``, []string{"text"}},
		{"empty object", `{}`, []string{"text"}},
		{"not an object", `"text"`, []string{"", "text"}},
		{"null text", `{"text":null}`, []string{"text"}},
		{"text a number", `{"text":42}`, []string{"text"}},
		{"text an array", `{"text":["a"]}`, []string{"text"}},
		{"top zero", `{"text":"a","top":0}`, []string{"top"}},
		{"top too large", `{"text":"a","top":1001}`, []string{"top"}},
		{"top negative", `{"text":"a","top":-1}`, []string{"top"}},
		{"top fractional", `{"text":"a","top":2.5}`, []string{"top"}},
		{"top a string", `{"text":"a","top":"5"}`, []string{"top"}},
		{"unknown field", `{"text":"a","values":[1]}`, []string{"values"}},
		{"everything wrong", `{"top":"x","lang":"en"}`, []string{"text", "top", "lang"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.fields, kerneltest.RefusedFields(t, wordcount.Spec{}, tt.params))
		})
	}
	for _, ok := range []string{`{"text":"a","top":1}`, `{"text":"a","top":1000}`, `{"text":"a","top":null}`} {
		_, err := wordcount.Spec{}.Prepare(json.RawMessage(ok))
		require.NoError(t, err, ok)
	}
}

func TestRunBadInput(t *testing.T) {
	t.Parallel()
	in := bytes.NewReader([]byte("abc"))
	tests := []struct {
		name  string
		input tasks.Input
		r     tasks.Range
	}{
		{"no input", nil, tasks.Range{Lo: 0, Hi: 1}},
		{"past the end", in, tasks.Range{Lo: 2, Hi: 4}},
		{"negative", in, tasks.Range{Lo: -1, Hi: 1}},
		{"reversed", in, tasks.Range{Lo: 2, Hi: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := wordcount.Runner{}.Run(t.Context(), tasks.Chunk{Total: 1, Range: tt.r, Input: tt.input})
			require.ErrorIs(t, err, wordcount.ErrBadInput)
		})
	}
	// An empty text may come without an input at all.
	b, err := wordcount.Runner{}.Run(t.Context(), tasks.Chunk{Total: 1})
	require.NoError(t, err)
	out, err := wordcount.Runner{}.Reduce(t.Context(), json.RawMessage(`{"top":10}`), nil, [][]byte{b})
	require.NoError(t, err)
	require.Equal(t, `{"total":0,"unique":0,"top":[]}`, string(out.Result))
}

func TestReduceRejects(t *testing.T) {
	t.Parallel()
	in := bytes.NewReader([]byte("b a a"))
	good, err := wordcount.Runner{}.Run(t.Context(), tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: 5}, Input: in})
	require.NoError(t, err)
	require.Equal(t, []byte{1, 2, 1, 'a', 2, 1, 'b', 1}, good)
	tests := map[string][][]byte{
		"empty partial":     {{}},
		"bad version":       {{2, 0}},
		"no word count":     {{1}},
		"truncated":         {good[:len(good)-1]},
		"trailing bytes":    {append(bytes.Clone(good), 0)},
		"empty word":        {{1, 1, 0, 1}},
		"zero count":        {{1, 1, 1, 'a', 0}},
		"out of order":      {{1, 2, 1, 'b', 1, 1, 'a', 1}},
		"duplicate":         {{1, 2, 1, 'a', 1, 1, 'a', 1}},
		"upper case":        {{1, 1, 1, 'A', 1}},
		"separator in word": {{1, 1, 3, 'a', ' ', 'b', 1}},
		"invalid UTF-8":     {{1, 1, 2, 0xc3, 'a', 1}},
		"word too long":     {{1, 1, 9, 'a', 1}},
		"too many words":    {{1, 200, 1, 'a', 1}},
		"count overflow": {{1, 1, 1, 'a', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
			{1, 1, 1, 'a', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		"total overflow": {{1, 1, 1, 'a', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
			{1, 1, 1, 'b', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	}
	for name, partials := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := wordcount.Runner{}.Reduce(t.Context(), json.RawMessage(`{"top":10}`), in, partials)
			require.ErrorIs(t, err, wordcount.ErrBadPartial)
		})
	}
	for _, p := range []string{``, `{}`, `{"top":0}`, `{"top":1001}`, `{"top":5,"x":1}`, `[]`} {
		_, err := wordcount.Runner{}.Reduce(t.Context(), json.RawMessage(p), in, [][]byte{good})
		require.ErrorIs(t, err, wordcount.ErrBadParams, p)
	}
	out, err := wordcount.Runner{}.Reduce(t.Context(), json.RawMessage(`{"top":10}`), in, [][]byte{good, good})
	require.NoError(t, err)
	require.Equal(t, `{"total":6,"unique":2,"top":[{"word":"a","count":4},{"word":"b","count":2}]}`, string(out.Result))
}

func TestCancel(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("lorem ipsum dolor sit amet ", 40_000) // ~1 MiB
	in := bytes.NewReader([]byte(text))
	chunk := tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: int64(len(text))}, Params: json.RawMessage(`{"top":10}`), Input: in}

	ctx := kerneltest.Stops(t, wordcount.Runner{}, chunk, time.Second, kerneltest.CancelOnRead)
	_, err := wordcount.Runner{}.Reduce(ctx, json.RawMessage(`{"top":10}`), in, nil)
	require.ErrorIs(t, err, context.Canceled)
}

func FuzzPrepare(f *testing.F) {
	for _, s := range []string{`{"text":"a b"}`, `{"text":"","top":1000}`, `{"text":1}`, `{"text":"x","top":0}`, `null`, ``, `{"text":"\ud800"}`, `{"text":"a","top":1e3}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prep := kerneltest.Prepare(t, wordcount.Spec{}, s)
		if prep == nil {
			return
		}
		require.GreaterOrEqual(t, prep.Extent, int64(0))
		require.Len(t, prep.Input, int(prep.Extent))
		require.True(t, utf8.Valid(prep.Input))
	})
}

// Arbitrary bytes, invalid UTF-8 included, never make a chunk panic, and
// any chunking counts the words of the whole.
func FuzzRun(f *testing.F) {
	f.Add([]byte("hello wörld"), uint8(3))
	f.Add([]byte(multilingual), uint8(40))
	f.Add([]byte{0xe2, 0x82, 'a', 0x80, 0x80, 0xc3, 0xa4, 'b', 0xf0, 0x9f}, uint8(7))
	f.Add([]byte("\xce\xbb\xce\xbb\x80\xce\xbb"), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		chunks := 1 + int(n)%(len(data)+3)
		one := runBytes(t, data, 1, 1000)
		many := runBytes(t, data, chunks, 1000)
		require.Equal(t, string(one.Result), string(many.Result), "%d chunks", chunks)
		require.Equal(t, reference(string(data), 1000), decode(t, one))
	})
}

func FuzzReduce(f *testing.F) {
	f.Add([]byte{1, 2, 1, 'a', 2, 1, 'b', 1})
	f.Add([]byte{1, 0})
	f.Add([]byte{1, 1, 2, 0xc3, 0xa4, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := wordcount.Runner{}.Reduce(context.Background(), json.RawMessage(`{"top":3}`), nil, [][]byte{b, b[:len(b)/2]})
		if err != nil {
			require.True(t, errors.Is(err, wordcount.ErrBadPartial), "%v", err)
			return
		}
		require.True(t, json.Valid(out.Result))
	})
}

// benchText is about n bytes of text with a Zipf-like vocabulary.
func benchText(n int, multilingual bool) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, 100_000)
	var b []byte
	for len(b) < n {
		w := zipf.Uint64()
		if multilingual && w%3 == 0 {
			b = fmt.Appendf(b, "Слово%dλέξη ", w)
		} else {
			b = fmt.Appendf(b, "Word%d ", w)
		}
		if w%7 == 0 {
			b = append(b, ", "...)
		}
	}
	return b[:n]
}

func benchmarkRun(b *testing.B, multilingual bool) {
	text := benchText(4<<20, multilingual)
	chunk := tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: int64(len(text))}, Input: bytes.NewReader(text)}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := (wordcount.Runner{}).Run(b.Context(), chunk); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRun4MiB(b *testing.B)             { benchmarkRun(b, false) }
func BenchmarkRun4MiBMultilingual(b *testing.B) { benchmarkRun(b, true) }

func BenchmarkReduce8x4MiB(b *testing.B) {
	text := benchText(32<<20, false)
	in := bytes.NewReader(text)
	partials := make([][]byte, 8)
	for i := range partials {
		var err error
		partials[i], err = wordcount.Runner{}.Run(b.Context(), tasks.Chunk{Index: i, Total: 8, Range: tasks.ChunkRange(int64(len(text)), 8, i), Input: in})
		require.NoError(b, err)
	}
	for b.Loop() {
		if _, err := (wordcount.Runner{}).Reduce(b.Context(), json.RawMessage(`{"top":1000}`), in, partials); err != nil {
			b.Fatal(err)
		}
	}
}

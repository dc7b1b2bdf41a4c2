package mandelbrot

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/adler32"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
)

func TestAdler32Combine(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range [][2]int{{0, 0}, {0, 5}, {5, 0}, {1, 1}, {100, 70000}, {65521, 65521}, {200000, 3}, {7, 300000}} {
		a, b := make([]byte, n[0]), make([]byte, n[1])
		for i := range a {
			a[i] = byte(rng.Uint32())
		}
		for i := range b {
			b[i] = 255 - byte(rng.IntN(3))
		}
		want := adler32.Checksum(append(bytes.Clone(a), b...))
		require.Equal(t, want, adler32Combine(adler32.Checksum(a), adler32.Checksum(b), int64(len(b))), "lengths %v", n)
	}
}

// idatStream returns the concatenated data of the IDAT chunks of a PNG,
// checking every chunk's CRC on the way (png.Decode does too, but stops
// reading the zlib stream before its Adler-32).
func idatStream(t *testing.T, p []byte) []byte {
	t.Helper()
	require.Equal(t, "\x89PNG\r\n\x1a\n", string(p[:8]))
	var z []byte
	for rest := p[8:]; len(rest) > 0; {
		n := binary.BigEndian.Uint32(rest)
		typ, data := string(rest[4:8]), rest[8:8+n]
		require.Equal(t, binary.BigEndian.Uint32(rest[8+n:]), crcOf(typ, data), "chunk %s", typ)
		if typ == "IDAT" {
			z = append(z, data...)
		}
		rest = rest[12+n:]
	}
	return z
}

func crcOf(typ string, data []byte) uint32 {
	w := &pngWriter{}
	w.chunk(typ, data)
	b := w.buf.Bytes()
	return binary.BigEndian.Uint32(b[len(b)-4:])
}

// TestPNGBlocks renders images whose row blocks are split by chunk
// boundaries in every way: the PNG is byte-identical for every chunk
// count, decodes with image/png to exactly the rendered pixels, and its
// zlib stream (Adler-32 included) reads to the end.
func TestPNGBlocks(t *testing.T) {
	t.Parallel()
	for _, params := range []string{
		`{"width":3000,"height":23,"max_iter":60}`,                                                    // 3 rows a block
		`{"width":9000,"height":7,"max_iter":30}`,                                                     // 1 row a block
		`{"width":700,"height":90,"max_iter":80,"x_min":-0.8,"x_max":-0.7,"y_min":0.05,"y_max":0.15}`, // 12 rows a block
		`{"width":2,"height":5000,"max_iter":20}`,                                                     // 2731 rows a block
		`{"width":1,"height":1,"max_iter":1}`,
	} {
		t.Run(params, func(t *testing.T) {
			t.Parallel()
			out := kerneltest.Invariant(t, Spec{}, Runner{}, params, 1, 2, 3, 5, 8, 23, 64, 0)
			c, err := parse(json.RawMessage(params))
			require.NoError(t, err)
			want := make([]byte, c.Width*c.Height)
			_, err = render(context.Background(), &c, 0, c.Height, want)
			require.NoError(t, err)

			img, err := png.Decode(bytes.NewReader(out.Artifact))
			require.NoError(t, err)
			pal, ok := img.(*image.Paletted)
			require.True(t, ok, "%T", img)
			require.Equal(t, image.Rect(0, 0, int(c.Width), int(c.Height)), pal.Rect)
			require.Equal(t, want, pal.Pix)
			require.Equal(t, palette, pal.Palette)

			zr, err := zlib.NewReader(bytes.NewReader(idatStream(t, out.Artifact)))
			require.NoError(t, err)
			raw, err := io.ReadAll(zr) // fails on a wrong Adler-32
			require.NoError(t, err)
			require.Len(t, raw, int(c.Height*(c.Width+1)))
		})
	}
}

// TestPartialSegments checks the layout Run chooses: raw rows only where a
// block is split by the chunk's ends, deflated blocks in between.
func TestPartialSegments(t *testing.T) {
	t.Parallel()
	params := json.RawMessage(`{"width":3000,"height":23,"max_iter":20}`) // blocks of 3 rows
	for _, tc := range []struct {
		lo, hi int64
		kinds  string
	}{
		{0, 23, "ZZZZZZZZ"}, {1, 23, "RZZZZZZZ"}, {1, 8, "RZR"}, {3, 6, "Z"}, {4, 5, "R"}, {21, 23, "Z"}, {20, 23, "RZ"}, {5, 5, ""},
	} {
		p, err := Runner{}.Run(t.Context(), tasks.Chunk{Range: tasks.Range{Lo: tc.lo, Hi: tc.hi}, Params: params})
		require.NoError(t, err)
		c, err := parse(params)
		require.NoError(t, err)
		segs, _, err := decodePartial(p, &c, tc.lo)
		require.NoError(t, err)
		var kinds []byte
		for _, s := range segs {
			kinds = append(kinds, s.kind)
		}
		require.Equal(t, tc.kinds, string(kinds), "rows [%d,%d)", tc.lo, tc.hi)
	}
}

// BenchmarkReduceSerial is the serial step of a 4096×4096 max_iter 1000
// job (84 default chunks), on one core: "image-png" is what the reduce did
// before the row blocks (assemble the image, png.Encoder at BestSpeed),
// "blocks" what it does now (concatenate the chunks' deflated blocks, and
// deflate the blocks split between chunks). The ratio is in one run.
func BenchmarkReduceSerial(b *testing.B) {
	params := json.RawMessage(`{"width":4096,"height":4096,"max_iter":1000}`)
	prep, err := Spec{}.Prepare(params)
	require.NoError(b, err)
	n := prep.DefaultChunks
	partials := make([][]byte, n)
	for i := range partials {
		r := tasks.ChunkRange(prep.Extent, n, i)
		partials[i], err = Runner{}.Run(b.Context(), tasks.Chunk{Index: i, Total: n, Range: r, Params: prep.Params})
		require.NoError(b, err)
	}
	c, err := parse(prep.Params)
	require.NoError(b, err)
	pix := make([]byte, c.Width*c.Height)
	_, err = render(b.Context(), &c, 0, c.Height, pix)
	require.NoError(b, err)
	b.Run("image-png", func(b *testing.B) {
		for b.Loop() {
			img := &image.Paletted{Pix: bytes.Clone(pix), Stride: int(c.Width), Rect: image.Rect(0, 0, int(c.Width), int(c.Height)), Palette: palette}
			var buf bytes.Buffer
			require.NoError(b, (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img))
			b.ReportMetric(float64(buf.Len()), "png-bytes")
		}
	})
	b.Run("blocks", func(b *testing.B) {
		for b.Loop() {
			out, err := Runner{}.Reduce(b.Context(), prep.Params, nil, partials)
			require.NoError(b, err)
			b.ReportMetric(float64(len(out.Artifact)), "png-bytes")
		}
	})
}

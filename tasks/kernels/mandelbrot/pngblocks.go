package mandelbrot

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"sync"
)

// The PNG is built from row blocks compressed independently, so that the
// chunks, not the reduce, do the compressing (the reduce of a large image on
// one core capped how well jobs scaled with workers).
//
// The image's filtered data (each row: filter byte 0, then its palette
// indices) is cut into blocks of blockRows rows, a number that depends only
// on the width. Each block is deflated by a fresh compressor at BestSpeed
// and ended with a sync flush (the last block: with the final block
// instead), so the blocks' outputs concatenate into one valid deflate
// stream whose back-references never cross a block. A block's bytes are a
// function of its pixels alone, whichever chunk (or the reduce, for a block
// split between chunks) compresses it, so the PNG is byte-identical for
// every chunking. The zlib stream's Adler-32 is combined from the blocks'.
// Every block is one IDAT chunk (the first also carries the zlib header,
// the last the Adler-32).

// blockTarget is about how many bytes of filtered data a block holds.
// Smaller blocks leave less work to the reduce for the blocks that chunk
// boundaries split (at most one per boundary); larger ones compress better.
const blockTarget = 8 * 1024

// blockRows is the number of rows of a block: at least one, about
// blockTarget bytes.
func blockRows(width int64) int64 {
	return max(1, (blockTarget+width)/(width+1))
}

// zlibHeader is the zlib stream header: deflate, 32 KiB window, fastest.
var zlibHeader = []byte{0x78, 0x01}

var compressors = sync.Pool{New: func() any {
	w, err := flate.NewWriter(nil, flate.BestSpeed)
	if err != nil {
		panic(err) // BestSpeed is a valid level
	}
	return w
}}

// compressBlock deflates the filtered data of the rows of pix (width
// pixels each), appending them to dst, and returns dst and the data's
// Adler-32. last ends the deflate stream.
func compressBlock(dst, pix []byte, width int64, last bool) ([]byte, uint32, error) {
	rows := int64(len(pix)) / width
	raw := make([]byte, 0, rows*(width+1))
	for r := range rows {
		raw = append(raw, 0)
		raw = append(raw, pix[r*width:(r+1)*width]...)
	}
	buf := bytes.NewBuffer(dst)
	w := compressors.Get().(*flate.Writer)
	defer compressors.Put(w)
	w.Reset(buf)
	if _, err := w.Write(raw); err != nil {
		return nil, 0, fmt.Errorf("mandelbrot: deflate: %w", err)
	}
	end := w.Flush
	if last {
		end = w.Close
	}
	if err := end(); err != nil {
		return nil, 0, fmt.Errorf("mandelbrot: deflate: %w", err)
	}
	return buf.Bytes(), adler32.Checksum(raw), nil
}

// adler32Combine returns the Adler-32 of the concatenation of data with
// checksum a1 and data of length n2 with checksum a2.
func adler32Combine(a1, a2 uint32, n2 int64) uint32 {
	const mod = 65521
	rem := uint64(n2 % mod)
	s1a, s2a := uint64(a1&0xffff), uint64(a1>>16)
	s1b, s2b := uint64(a2&0xffff), uint64(a2>>16)
	s1 := (s1a + s1b + mod - 1) % mod
	s2 := (s2a + s2b + rem*s1a + mod - rem) % mod
	return uint32(s2<<16 | s1)
}

// pngWriter writes the PNG: header chunks, then one IDAT per block.
type pngWriter struct {
	buf    bytes.Buffer
	adler  uint32
	blocks int64 // written so far
}

func newPNGWriter(width, height int64, size int) *pngWriter {
	w := &pngWriter{adler: 1}
	w.buf.Grow(size)
	w.buf.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8], ihdr[9] = 8, 3 // 8-bit palette indices
	w.chunk("IHDR", ihdr[:])
	plte := make([]byte, 0, 3*len(palette))
	for _, c := range palette {
		r, g, b, _ := c.RGBA()
		plte = append(plte, byte(r>>8), byte(g>>8), byte(b>>8))
	}
	w.chunk("PLTE", plte)
	return w
}

// chunk writes a PNG chunk whose data is the concatenation of parts.
func (w *pngWriter) chunk(typ string, parts ...[]byte) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(n))
	w.buf.Write(b[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	w.buf.WriteString(typ)
	for _, p := range parts {
		crc.Write(p)
		w.buf.Write(p)
	}
	binary.BigEndian.PutUint32(b[:], crc.Sum32())
	w.buf.Write(b[:])
}

// block writes the next block: its deflated bytes and the Adler-32 and
// length of its filtered data.
func (w *pngWriter) block(z []byte, adler uint32, rawLen int64, last bool) {
	w.adler = adler32Combine(w.adler, adler, rawLen)
	var head, tail []byte
	if w.blocks == 0 {
		head = zlibHeader
	}
	if last {
		tail = binary.BigEndian.AppendUint32(nil, w.adler)
	}
	w.chunk("IDAT", head, z, tail)
	w.blocks++
}

// finish writes IEND and returns the PNG.
func (w *pngWriter) finish() []byte {
	w.chunk("IEND")
	return w.buf.Bytes()
}

package primes

import (
	"context"
	"encoding/binary"
	"math/bits"
	"sort"
	"sync"
)

// The sieve holds only the numbers coprime to 30 (a mod-30 wheel): bit k
// of the global byte B stands for 30·B + wheel[k], so a byte covers 30
// integers and a 64-bit word (8 bytes, little-endian) covers 240. The
// global bit index of 30·B + wheel[k] is 8·B + k; it increases with the
// number. A set bit means "composite". The primes 2, 3 and 5 are counted
// apart.
//
// Bytes are global (byte 0 holds 1, 7, …, 29), which lets the pre-sieve
// tables below be indexed by word mod period.
const (
	// blockBytes is the size of the segments sieved at once: 512 KiB
	// (15,728,640 integers), which fits in L2.
	blockBytes = 512 * 1024
	blockWords = blockBytes / 8
	blockBits  = blockBytes * 8
	blockMask  = blockBytes - 1 // a no-op on indices that lets the compiler drop bounds checks
	// subBytes is the sub-block in which the primes below l1Prime, which
	// hit most often, are crossed off, so that their bytes stay in L1 (or
	// close). Measured here: 512 KiB blocks with 64 KiB sub-blocks and
	// l1Prime 8192 were best of 256 KiB–1 MiB, 16–128 KiB and 0–16384
	// (by 10–20%, on a noisy machine).
	subBytes = 64 * 1024
	l1Prime  = 8192
	// firstSievePrime is the smallest prime crossed off one multiple at a
	// time; the primes from 7 to 107 are pre-sieved with word masks.
	firstSievePrime = 109
	// smallWords is the most words sieved by the simpler sieveSmall
	// rather than a whole block (1,966,080 integers).
	smallWords = blockWords / 8
	// maxPieceBits caps the bits one goroutine sieves at once, so that
	// byte offsets fit in uint32.
	maxPieceBits = 1 << 31
)

// wheel are the residues mod 30 of the numbers coprime to 30.
var wheel = [8]uint32{1, 7, 11, 13, 17, 19, 23, 29}

// wheelGap[k] is wheel[k+1] − wheel[k], with wheel[8] = 31.
var wheelGap = [8]uint32{6, 4, 2, 4, 2, 4, 6, 2}

// wheelTables are derived from wheel.
type wheelTables struct {
	// index[r] is k with wheel[k] = r, for r coprime to 30.
	index [30]uint8
	// below[r] is the number of wheel residues below r, for 0 ≤ r ≤ 30:
	// the first represented number ≥ 30·B + r has bit index 8·B + below[r].
	below [31]uint64
	// up[r] is the distance from r to the next residue ≥ r coprime to 30.
	up [30]uint64
	// For a prime p whose residue is wheel[pc] and a multiplier m whose
	// residue is wheel[w], the multiple p·m sits at bit bit[pc][w] of its
	// byte, and the next multiple, p·(m + wheelGap[w]), is
	// (p/30)·wheelGap[w] + carry[pc][w] bytes further on.
	bit   [8][8]uint8
	carry [8][8]uint32
}

var wt = func() *wheelTables {
	t := &wheelTables{}
	for k, r := range wheel {
		t.index[r] = uint8(k)
	}
	for r := range uint64(31) {
		for _, w := range wheel {
			if uint64(w) < r {
				t.below[r]++
			}
		}
	}
	for r := range uint64(30) {
		for gcd(r+t.up[r], 30) != 1 {
			t.up[r]++
		}
	}
	for pc, pr := range wheel {
		for w, mr := range wheel {
			b := t.index[pr*mr%30]
			t.bit[pc][w] = b
			t.carry[pc][w] = (wheel[b] + pr*wheelGap[w]) / 30
		}
	}
	return t
}()

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// bitIndex returns the bit index of the first number ≥ n coprime to 30.
func bitIndex(n uint64) uint64 {
	return 8*(n/30) + wt.below[n%30]
}

// presievePrimes are the primes from 7 to 107, all below 240 (word 0).
// The first three are pre-sieved together with one pattern of period
// 7·11·13 = 1001 words; the others in pairs (17·19, …, 103·107: at most
// 11,021 words, 86 KiB, so all the tables stay in L2).
var presievePrimes = []uint64{7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107}

// presieveTables hold word masks of the multiples of the pre-sieved
// primes: tabs[0] for 7, 11 and 13, the others for two primes each. The
// multiples of p repeat every p bytes, so every p words too; entry k of a
// table applies to the global words w with w ≡ k mod its length.
type presieveTables struct {
	tabs [][]uint64
	// word0 is the composite mask of word 0 (the numbers below 240), which
	// the tables get wrong: they mark the pre-sieved primes themselves.
	word0 uint64
}

var tables = sync.OnceValue(func() *presieveTables {
	t := &presieveTables{tabs: [][]uint64{maskTable(presievePrimes[:3])}}
	for i := 3; i < len(presievePrimes); i += 2 {
		t.tabs = append(t.tabs, maskTable(presievePrimes[i:min(i+2, len(presievePrimes))]))
	}
	for b := range uint64(64) {
		if n := 30*(b/8) + uint64(wheel[b%8]); !isPrimeSmall(n) {
			t.word0 |= 1 << b
		}
	}
	return t
})

// maskTable returns the masks of the multiples of ps for one period of
// prod(ps) words.
func maskTable(ps []uint64) []uint64 {
	period := uint64(1)
	for _, p := range ps {
		period *= p
	}
	m := make([]uint64, period)
	for _, p := range ps {
		for n := p; n < 240*period; n += 2 * p {
			if n%3 != 0 && n%5 != 0 {
				i := bitIndex(n)
				m[i/64] |= 1 << (i % 64)
			}
		}
	}
	return m
}

func isPrimeSmall(n uint64) bool {
	if n < 2 {
		return false
	}
	for d := uint64(2); d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// maxSievingPrime bounds the sieving primes: √(10^12) = 10^6.
const maxSievingPrime = 1_000_000

// sievingPrimes returns the primes from firstSievePrime to 10^6, enough for
// every number below 10^12 = MaxTo. They are computed once per process
// (a few milliseconds, 314 KB) and shared read-only by every Run.
var sievingPrimes = sync.OnceValue(func() []uint32 { return sievePrimes(maxSievingPrime) })

// sievePrimes returns the primes p with firstSievePrime <= p <= limit, by a
// plain odd-only sieve.
func sievePrimes(limit uint64) []uint32 {
	if limit < firstSievePrime {
		return nil
	}
	comp := make([]bool, limit/2+1) // comp[i]: 2i+1 is composite
	var out []uint32
	for i := uint64(1); 2*i+1 <= limit; i++ {
		if comp[i] {
			continue
		}
		p := 2*i + 1
		if p >= firstSievePrime {
			out = append(out, uint32(p))
		}
		for j := (p*p - 1) / 2; j < uint64(len(comp)); j += p {
			comp[j] = true
		}
	}
	return out
}

// tally is what a range of the sieve found: the number of primes, their
// sum as a 128-bit integer, and the first and last (0 when none).
type tally struct {
	count        uint64
	sumHi, sumLo uint64
	first, last  uint64
}

// add appends o, which covers numbers after t's.
func (t *tally) add(o tally) {
	if o.count == 0 {
		return
	}
	if t.count == 0 {
		t.first = o.first
	}
	t.last = o.last
	t.count += o.count
	var c uint64
	t.sumLo, c = bits.Add64(t.sumLo, o.sumLo, 0)
	t.sumHi, _ = bits.Add64(t.sumHi, o.sumHi, c)
}

// cursor is where the next multiple p·m of a sieving prime p is: byte off
// relative to the current block, with m ≡ wheel[w] (mod 30).
type cursor struct {
	off uint32
	w   uint8
}

// start returns the cursor of the first multiple p·m ≥ max(p², n0) with m
// coprime to 30, relative to n0, a multiple of 30.
func start(p, n0 uint64) cursor {
	m := max((n0+p-1)/p, p)
	m += wt.up[m%30]
	return cursor{off: uint32((p*m)/30 - n0/30), w: wt.index[m%30]}
}

// sieveRange counts the primes coprime to 30 whose bit index is in
// [iLo, iHi), given the sieving primes from firstSievePrime up to at least
// the square root of the last of them. It sieves a block at a time and
// checks ctx before each.
func sieveRange(ctx context.Context, iLo, iHi uint64, base []uint32) (tally, error) {
	var t tally
	if iLo >= iHi {
		return t, nil
	}
	maxN := 30*((iHi-1)/8) + uint64(wheel[(iHi-1)%8])
	base = base[:sort.Search(len(base), func(k int) bool { p := uint64(base[k]); return p*p > maxN })]
	wLo, wHi := iLo/64, (iHi+63)/64
	if wHi-wLo <= smallWords {
		return sieveSmall(iLo, iHi, base), nil
	}
	cur := make([]cursor, len(base))
	for k, p := range base {
		cur[k] = start(uint64(p), 240*wLo)
	}
	tab := tables()
	blk := new([blockBytes]byte)
	for w := wLo; w < wHi; w += blockWords {
		if err := ctx.Err(); err != nil {
			return tally{}, err
		}
		presieve(tab, blk[:], w)
		crossOffBlock(blk, base, cur)
		seg := blk[:8*min(blockWords, wHi-w)]
		if w == 0 {
			binary.LittleEndian.PutUint64(seg, tab.word0)
		}
		maskOutside(seg, w, iLo, iHi)
		t.add(tallySegment(seg, w))
	}
	return t, nil
}

// sieveSmall is sieveRange for at most smallWords words: a single segment
// of just the words needed, each prime crossed off from its first
// multiple. base is already cut to the square root of the last number.
func sieveSmall(iLo, iHi uint64, base []uint32) tally {
	tab := tables()
	wLo, wHi := iLo/64, (iHi+63)/64
	seg := make([]byte, 8*(wHi-wLo))
	presieve(tab, seg, wLo)
	for _, p := range base {
		c := start(uint64(p), 240*wLo)
		crossOffWalk(seg, []uint32{p}, []cursor{c})
	}
	if wLo == 0 {
		binary.LittleEndian.PutUint64(seg, tab.word0)
	}
	maskOutside(seg, wLo, iLo, iHi)
	return tallySegment(seg, wLo)
}

// crossOffBlock sets the bits of the multiples of primes in one block and
// moves their cursors to the next block.
//
// Each prime's multiples are crossed off eight at a time, one full turn of
// the wheel (p bytes) per iteration, by a function specialised for the
// prime's residue and the multiplier's (crossEight), then one at a time up
// to the end. The primes below l1Prime, which hit most often, are crossed
// off one L1-sized sub-block at a time so their bytes stay in L1; the
// others over the whole block, which stays in L2.
func crossOffBlock(blk *[blockBytes]byte, primes []uint32, cur []cursor) {
	nSmall := sort.Search(len(primes), func(k int) bool { return primes[k] >= l1Prime })
	for end := uint32(subBytes); end <= blockBytes; end += subBytes {
		crossOffTo(blk, primes[:nSmall], cur[:nSmall], end)
	}
	crossOffTo(blk, primes[nSmall:], cur[nSmall:], blockBytes)
	for k := range cur {
		cur[k].off -= blockBytes
	}
}

// crossTab is the crossEight this CPU runs: the pure-Go functions, or the
// assembly ones (wheel_amd64.s) on amd64.
var crossTab = crossEight

// crossOffTo crosses off the multiples of primes in blk below byte end,
// leaving each cursor at its first multiple at or after end.
func crossOffTo(blk *[blockBytes]byte, primes []uint32, cur []cursor, end uint32) {
	cur = cur[:len(primes)]
	for k, p := range primes {
		c := cur[k]
		if c.off >= end {
			continue
		}
		pc := wt.index[p%30]
		p30 := p / 30
		j, w := c.off, c.w&7
		j = crossTab[8*uint32(pc)+uint32(w)](blk, j, end, p30)
		bitTab, carry := &wt.bit[pc], &wt.carry[pc]
		for j < end {
			blk[j&blockMask] |= 1 << bitTab[w]
			j += p30*wheelGap[w] + carry[w]
			w = (w + 1) & 7
		}
		cur[k] = cursor{off: j, w: w}
	}
}

// crossOffWalk sets the bits of the multiples of primes in seg, walking
// each prime's multiples in order, and moves the cursors past seg.
func crossOffWalk(seg []byte, primes []uint32, cur []cursor) {
	n := uint32(len(seg))
	for k, p := range primes {
		j, w := cur[k].off, cur[k].w
		if j < n {
			pc := wt.index[p%30]
			p30 := p / 30
			bitTab, carry := &wt.bit[pc], &wt.carry[pc]
			for j < n {
				seg[j] |= 1 << bitTab[w&7]
				j += p30*wheelGap[w&7] + carry[w&7]
				w = (w + 1) & 7
			}
		}
		cur[k] = cursor{off: j - n, w: w}
	}
}

// maskOutside marks as composite the bits of seg, whose word 0 is global
// word w, with a bit index outside [iLo, iHi).
func maskOutside(seg []byte, w, iLo, iHi uint64) {
	if first := 64 * w; iLo > first {
		v := binary.LittleEndian.Uint64(seg)
		binary.LittleEndian.PutUint64(seg, v|(1<<(iLo-first)-1))
	}
	if end := 64*w + 8*uint64(len(seg)); iHi < end {
		last := seg[len(seg)-8:]
		v := binary.LittleEndian.Uint64(last)
		binary.LittleEndian.PutUint64(last, v|^uint64(0)<<(64-(end-iHi)))
	}
}

// presieve fills seg, the bytes of the words from global word w0 on, with
// the multiples of the pre-sieved primes, in one pass: each word is the OR
// of one word of every table, taken in runs over which no table wraps.
func presieve(tab *presieveTables, seg []byte, w0 uint64) {
	var pos [16]int
	ts := tab.tabs[:len(tab.tabs)]
	if len(ts) != 12 {
		panic("primes: presieve expects 12 tables")
	}
	for k, t := range ts {
		pos[k] = int(w0 % uint64(len(t)))
	}
	n := len(seg) / 8
	for i := 0; i < n; {
		run := n - i
		for k, t := range ts {
			run = min(run, len(t)-pos[k])
		}
		t0, t1, t2, t3 := ts[0][pos[0]:pos[0]+run], ts[1][pos[1]:pos[1]+run], ts[2][pos[2]:pos[2]+run], ts[3][pos[3]:pos[3]+run]
		t4, t5, t6, t7 := ts[4][pos[4]:pos[4]+run], ts[5][pos[5]:pos[5]+run], ts[6][pos[6]:pos[6]+run], ts[7][pos[7]:pos[7]+run]
		t8, t9, t10, t11 := ts[8][pos[8]:pos[8]+run], ts[9][pos[9]:pos[9]+run], ts[10][pos[10]:pos[10]+run], ts[11][pos[11]:pos[11]+run]
		dst := seg[8*i : 8*(i+run)]
		for j := range t0 {
			v := t0[j] | t1[j] | t2[j] | t3[j] | t4[j] | t5[j] | t6[j] | t7[j] | t8[j] | t9[j] | t10[j] | t11[j]
			binary.LittleEndian.PutUint64(dst[8*j:], v)
		}
		for k, t := range ts {
			if pos[k] += run; pos[k] == len(t) {
				pos[k] = 0
			}
		}
		i += run
	}
}

// Masks for summing the primes of a word v (set bits of ^seg) with
// popcounts. The prime at bit t of word W is 240·W + 30·(t/8) + wheel[t%8],
// so the sum is count·240·W + 30·Σ(t/8) + Σwheel[t%8], where
// Σ(t/8) = Σ_b 2^b·popcount(v & byteMasks[b]) and
// Σwheel[t%8] = Σ_b 2^b·popcount(v & residueMasks[b]), residueMasks[b]
// selecting in every byte the bits k with bit b of wheel[k] set.
var (
	byteMasks    = [3]uint64{0xFF00FF00FF00FF00, 0xFFFF0000FFFF0000, 0xFFFFFFFF00000000}
	residueMasks = func() (m [5]uint64) {
		for b := range m {
			for k, r := range wheel {
				if r>>b&1 == 1 {
					m[b] |= 0x0101010101010101 << k
				}
			}
		}
		return m
	}()
)

// tallySegment counts and sums the primes (clear bits) of seg, whose word
// 0 is global word w0. Only the term count·240·W of a word's sum depends on
// its position W, so the masked popcounts are summed over the whole
// segment and weighted once at the end; first and last come from the
// first and last non-zero words.
func tallySegment(seg []byte, w0 uint64) tally {
	var t tally
	n := len(seg) / 8
	ps := sumsFast(seg)
	cnt, wsum := ps.cnt, ps.wsum
	b0, b1, b2, r0, r1, r2, r3, r4 := ps.m[0], ps.m[1], ps.m[2], ps.m[3], ps.m[4], ps.m[5], ps.m[6], ps.m[7]
	if cnt == 0 {
		return t
	}
	at := func(k int, bit uint64) uint64 {
		return 240*(w0+uint64(k)) + 30*(bit/8) + uint64(wheel[bit%8])
	}
	for k := range n {
		if v := ^binary.LittleEndian.Uint64(seg[8*k:]); v != 0 {
			t.first = at(k, uint64(bits.TrailingZeros64(v)))
			break
		}
	}
	for k := n - 1; k >= 0; k-- {
		if v := ^binary.LittleEndian.Uint64(seg[8*k:]); v != 0 {
			t.last = at(k, uint64(63-bits.LeadingZeros64(v)))
			break
		}
	}
	t.count = cnt
	// cnt·240·w0 may exceed 2^64 near 10^12 only for segments far longer
	// than a block; the 128-bit product keeps it exact anyway.
	hi, lo := bits.Mul64(cnt, 240*w0)
	rest := 240*wsum + 30*(b0+2*b1+4*b2) + r0 + 2*r1 + 4*r2 + 8*r3 + 16*r4
	var c uint64
	t.sumLo, c = bits.Add64(lo, rest, 0)
	t.sumHi = hi + c
	return t
}

// popSums are the segment-wide sums tallySegment needs, with v the
// complement of each word k: cnt = Σ popcount(v), wsum = Σ popcount(v)·k,
// and m[i] = Σ popcount(v & mask_i) for the masks byteMasks[0:3], then
// residueMasks[0:5].
type popSums struct {
	cnt, wsum uint64
	m         [8]uint64
}

// sumsGo computes popSums with math/bits.
func sumsGo(seg []byte) popSums {
	var s popSums
	bm, rm := byteMasks, residueMasks
	for k := range len(seg) / 8 {
		v := ^binary.LittleEndian.Uint64(seg[8*k:])
		c := uint64(bits.OnesCount64(v))
		s.cnt += c
		s.wsum += c * uint64(k)
		s.m[0] += uint64(bits.OnesCount64(v & bm[0]))
		s.m[1] += uint64(bits.OnesCount64(v & bm[1]))
		s.m[2] += uint64(bits.OnesCount64(v & bm[2]))
		s.m[3] += uint64(bits.OnesCount64(v & rm[0]))
		s.m[4] += uint64(bits.OnesCount64(v & rm[1]))
		s.m[5] += uint64(bits.OnesCount64(v & rm[2]))
		s.m[6] += uint64(bits.OnesCount64(v & rm[3]))
		s.m[7] += uint64(bits.OnesCount64(v & rm[4]))
	}
	return s
}

// sumsFast is the fastest popSums this CPU has: sumsGo, or sumsAVX512 on
// amd64 with AVX-512 VPOPCNTQ.
var sumsFast = sumsGo

// A tallyPath is one implementation of popSums, for the tests.
type tallyPath struct {
	name string
	sums func(seg []byte) popSums
}

// tallyPaths are the implementations this CPU can run, sumsGo first.
var tallyPaths = []tallyPath{{"go", sumsGo}}

package primes

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCrossPathsAgree runs every implementation of crossEight on the same
// primes, starts and ends and requires the same bits and the same returned
// offset as the pure-Go one.
func TestCrossPathsAgree(t *testing.T) {
	t.Parallel()
	if len(crossPaths) == 1 {
		t.Log("no assembly crossEight in this build (not amd64, or purego): only the pure-Go one is checked")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	base := sievingPrimes()
	want, got := new([blockBytes]byte), new([blockBytes]byte)
	for range 200 {
		p := base[rng.IntN(len(base))]
		if rng.IntN(3) == 0 {
			p = base[rng.IntN(200)]
		}
		w := uint32(rng.IntN(8))
		pc := uint32(wt.index[p%30])
		end := uint32(rng.IntN(blockBytes + 1))
		if rng.IntN(4) != 0 {
			end = uint32(rng.IntN(16 << 10)) // most cases small: fast under -race
		}
		j := uint32(rng.IntN(int(end) + 1))
		clear(want[:end])
		wj := crossPaths[0].cross[8*pc+w](want, j, end, p/30)
		for _, cp := range crossPaths[1:] {
			clear(got[:min(end+p, blockBytes)])
			gj := cp.cross[8*pc+w](got, j, end, p/30)
			require.Equal(t, wj, gj, "%s: p %d w %d j %d end %d", cp.name, p, w, j, end)
			require.True(t, bytes.Equal(want[:end], got[:end]), "%s: p %d w %d j %d end %d: bits differ", cp.name, p, w, j, end)
			// A turn of the wheel spans p bytes: nothing may be written
			// in the p bytes after end.
			past := got[end:min(end+p, blockBytes)]
			require.Zero(t, bytes.Count(past, []byte{0})-len(past), "%s: p %d w %d j %d end %d: written past end", cp.name, p, w, j, end)
		}
	}
}

// TestTallyPathsAgree compares every implementation of popSums with sumsGo
// on random segments of every length from 0 to 40 words and a whole block.
func TestTallyPathsAgree(t *testing.T) {
	t.Parallel()
	if len(tallyPaths) == 1 {
		t.Log("this CPU has no AVX-512 VPOPCNTQ (or the build is purego): only sumsGo is checked")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range append([]int{blockWords}, func() []int {
		var ns []int
		for n := range 41 {
			ns = append(ns, n)
		}
		return ns
	}()...) {
		seg := make([]byte, 8*n)
		for i := range seg {
			seg[i] = byte(rng.Uint32()) | byte(rng.Uint32()) // mostly composite, as in a sieve
		}
		want := sumsGo(seg)
		for _, p := range tallyPaths[1:] {
			require.Equal(t, want, p.sums(seg), "%s, %d words", p.name, n)
		}
	}
}

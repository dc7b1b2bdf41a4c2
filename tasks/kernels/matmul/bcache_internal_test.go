package matmul

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPackedCache(t *testing.T) {
	t.Parallel()
	pc := &packedCache{idleTTL: 50 * time.Millisecond}
	var gens atomic.Int32
	gen := func(ctx context.Context, buf []float64) (packedB, error) {
		gens.Add(1)
		time.Sleep(20 * time.Millisecond) // others arrive meanwhile
		return newPackedB(buf, 2, 3, 4), ctx.Err()
	}
	key := bKey{seed: 1, n: 2, nr: 4}

	// Chunks at once share one generation.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			b, done, err := pc.get(t.Context(), key, gen)
			require.NoError(t, err)
			require.Len(t, b.data, 8)
			done()
		})
	}
	wg.Wait()
	require.Equal(t, int32(1), gens.Load())

	// The idle entry is reused, then let go after idleTTL.
	_, done, err := pc.get(t.Context(), key, gen)
	require.NoError(t, err)
	done()
	require.Equal(t, int32(1), gens.Load())
	require.Eventually(t, func() bool {
		pc.mu.Lock()
		defer pc.mu.Unlock()
		return len(pc.entries) == 0
	}, 5*time.Second, 10*time.Millisecond)

	// A canceled generation is not kept, and a chunk that waited for it
	// generates B itself.
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	gens.Store(0)
	errs := make(chan error, 1)
	go func() {
		_, _, err := pc.get(canceled, key, gen)
		errs <- err
	}()
	time.Sleep(5 * time.Millisecond)
	b, done, err := pc.get(t.Context(), key, gen)
	require.NoError(t, err)
	require.Len(t, b.data, 8)
	done()
	require.True(t, errors.Is(<-errs, context.Canceled))
	require.GreaterOrEqual(t, gens.Load(), int32(1))

	// Another key replaces the idle entry.
	other := bKey{seed: 2, n: 2, nr: 4}
	_, done, err = pc.get(t.Context(), other, gen)
	require.NoError(t, err)
	done()
	pc.mu.Lock()
	_, kept := pc.entries[key]
	pc.mu.Unlock()
	require.False(t, kept)
}

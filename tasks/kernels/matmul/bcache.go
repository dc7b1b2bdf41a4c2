package matmul

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// The chunks of one random job all need the same B (n² entries, 128 MiB
// for n = 4096), and a worker usually runs many of them in a row or at
// once: generating B for each chunk costs, for n = 4096 and its default 64
// rows per chunk, about as much as the chunk's product. bCache keeps packed
// random Bs by (seed, n, path): chunks running at once share one (the
// first generates it, the others wait), and the last one used is kept for
// idleTTL after its last chunk ends, then let go. An entry is never
// changed once generated, so sharing it changes no result.
var bCache = &packedCache{idleTTL: time.Minute}

// bKey identifies a random B packed for one path.
type bKey struct {
	seed int64
	n    int
	nr   int
}

type packedCache struct {
	idleTTL time.Duration

	mu      sync.Mutex
	entries map[bKey]*bEntry
}

type bEntry struct {
	ready chan struct{} // closed when b and err are set
	b     packedB
	err   error
	refs  int         // chunks holding it
	idle  *time.Timer // set while refs == 0: drops the entry
}

// get returns the packed B for key, generating it with gen unless another
// chunk has or is doing so, and a function to call when done with it. A
// failed generation (a canceled chunk) is not kept.
//
// gen gets the buffer of the idle entry it replaces, if any, to reuse.
func (pc *packedCache) get(ctx context.Context, key bKey, gen func(ctx context.Context, buf []float64) (packedB, error)) (packedB, func(), error) {
	for {
		b, done, err, retry := pc.try(ctx, key, gen)
		if !retry || ctx.Err() != nil {
			return b, done, err
		}
		// Another chunk's generation failed (it was canceled): generate
		// it here.
	}
}

// try is one attempt of get; retry reports that it waited for another
// chunk's generation, which failed.
func (pc *packedCache) try(ctx context.Context, key bKey, gen func(ctx context.Context, buf []float64) (packedB, error)) (_ packedB, _ func(), _ error, retry bool) {
	pc.mu.Lock()
	if pc.entries == nil {
		pc.entries = map[bKey]*bEntry{}
	}
	e, ok := pc.entries[key]
	if ok {
		e.refs++
		if e.idle != nil {
			e.idle.Stop()
			e.idle = nil
		}
		pc.mu.Unlock()
		select {
		case <-e.ready:
		case <-ctx.Done():
			pc.release(key, e)
			return packedB{}, nil, fmt.Errorf("matmul: %w", ctx.Err()), false
		}
		if e.err != nil {
			pc.release(key, e)
			return packedB{}, nil, e.err, true
		}
		return e.b, func() { pc.release(key, e) }, nil, false
	}
	// Only one idle B is kept: drop the others before making a new one,
	// and reuse the memory of one of them.
	var spare []float64
	for k, old := range pc.entries {
		if old.refs == 0 {
			if old.idle != nil {
				old.idle.Stop()
			}
			delete(pc.entries, k)
			if cap(old.b.data) > cap(spare) {
				spare = old.b.data
			}
		}
	}
	e = &bEntry{ready: make(chan struct{}), refs: 1}
	pc.entries[key] = e
	pc.mu.Unlock()

	e.b, e.err = gen(ctx, spare)
	if e.err != nil {
		pc.mu.Lock()
		if pc.entries[key] == e {
			delete(pc.entries, key)
		}
		pc.mu.Unlock()
	}
	close(e.ready)
	if e.err != nil {
		pc.release(key, e)
		return packedB{}, nil, e.err, false
	}
	return e.b, func() { pc.release(key, e) }, nil, false
}

// release drops one chunk's hold on e; the last one starts its idle timer.
func (pc *packedCache) release(key bKey, e *bEntry) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e.refs--
	if e.refs > 0 || pc.entries[key] != e {
		return
	}
	e.idle = time.AfterFunc(pc.idleTTL, func() {
		pc.mu.Lock()
		defer pc.mu.Unlock()
		if pc.entries[key] == e && e.refs == 0 {
			delete(pc.entries, key)
		}
	})
}

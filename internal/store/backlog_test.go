package store_test

import (
	"testing"
	"time"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/internal/store"
)

func TestBacklog(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := store.New(redistest.Client(t), store.Config{Namespace: redistest.Namespace(t)})
	now := time.Now()
	create := func(id, priority string, total int) {
		t.Helper()
		j := &store.Job{
			Job: crunchtype.Job{ID: id, Kernel: "primes", Params: []byte(`{}`), Priority: priority,
				Metadata: []byte(`{}`), CreatedAt: now, Chunks: crunchtype.ChunkCounts{Total: total}},
			Tenant: store.AnonymousTenant, Deadline: now.Add(time.Hour),
		}
		if err := s.Create(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
	}
	complete := func(id string, index int) {
		t.Helper()
		if _, err := s.StartChunk(ctx, id, index, "w:1", now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CompleteChunk(ctx, id, store.Attempt{Index: index, Worker: "w:1", N: 1, Started: now}, now, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}

	create("big", "normal", 4096) // planned: out of the pending set, named by the caller
	if err := s.MarkPlanned(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	for i := range 96 {
		complete("big", i)
	}
	complete("big", 0)                // a chunk run twice counts once
	create("unplanned", "normal", 10) // still in the pending set: found without being named
	create("urgent", "high", 3)
	if err := s.MarkPlanned(ctx, "urgent"); err != nil {
		t.Fatal(err)
	}
	create("done", "low", 2)
	if err := s.MarkPlanned(ctx, "done"); err != nil {
		t.Fatal(err)
	}
	complete("done", 0)
	complete("done", 1)
	if ok, err := s.Succeed(ctx, "done", []byte(`{}`), nil, now); err != nil || !ok {
		t.Fatalf("succeed: %v %v", ok, err)
	}
	create("canceled", "low", 5)
	if err := s.Cancel(ctx, "canceled", now); err != nil {
		t.Fatal(err)
	}

	got, err := s.Backlog(ctx, []string{"big", "urgent", "done", "canceled", "expired", "big"}, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.Backlog{
		"normal": {Jobs: 2, Chunks: 4096 - 96 + 10, Runnable: 4 + 4},
		"high":   {Jobs: 1, Chunks: 3, Runnable: 3},
	}
	if len(got) != len(want) {
		t.Errorf("Backlog = %+v, want %+v", got, want)
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("Backlog[%s] = %+v, want %+v", p, got[p], w)
		}
	}
}

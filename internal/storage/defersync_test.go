package storage

import (
	"path/filepath"
	"testing"
)

// With DeferSync a batch's COMMIT leaves its fsync to Syncer, once per run
// of commits; writes outside a batch stay synchronous; the data is there
// after a reopen either way.
func TestDeferSync(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.sqlite")
	s, err := Open(path, Options{DeferSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if f := s.Syncer(); f != nil {
		t.Fatal("nothing committed yet, but a Syncer")
	}
	// Outside a batch: autocommit at FULL, nothing left to sync.
	if err := s.Put("auto", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if f := s.Syncer(); f != nil {
		t.Fatal("an autocommit write left a sync behind")
	}
	// Two batches, then one Syncer for both.
	commitBatch(t, s, "a")
	commitBatch(t, s, "b")
	f := s.Syncer()
	if f == nil {
		t.Fatal("after two commits: no Syncer")
	}
	if err := f(); err != nil {
		t.Fatal(err)
	}
	if f2 := s.Syncer(); f2 != nil {
		t.Fatal("a second Syncer with nothing new to sync")
	}
	// A batch that wrote nothing commits nothing to sync.
	if err := s.Begin(); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if f3 := s.Syncer(); f3 != nil {
		t.Fatal("an empty batch left a sync behind")
	}
	// Autocommit again after batches (the level switches back to FULL).
	if err := s.Put("auto2", []byte("2")); err != nil {
		t.Fatal(err)
	}
	// A Syncer taken before Close still succeeds after it: closing synced.
	commitBatch(t, s, "c")
	late := s.Syncer()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if late == nil || late() != nil {
		t.Fatal("a Syncer run after Close must report success")
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for _, k := range []string{"auto", "a", "b", "auto2", "c"} {
		if _, ok, err := s2.Get(k); !ok || err != nil {
			t.Fatalf("%s lost after reopen (%v)", k, err)
		}
	}
}

// An fsync covers every commit made before it began: the Syncer of an
// earlier commit then has nothing left to do.
func TestDeferSyncCoveredByLaterSync(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "db.sqlite"), Options{DeferSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	commit := func(k string) func() error {
		t.Helper()
		commitBatch(t, s, k)
		f := s.Syncer()
		if f == nil {
			t.Fatalf("no Syncer after commit %s", k)
		}
		return f
	}
	first := commit("a")
	second := commit("b")
	if err := second(); err != nil {
		t.Fatal(err)
	}
	if got := s.synced.Load(); got != 2 {
		t.Fatalf("after the second Syncer: synced %d, want 2 (both commits)", got)
	}
	if err := first(); err != nil {
		t.Fatal(err)
	}
	if got := s.synced.Load(); got != 2 {
		t.Fatalf("synced went to %d", got)
	}
}

// commitBatch writes key (as its own value) in a batch of its own.
func commitBatch(t *testing.T, s *Store, key string) {
	t.Helper()
	if err := s.Begin(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(key, []byte(key)); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
}

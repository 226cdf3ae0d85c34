package storage

import "testing"

func TestBeginSync(t *testing.T) {
	both(t, func(t *testing.T, s *Store) {
		// Outside a batch, a committed sync transaction is durable at once.
		tx, err := s.BeginSync()
		must(t, err)
		must(t, s.Put("a", []byte("1")))
		if !s.Uncommitted() {
			t.Fatal("a write inside an open transaction counts as committed")
		}
		must(t, tx.Commit())
		if s.Uncommitted() {
			t.Fatal("uncommitted after Commit")
		}
		if s.Path() != "" {
			s = reopen(t, s)
		}
		if v, ok := get(t, s, "a"); !ok || v != "1" {
			t.Fatalf("a = %q, %v after reopening", v, ok)
		}

		// Inside a batch: a rolled-back inner transaction undoes only its
		// own writes, and the rest waits for the batch.
		must(t, s.Begin())
		must(t, s.Put("b", []byte("2")))
		outer, err := s.BeginSync()
		must(t, err)
		must(t, s.Put("c", []byte("3")))
		inner, err := s.BeginSync()
		must(t, err)
		must(t, s.Put("d", []byte("4")))
		if err := outer.Commit(); err != ErrTxnOrder {
			t.Fatalf("committing the outer transaction first: %v", err)
		}
		must(t, inner.Rollback())
		must(t, outer.Commit())
		if _, ok := get(t, s, "d"); ok {
			t.Fatal("d survived its rollback")
		}
		if !s.Uncommitted() {
			t.Fatal("the batch's writes count as committed before Commit")
		}
		must(t, s.Rollback())
		for _, k := range []string{"b", "c"} {
			if _, ok := get(t, s, k); ok {
				t.Fatalf("%s survived the batch's rollback", k)
			}
		}
		if s.Uncommitted() {
			t.Fatal("uncommitted after Rollback")
		}
	})
}

package storage

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestBatchCommitPersists(t *testing.T) {
	s := diskStore(t)
	must(t, s.Begin())
	if !s.InBatch() {
		t.Fatal("not in batch")
	}
	must(t, s.Put("a", []byte("1")))
	must(t, s.PutMany([]KV{{"b", []byte("2")}, {"c", []byte("3")}}))
	exec(t, s, "CREATE TABLE t (x); INSERT INTO t VALUES (42)")
	must(t, s.SetAlarm(time.UnixMilli(1_900_000_000_000)))
	// The batch reads its own writes.
	if v, _ := get(t, s, "a"); v != "1" {
		t.Fatal(v)
	}
	must(t, s.Commit())

	s = reopen(t, s)
	for k, want := range map[string]string{"a": "1", "b": "2", "c": "3"} {
		if v, ok := get(t, s, k); !ok || v != want {
			t.Fatalf("%s = %q %v after reopen", k, v, ok)
		}
	}
	if got := one(t, s, "SELECT x FROM t"); got != int64(42) {
		t.Fatal(got)
	}
	at, ok, err := s.GetAlarm()
	must(t, err)
	if !ok || at.UnixMilli() != 1_900_000_000_000 {
		t.Fatal(at, ok)
	}
	must(t, s.IntegrityCheck())
}

func TestBatchRollbackLeavesNothing(t *testing.T) {
	both(t, func(t *testing.T, s *Store) {
		must(t, s.Begin())
		must(t, s.Put("a", []byte("1"))) // creates _cf_KV inside the batch
		exec(t, s, "CREATE TABLE t (x)")
		must(t, s.SetAlarm(time.Now()))
		must(t, s.Rollback())

		if _, ok := get(t, s, "a"); ok {
			t.Fatal("rolled back key visible")
		}
		if got := one(t, s, "SELECT count(*) FROM sqlite_schema"); got != int64(0) {
			t.Fatalf("%v schema objects survive the rollback", got)
		}
		if _, ok, _ := s.GetAlarm(); ok {
			t.Fatal("rolled back alarm visible")
		}
		// The lazily created tables come back on the next write.
		must(t, s.Put("b", []byte("2")))
		must(t, s.SetAlarm(time.Now()))
		if v, _ := get(t, s, "b"); v != "2" {
			t.Fatal(v)
		}
	})
}

func TestUncommittedBatchIsLostOnClose(t *testing.T) {
	s := diskStore(t)
	must(t, s.Put("autocommitted", []byte("1")))
	must(t, s.Begin())
	must(t, s.Put("uncommitted", []byte("2")))
	s = reopen(t, s)
	if _, ok := get(t, s, "autocommitted"); !ok {
		t.Fatal("autocommitted write lost")
	}
	if _, ok := get(t, s, "uncommitted"); ok {
		t.Fatal("uncommitted write survived Close")
	}
}

func TestBatchMisuse(t *testing.T) {
	s := memStore(t)
	if err := s.Commit(); !errors.Is(err, ErrNotInBatch) {
		t.Fatal(err)
	}
	if err := s.Rollback(); !errors.Is(err, ErrNotInBatch) {
		t.Fatal(err)
	}
	must(t, s.Begin())
	if err := s.Begin(); !errors.Is(err, ErrInBatch) {
		t.Fatal(err)
	}
	must(t, s.Commit()) // an empty batch commits for free
	must(t, s.Close())
	if _, _, err := s.Get("a"); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := s.Put("a", nil); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, err := s.Exec("SELECT 1"); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func TestTransactionSync(t *testing.T) {
	both(t, func(t *testing.T, s *Store) {
		exec(t, s, "CREATE TABLE txnTest (i INTEGER)")
		exec(t, s, "INSERT INTO txnTest VALUES (1)")
		getI := func() any { return one(t, s, "SELECT i FROM txnTest") }

		// Success commits.
		must(t, s.TransactionSync(func() error {
			exec(t, s, "CREATE TABLE should_succeed (v)")
			return s.Put("k", []byte("v"))
		}))
		if one(t, s, "SELECT count(*) FROM sqlite_schema WHERE name = 'should_succeed'") != int64(1) {
			t.Fatal("table lost")
		}

		// Failure rolls back everything, SQL and KV.
		boom := errors.New("boom")
		err := s.TransactionSync(func() error {
			exec(t, s, "CREATE TABLE should_be_rolled_back (v)")
			must(t, s.Put("k", []byte("changed")))
			if _, err := s.Exec("SELECT * FROM misspelled_table_name"); err == nil {
				t.Fatal("no error")
			}
			return boom
		})
		if err != boom {
			t.Fatal(err)
		}
		if one(t, s, "SELECT count(*) FROM sqlite_schema WHERE name = 'should_be_rolled_back'") != int64(0) {
			t.Fatal("table survived rollback")
		}
		if v, _ := get(t, s, "k"); v != "v" {
			t.Fatalf("k = %q", v)
		}

		// Nested: the inner failure undoes only the inner writes.
		must(t, s.TransactionSync(func() error {
			exec(t, s, "UPDATE txnTest SET i = 2")
			err := s.TransactionSync(func() error {
				exec(t, s, "UPDATE txnTest SET i = 3")
				if getI() != int64(3) {
					t.Fatal("inner write invisible")
				}
				return boom
			})
			if err != boom {
				t.Fatal(err)
			}
			if getI() != int64(2) {
				t.Fatalf("after inner rollback i = %v", getI())
			}
			return nil
		}))
		if getI() != int64(2) {
			t.Fatal(getI())
		}

		// A panic rolls back and goes on.
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("panic swallowed")
				}
			}()
			s.TransactionSync(func() error {
				exec(t, s, "UPDATE txnTest SET i = 99")
				panic("oops")
			})
		}()
		if getI() != int64(2) {
			t.Fatalf("panic left i = %v", getI())
		}
		if s.depth != 0 {
			t.Fatalf("savepoint depth %d", s.depth)
		}

		// Inside a batch, the writes wait for the batch.
		must(t, s.Begin())
		must(t, s.TransactionSync(func() error { return s.Put("in-batch", []byte("1")) }))
		must(t, s.Rollback())
		if _, ok := get(t, s, "in-batch"); ok {
			t.Fatal("transactionSync write outlived its batch's rollback")
		}
	})
}

func TestTransactionSyncOutsideBatchIsDurable(t *testing.T) {
	s := diskStore(t)
	must(t, s.TransactionSync(func() error { return s.Put("k", []byte("v")) }))
	s = reopen(t, s)
	if _, ok := get(t, s, "k"); !ok {
		t.Fatal("lost")
	}
}

// TestTxn follows workerd's sql-test.js transaction() cases.
func TestTxn(t *testing.T) {
	both(t, func(t *testing.T, s *Store) {
		val := func() string { v, _ := get(t, s, "txnTest"); return v }
		must(t, s.Put("txnTest", []byte("0")))

		// Commit.
		txn, err := s.BeginTxn()
		must(t, err)
		must(t, s.Put("txnTest", []byte("1")))
		must(t, txn.Commit())
		if val() != "1" {
			t.Fatal(val())
		}
		if err := txn.Commit(); !errors.Is(err, ErrTxnDone) {
			t.Fatal(err)
		}

		// Writes of the batch before the transaction are committed when it
		// starts; the transaction's writes are its own.
		must(t, s.Begin())
		must(t, s.Put("txnTest", []byte("2")))
		txn, err = s.BeginTxn()
		must(t, err)
		must(t, s.Put("txnTest", []byte("3")))
		must(t, txn.Rollback())
		must(t, s.Rollback()) // nothing left in the batch to roll back
		if val() != "2" {
			t.Fatal(val())
		}

		// Nested; the outer rollback undoes the committed inner one.
		must(t, s.Put("txnTest", []byte("3")))
		outer, err := s.BeginTxn()
		must(t, err)
		must(t, s.Put("txnTest", []byte("6")))
		inner, err := s.BeginTxn()
		must(t, err)
		must(t, s.Put("txnTest", []byte("7")))
		wantErr(t, outer.Rollback(), "Error", "Cannot roll back an outer transaction while a nested transaction is still running.")
		if err := outer.Commit(); !errors.Is(err, ErrTxnOrder) {
			t.Fatal(err)
		}
		must(t, inner.Commit())
		if val() != "7" {
			t.Fatal(val())
		}
		must(t, outer.Rollback())
		if val() != "3" {
			t.Fatal(val())
		}

		// A transaction spans turns: Begin/Commit of the turns in between
		// do not commit it.
		txn, err = s.BeginTxn()
		must(t, err)
		for i := range 3 {
			must(t, s.Begin())
			must(t, s.Put("turn", []byte{byte(i)}))
			must(t, s.Commit())
		}
		must(t, txn.Rollback())
		if _, ok := get(t, s, "turn"); ok {
			t.Fatal("writes of a rolled back transaction survived")
		}
		if s.depth != 0 || s.txOpen {
			t.Fatal("transaction state left behind")
		}
	})
}

func TestTxnCommitIsDurable(t *testing.T) {
	s := diskStore(t)
	txn, err := s.BeginTxn()
	must(t, err)
	must(t, s.Put("k", []byte("v")))
	must(t, txn.Commit())
	s = reopen(t, s)
	if _, ok := get(t, s, "k"); !ok {
		t.Fatal("lost")
	}
}

func TestCommitWithOpenCursors(t *testing.T) {
	both(t, func(t *testing.T, s *Store) {
		exec(t, s, "CREATE TABLE t (a)")
		must(t, s.Begin())
		// A write whose RETURNING rows are read lazily is still running;
		// Commit finishes it and its rows stay readable.
		w, err := s.Exec("INSERT INTO t VALUES (1), (2), (3) RETURNING a")
		must(t, err)
		if row, _, _ := w.Next(); row[0] != int64(1) {
			t.Fatal(row)
		}
		// A read cursor across the commit.
		r, err := s.Exec("SELECT 10 UNION ALL SELECT 20")
		must(t, err)
		if row, _, _ := r.Next(); row[0] != int64(10) {
			t.Fatal(row)
		}
		must(t, s.Commit())
		rest, err := w.All()
		must(t, err)
		if !reflect.DeepEqual(rest, [][]any{{int64(2)}, {int64(3)}}) {
			t.Fatal(rest)
		}
		rest, err = r.All()
		must(t, err)
		if !reflect.DeepEqual(rest, [][]any{{int64(20)}}) {
			t.Fatal(rest)
		}
		if got := one(t, s, "SELECT count(*) FROM t"); got != int64(3) {
			t.Fatal(got)
		}

		// A read cursor opened outside any transaction, read across a
		// whole batch (its BEGIN IMMEDIATE and COMMIT).
		r, err = s.Exec("SELECT a FROM t ORDER BY a")
		must(t, err)
		if row, _, _ := r.Next(); row[0] != int64(1) {
			t.Fatal(row)
		}
		must(t, s.Begin())
		must(t, s.Put("during", []byte("read")))
		exec(t, s, "INSERT INTO t VALUES (4)")
		must(t, s.Commit())
		rest, err = r.All()
		must(t, err)
		if len(rest) < 2 || rest[0][0] != int64(2) {
			t.Fatal(rest)
		}
		if s.Path() != "" {
			s = reopen(t, s)
			if _, ok := get(t, s, "during"); !ok {
				t.Fatal("write committed under an open cursor was lost")
			}
			if got := one(t, s, "SELECT count(*) FROM t"); got != int64(4) {
				t.Fatal(got)
			}
		}
	})
}

func TestDeleteAll(t *testing.T) {
	both(t, func(t *testing.T, s *Store) {
		alarm := time.UnixMilli(2_000_000_000_000)
		must(t, s.Put("a", []byte("1")))
		exec(t, s, "CREATE TABLE t (x); CREATE INDEX i ON t (x); CREATE VIEW v AS SELECT * FROM t; INSERT INTO t VALUES (1)")
		exec(t, s, "CREATE VIRTUAL TABLE f USING fts5(body)")
		must(t, s.SetAlarm(alarm))
		c, err := s.Exec("SELECT 1 UNION ALL SELECT 2")
		must(t, err)

		must(t, s.Begin())
		must(t, s.Put("pending", []byte("x")))
		must(t, s.DeleteAll(DeleteAllOptions{}))
		if !s.InBatch() {
			t.Fatal("DeleteAll ended the batch")
		}
		if _, _, err := c.Next(); err == nil || !strings.Contains(err.Error(), "canceled because the database was deleted") {
			t.Fatalf("cursor survived DeleteAll: %v", err)
		}
		for _, k := range []string{"a", "pending"} {
			if _, ok := get(t, s, k); ok {
				t.Fatalf("%s survived", k)
			}
		}
		if got := one(t, s, "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\'"); got != int64(0) {
			t.Fatalf("%v schema objects survived", got)
		}
		at, ok, err := s.GetAlarm()
		must(t, err)
		if !ok || !at.Equal(alarm) {
			t.Fatal("alarm not kept", at, ok)
		}
		// The batch goes on.
		must(t, s.Put("after", []byte("1")))
		must(t, s.Commit())
		if _, ok := get(t, s, "after"); !ok {
			t.Fatal("write after DeleteAll lost")
		}

		must(t, s.DeleteAll(DeleteAllOptions{DeleteAlarm: true}))
		if _, ok, _ := s.GetAlarm(); ok {
			t.Fatal("alarm survived DeleteAll{DeleteAlarm}")
		}

		txn, err := s.BeginTxn()
		must(t, err)
		wantErr(t, s.DeleteAll(DeleteAllOptions{}), "Error", "Cannot call deleteAll() within a transaction")
		must(t, txn.Rollback())
	})
}

func TestDeleteAllOnDiskShrinksAndPersists(t *testing.T) {
	s := diskStore(t)
	must(t, s.Begin())
	for i := range 2000 {
		must(t, s.Put(strings.Repeat("k", 10)+string(rune(i)), make([]byte, 1000)))
	}
	must(t, s.Commit())
	must(t, s.SetAlarm(time.UnixMilli(2_000_000_000_000)))
	must(t, s.DeleteAll(DeleteAllOptions{}))
	s = reopen(t, s)
	var total int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(s.Path() + suffix); err == nil {
			total += fi.Size()
		}
	}
	if total > 64<<10 {
		t.Fatalf("database files hold %d bytes after DeleteAll", total)
	}
	if n, _ := s.Count(); n != 0 {
		t.Fatal(n)
	}
	if _, ok, _ := s.GetAlarm(); !ok {
		t.Fatal("alarm lost")
	}
}

func TestReadOnlyAndLocking(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.sqlite")
	if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("read-only open of a missing database: %v", err)
	}
	s, err := Open(path, Options{})
	must(t, err)
	must(t, s.Put("k", []byte("v")))

	// The owner holds the database exclusively.
	start := time.Now()
	_, err = Open(path, Options{BusyTimeout: 50 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second writer: %v", err)
	}
	if _, err := Open(path, Options{ReadOnly: true, BusyTimeout: 50 * time.Millisecond}); err == nil {
		t.Fatal("a reader got in while the owner holds the database")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("busy timeout ignored")
	}
	must(t, s.Close())

	// Shared: readers may read while the owner is open.
	s, err = Open(path, Options{Shared: true})
	must(t, err)
	defer s.Close()
	must(t, s.Put("k2", []byte("v2")))
	r, err := Open(path, Options{ReadOnly: true})
	must(t, err)
	defer r.Close()
	if v, _ := get(t, r, "k2"); v != "v2" {
		t.Fatal(v)
	}
	if err := r.Put("x", nil); !errors.Is(err, ErrReadOnly) {
		t.Fatal(err)
	}
	if err := r.Begin(); !errors.Is(err, ErrReadOnly) {
		t.Fatal(err)
	}
	if _, err := r.Exec("CREATE TABLE t (a)"); !errors.Is(err, ErrReadOnly) {
		t.Fatal(err)
	}
	if rows := exec(t, r, "SELECT 1"); len(rows) != 1 {
		t.Fatal(rows)
	}
}

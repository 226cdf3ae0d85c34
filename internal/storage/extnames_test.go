package storage

import (
	"errors"
	"testing"
)

func TestExtendedErrorNames(t *testing.T) {
	s := memStore(t)
	exec(t, s, "CREATE TABLE t (id PRIMARY KEY, name NOT NULL)")
	exec(t, s, "INSERT INTO t VALUES (1, 'a')")
	_, err := s.Exec("INSERT INTO t VALUES (1, 'b')")
	wantErr(t, err, "Error", "UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_PRIMARYKEY)")
	_, err = s.Exec("INSERT INTO t VALUES (2, NULL)")
	wantErr(t, err, "Error", "NOT NULL constraint failed: t.name: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_NOTNULL)")
	// A primary code alone gets no extended name.
	_, err = s.Exec("SELECT * FROM nope")
	var e *Error
	if !errors.As(err, &e) || e.Message != "no such table: nope: SQLITE_ERROR" {
		t.Fatalf("got %v", err)
	}
}

// TestWorkerdDefaults checks connection settings workerd's objects have.
func TestWorkerdDefaults(t *testing.T) {
	s := memStore(t)
	if got := one(t, s, "PRAGMA foreign_keys"); got != int64(1) {
		t.Fatalf("foreign_keys = %v, want 1", got)
	}
	_, err := s.Exec("SELECT load_extension('x')")
	var e *Error
	if !errors.As(err, &e) || e.Message != "not authorized: SQLITE_ERROR" {
		t.Fatalf("load_extension: %v", err)
	}
}

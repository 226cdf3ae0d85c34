package storage

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func memStore(t testing.TB) *Store {
	t.Helper()
	s, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func diskStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "obj", "storage.sqlite"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// reopen closes s and opens its file again.
func reopen(t testing.TB, s *Store) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(s.Path(), s.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
}

// both runs f against an in-memory and an on-disk Store.
func both(t *testing.T, f func(t *testing.T, s *Store)) {
	t.Run("memory", func(t *testing.T) { f(t, memStore(t)) })
	t.Run("disk", func(t *testing.T) { f(t, diskStore(t)) })
}

func sp(s string) *string { return &s }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr checks that err is a user-facing *Error of the given JavaScript
// type whose message contains substr.
func wantErr(t testing.TB, err error, typ, substr string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want *Error %s containing %q", err, err, typ, substr)
	}
	if e.Type != typ || !strings.Contains(e.Message, substr) {
		t.Fatalf("got %s(%q), want %s containing %q", e.Type, e.Message, typ, substr)
	}
}

func get(t testing.TB, s *Store, key string) (string, bool) {
	t.Helper()
	v, ok, err := s.Get(key)
	must(t, err)
	return string(v), ok
}

func exec(t testing.TB, s *Store, q string, args ...any) [][]any {
	t.Helper()
	c, err := s.Exec(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	rows, err := c.All()
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return rows
}

// one runs a query that returns a single value.
func one(t testing.TB, s *Store, q string, args ...any) any {
	t.Helper()
	rows := exec(t, s, q, args...)
	if len(rows) != 1 || len(rows[0]) != 1 {
		t.Fatalf("%s: got %v, want one value", q, rows)
	}
	return rows[0][0]
}

package storage

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
)

func benchStore(b *testing.B, kind string) *Store {
	b.Helper()
	var s *Store
	var err error
	switch kind {
	case "memory":
		s, err = OpenMemory()
	case "disk":
		s, err = Open(filepath.Join(b.TempDir(), "db.sqlite"), Options{})
	case "disk-shared":
		s, err = Open(filepath.Join(b.TempDir(), "db.sqlite"), Options{Shared: true})
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

var benchKinds = []string{"memory", "disk", "disk-shared"}

// fill writes n keys of small values in one batch.
func fill(b *testing.B, s *Store, n int) {
	b.Helper()
	if err := s.Begin(); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := s.Put(fmt.Sprintf("key:%06d", i), []byte("a small serialized value")); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Commit(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkGet(b *testing.B) {
	for _, kind := range benchKinds {
		b.Run(kind, func(b *testing.B) {
			s := benchStore(b, kind)
			const n = 10000
			fill(b, s, n)
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("key:%06d", i)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, ok, err := s.Get(keys[i%n]); err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

func BenchmarkPutInBatch(b *testing.B) {
	for _, kind := range benchKinds {
		b.Run(kind, func(b *testing.B) {
			s := benchStore(b, kind)
			value := []byte("a small serialized value")
			keys := make([]string, 10000)
			for i := range keys {
				keys[i] = fmt.Sprintf("key:%06d", i)
			}
			if err := s.Begin(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if err := s.Put(keys[i%len(keys)], value); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if err := s.Commit(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

func BenchmarkSQLSelectOneRow(b *testing.B) {
	for _, kind := range benchKinds {
		b.Run(kind, func(b *testing.B) {
			s := benchStore(b, kind)
			if _, err := s.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)"); err != nil {
				b.Fatal(err)
			}
			s.Begin()
			for i := range 1000 {
				if _, err := s.Exec("INSERT INTO t VALUES (?, ?, ?)", i, fmt.Sprintf("name %d", i), float64(i)/3); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Commit(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				c, err := s.Exec("SELECT name, score FROM t WHERE id = ?", int64(i%1000))
				if err != nil {
					b.Fatal(err)
				}
				ok, err := c.Step()
				if err != nil || !ok {
					b.Fatal(ok, err)
				}
				_ = c.Text(0)
				_ = c.Float64(1)
				if ok, err := c.Step(); ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}

// BenchmarkCommit is one event-loop turn that writes one key: the cost of a
// durable commit (an fsync of the WAL on disk).
func BenchmarkCommit(b *testing.B) {
	for _, kind := range []string{"memory", "disk"} {
		b.Run(kind, func(b *testing.B) {
			s := benchStore(b, kind)
			value := []byte("a small serialized value #00000000")
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				// A new value every time: SQLite skips writing (and syncing)
				// a row rewritten with identical content.
				binary.BigEndian.PutUint64(value[len(value)-8:], uint64(i))
				s.Begin()
				if err := s.Put(fmt.Sprintf("key:%d", i%1000), value); err != nil {
					b.Fatal(err)
				}
				if err := s.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

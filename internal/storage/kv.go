package storage

import (
	"slices"
	"strings"

	sqlite3 "modernc.org/sqlite/lib"
)

// KV is one key-value pair. Values are opaque: the JavaScript side
// serializes them.
type KV struct {
	Key   string
	Value []byte
}

// The KV table, as workerd lays it out (src/workerd/util/sqlite-kv.h). It is
// created by the first write, so an object that only uses SQL never has it.
const kvSchema = `CREATE TABLE IF NOT EXISTS _cf_KV (
  key TEXT PRIMARY KEY,
  value BLOB
) WITHOUT ROWID`

type kvStmts struct {
	ready                bool
	get, put, del, count uintptr
	list                 [8]uintptr // by listVariant
}

func (k *kvStmts) finalize(s *Store) {
	for _, p := range append([]*uintptr{&k.get, &k.put, &k.del, &k.count}, ptrs(k.list[:])...) {
		if *p != 0 {
			sqlite3.Xsqlite3_finalize(s.tls, *p)
			*p = 0
		}
	}
	k.ready = false
}

func ptrs(a []uintptr) []*uintptr {
	out := make([]*uintptr, len(a))
	for i := range a {
		out[i] = &a[i]
	}
	return out
}

// loadTables notes which of the lazily created tables exist and prepares (or
// drops) their statements accordingly.
func (s *Store) loadTables() error {
	names, err := s.queryTrustedText("SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('_cf_KV', '_cf_METADATA')")
	if err != nil {
		return err
	}
	hasKV, hasMeta := slices.Contains(names, "_cf_KV"), slices.Contains(names, "_cf_METADATA")
	if hasKV && !s.kv.ready {
		if err := s.prepareKV(); err != nil {
			return err
		}
	} else if !hasKV && s.kv.ready {
		s.kv.finalize(s)
	}
	if hasMeta && !s.meta.ready {
		if err := s.prepareMeta(); err != nil {
			return err
		}
	} else if !hasMeta && s.meta.ready {
		s.meta.finalize(s)
	}
	return nil
}

func (s *Store) prepareKV() error {
	var err error
	k := &s.kv
	if k.get, err = s.prepareTrusted("SELECT value FROM _cf_KV WHERE key = ?"); err != nil {
		return err
	}
	if k.put, err = s.prepareTrusted("INSERT INTO _cf_KV VALUES(?, ?) ON CONFLICT DO UPDATE SET value = excluded.value"); err != nil {
		return err
	}
	if k.del, err = s.prepareTrusted("DELETE FROM _cf_KV WHERE key = ?"); err != nil {
		return err
	}
	if k.count, err = s.prepareTrusted("SELECT count(*) FROM _cf_KV"); err != nil {
		return err
	}
	k.ready = true
	return nil
}

// ensureKV creates the KV table if needed. Call after beforeWrite, so that
// the creation belongs to the current transaction.
func (s *Store) ensureKV() error {
	if s.kv.ready {
		return nil
	}
	if err := s.execTrusted(kvSchema); err != nil {
		return err
	}
	return s.prepareKV()
}

// Get returns the value stored under key.
func (s *Store) Get(key string) ([]byte, bool, error) {
	if err := s.check(); err != nil {
		return nil, false, err
	}
	if !s.kv.ready {
		return nil, false, nil
	}
	p, err := s.arena.reserve(s.tls, len(key))
	if err != nil {
		return nil, false, err
	}
	copyToC(p, key)
	st := s.kv.get
	if err := s.bindStatic(st, 1, p, len(key), false); err != nil {
		return nil, false, err
	}
	s.trusted = true
	switch rc := sqlite3.Xsqlite3_step(s.tls, st); rc {
	case sqlite3.SQLITE_ROW:
		v := s.columnBlob(st, 0)
		sqlite3.Xsqlite3_reset(s.tls, st)
		return v, true, nil
	case sqlite3.SQLITE_DONE:
		sqlite3.Xsqlite3_reset(s.tls, st)
		return nil, false, nil
	default:
		err := s.dbError(rc)
		sqlite3.Xsqlite3_reset(s.tls, st)
		return nil, false, err
	}
}

// GetMany returns the pairs stored under keys, sorted by key (workerd sorts
// too, so the JavaScript Map iterates in key order). Missing keys are left
// out. At most MaxBatchKeys keys.
func (s *Store) GetMany(keys []string) ([]KV, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if len(keys) > MaxBatchKeys {
		return nil, tooManyKeys()
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	out := make([]KV, 0, len(sorted))
	for _, k := range sorted {
		v, ok, err := s.Get(k)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, KV{k, v})
		}
	}
	return out, nil
}

// Put stores value under key.
func (s *Store) Put(key string, value []byte) error {
	if err := s.beforeWrite(); err != nil {
		return err
	}
	if err := s.ensureKV(); err != nil {
		return s.writeFailed(err)
	}
	return s.put(key, value)
}

func (s *Store) put(key string, value []byte) error {
	if len(key) > maxValue || len(value) > maxValue {
		return tooBig()
	}
	p, err := s.arena.reserve(s.tls, len(key)+len(value))
	if err != nil {
		return err
	}
	copyToC(p, key)
	copyBytesToC(p+uintptr(len(key)), value)
	st := s.kv.put
	if err := s.bindStatic(st, 1, p, len(key), false); err != nil {
		return err
	}
	if err := s.bindStatic(st, 2, p+uintptr(len(key)), len(value), true); err != nil {
		return err
	}
	if err := s.run(st); err != nil {
		return s.writeFailed(err)
	}
	return nil
}

// PutMany stores several pairs atomically. At most MaxBatchKeys pairs.
func (s *Store) PutMany(entries []KV) error {
	if len(entries) > MaxBatchKeys {
		return tooManyKeys()
	}
	if err := s.beforeWrite(); err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	if err := s.ensureKV(); err != nil {
		return s.writeFailed(err)
	}
	return s.atomic(func() error {
		for _, e := range entries {
			if err := s.put(e.Key, e.Value); err != nil {
				return err
			}
		}
		return nil
	})
}

// Delete deletes key and reports whether it existed.
func (s *Store) Delete(key string) (bool, error) {
	if err := s.beforeWrite(); err != nil {
		return false, err
	}
	if !s.kv.ready {
		return false, nil
	}
	return s.delete(key)
}

func (s *Store) delete(key string) (bool, error) {
	p, err := s.arena.reserve(s.tls, len(key))
	if err != nil {
		return false, err
	}
	copyToC(p, key)
	st := s.kv.del
	if err := s.bindStatic(st, 1, p, len(key), false); err != nil {
		return false, err
	}
	if err := s.run(st); err != nil {
		return false, s.writeFailed(err)
	}
	return sqlite3.Xsqlite3_changes64(s.tls, s.db) > 0, nil
}

// DeleteMany deletes keys atomically and returns how many existed. At most
// MaxBatchKeys keys.
func (s *Store) DeleteMany(keys []string) (int, error) {
	if len(keys) > MaxBatchKeys {
		return 0, tooManyKeys()
	}
	if err := s.beforeWrite(); err != nil {
		return 0, err
	}
	if !s.kv.ready || len(keys) == 0 {
		return 0, nil
	}
	n := 0
	err := s.atomic(func() error {
		for _, k := range keys {
			ok, err := s.delete(k)
			if err != nil {
				return err
			}
			if ok {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// ListOptions selects the keys List returns. Nil fields are unset, which
// matters: an End of "" is an empty range, a StartAfter of "" excludes the
// key "". The semantics are workerd's (DurableObjectStorageOperations::
// compileListOptions).
type ListOptions struct {
	Start      *string // first key, inclusive
	StartAfter *string // first key, exclusive; not together with Start
	End        *string // last key, exclusive
	Prefix     *string // only keys with this prefix
	// Reverse returns keys in descending order. It does not change what
	// Start and End mean: the range is the same, read from its end.
	Reverse bool
	// Limit is the most pairs to return; 0 means no limit. (The JavaScript
	// side must reject a limit of 0 or less: "List limit must be
	// positive.")
	Limit int
}

// compileList turns ListOptions into a key range [start, end). ok is false
// when the range is provably empty.
func compileList(o ListOptions) (start string, end *string, ok bool, err error) {
	if o.Start != nil {
		if o.StartAfter != nil {
			return "", nil, false, &Error{Type: "TypeError", Message: "list() cannot be called with both start and startAfter values."}
		}
		start = *o.Start
	}
	if o.StartAfter != nil {
		// The first key after startAfter is startAfter followed by a NUL.
		start = *o.StartAfter + "\x00"
	}
	if o.Limit < 0 {
		return "", nil, false, &Error{Type: "TypeError", Message: "List limit must be positive."}
	}
	end = o.End
	if o.Prefix != nil && *o.Prefix != "" {
		prefix := *o.Prefix
		if start < prefix {
			start = prefix
		} else if !strings.HasPrefix(start, prefix) {
			return "", nil, false, nil // start is after every key with the prefix
		}
		// The first key after every key with the prefix: drop trailing 0xff
		// bytes and increment the last byte left. A prefix of only 0xff
		// bytes has no such key.
		after := []byte(prefix)
		for len(after) > 0 && after[len(after)-1] == 0xff {
			after = after[:len(after)-1]
		}
		if len(after) > 0 {
			after[len(after)-1]++
			keyAfter := string(after)
			switch {
			case end == nil:
				end = &keyAfter
			case *end <= prefix:
				return "", nil, false, nil
			case strings.HasPrefix(*end, prefix):
				// end is within the prefix: keep it.
			default:
				end = &keyAfter
			}
		}
	}
	if end != nil && *end <= start {
		return "", nil, false, nil
	}
	return start, end, true, nil
}

var listSQL = [8]string{
	"SELECT key, value FROM _cf_KV WHERE key >= ?1 ORDER BY key",
	"SELECT key, value FROM _cf_KV WHERE key >= ?1 AND key < ?2 ORDER BY key",
	"SELECT key, value FROM _cf_KV WHERE key >= ?1 ORDER BY key LIMIT ?3",
	"SELECT key, value FROM _cf_KV WHERE key >= ?1 AND key < ?2 ORDER BY key LIMIT ?3",
	"SELECT key, value FROM _cf_KV WHERE key >= ?1 ORDER BY key DESC",
	"SELECT key, value FROM _cf_KV WHERE key >= ?1 AND key < ?2 ORDER BY key DESC",
	"SELECT key, value FROM _cf_KV WHERE key >= ?1 ORDER BY key DESC LIMIT ?3",
	"SELECT key, value FROM _cf_KV WHERE key >= ?1 AND key < ?2 ORDER BY key DESC LIMIT ?3",
}

// List returns the pairs in a key range, in key order (descending with
// Reverse).
func (s *Store) List(o ListOptions) ([]KV, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	start, end, ok, err := compileList(o)
	if err != nil || !ok || !s.kv.ready {
		return nil, err
	}
	v := 0
	if end != nil {
		v |= 1
	}
	if o.Limit > 0 {
		v |= 2
	}
	if o.Reverse {
		v |= 4
	}
	st := s.kv.list[v]
	if st == 0 {
		if st, err = s.prepareTrusted(listSQL[v]); err != nil {
			return nil, err
		}
		s.kv.list[v] = st
	}
	n := len(start)
	if end != nil {
		n += len(*end)
	}
	p, err := s.arena.reserve(s.tls, n)
	if err != nil {
		return nil, err
	}
	copyToC(p, start)
	if err := s.bindStatic(st, 1, p, len(start), false); err != nil {
		return nil, err
	}
	if end != nil {
		copyToC(p+uintptr(len(start)), *end)
		if err := s.bindStatic(st, 2, p+uintptr(len(start)), len(*end), false); err != nil {
			return nil, err
		}
	}
	if o.Limit > 0 {
		sqlite3.Xsqlite3_bind_int64(s.tls, st, 3, int64(o.Limit))
	}
	defer sqlite3.Xsqlite3_reset(s.tls, st)
	var out []KV
	for {
		s.trusted = true
		switch rc := sqlite3.Xsqlite3_step(s.tls, st); rc {
		case sqlite3.SQLITE_ROW:
			out = append(out, KV{s.columnText(st, 0), s.columnBlob(st, 1)})
		case sqlite3.SQLITE_DONE:
			return out, nil
		default:
			return nil, s.dbError(rc)
		}
	}
}

// Count returns the number of KV pairs.
func (s *Store) Count() (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if !s.kv.ready {
		return 0, nil
	}
	return s.queryInt(s.kv.count)
}

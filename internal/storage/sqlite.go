package storage

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// This file is the thin layer over SQLite's C API (as transpiled to Go by
// modernc.org/sqlite/lib). C memory is reached only through libc.GoBytes and
// libc.GoString so that no uintptr is converted to unsafe.Pointer here.

const ptrSize = int(unsafe.Sizeof(uintptr(0)))

// readPtr reads a C pointer stored at p.
func readPtr(p uintptr) uintptr {
	b := libc.GoBytes(p, ptrSize)
	if ptrSize == 8 {
		return uintptr(binary.NativeEndian.Uint64(b))
	}
	return uintptr(binary.NativeEndian.Uint32(b))
}

// cFuncPointer turns a top-level Go function into the "C function pointer"
// the transpiled SQLite expects (the representation modernc.org/sqlite itself
// uses for its callbacks). It must not be used on closures.
func cFuncPointer[T any](f T) uintptr {
	return *(*uintptr)(unsafe.Pointer(&struct{ f T }{f}))
}

// cbuf is a growable buffer in C memory.
type cbuf struct {
	p   uintptr
	cap int
}

// reserve makes the buffer at least n bytes long (its old content is lost).
// A buffer grown for one large value shrinks again on the next small use, so
// that an idle Store does not keep megabytes of C memory.
func (b *cbuf) reserve(tls *libc.TLS, n int) (uintptr, error) {
	const large, small = 256 << 10, 16 << 10
	if n <= b.cap && b.p != 0 && (b.cap <= large || n > small) {
		return b.p, nil
	}
	c := max(n, 2*b.cap, 256)
	if n <= small {
		c = max(n, 4096)
	}
	p := sqlite3.Xsqlite3_malloc64(tls, uint64(c))
	if p == 0 {
		return 0, fmt.Errorf("storage: out of memory allocating %d bytes", c)
	}
	if b.p != 0 {
		sqlite3.Xsqlite3_free(tls, b.p)
	}
	b.p, b.cap = p, c
	return p, nil
}

func (b *cbuf) free(tls *libc.TLS) {
	if b.p != 0 {
		sqlite3.Xsqlite3_free(tls, b.p)
		b.p, b.cap = 0, 0
	}
}

// put copies src into C memory at p.
func copyToC(p uintptr, src string) {
	if len(src) > 0 {
		copy(libc.GoBytes(p, len(src)), src)
	}
}

func copyBytesToC(p uintptr, src []byte) {
	if len(src) > 0 {
		copy(libc.GoBytes(p, len(src)), src)
	}
}

// SQLite's primary result codes by name, as workerd prints them after error
// messages ("not authorized: SQLITE_AUTH").
var rcNames = map[int32]string{
	sqlite3.SQLITE_OK:         "SQLITE_OK",
	sqlite3.SQLITE_ERROR:      "SQLITE_ERROR",
	sqlite3.SQLITE_INTERNAL:   "SQLITE_INTERNAL",
	sqlite3.SQLITE_PERM:       "SQLITE_PERM",
	sqlite3.SQLITE_ABORT:      "SQLITE_ABORT",
	sqlite3.SQLITE_BUSY:       "SQLITE_BUSY",
	sqlite3.SQLITE_LOCKED:     "SQLITE_LOCKED",
	sqlite3.SQLITE_NOMEM:      "SQLITE_NOMEM",
	sqlite3.SQLITE_READONLY:   "SQLITE_READONLY",
	sqlite3.SQLITE_INTERRUPT:  "SQLITE_INTERRUPT",
	sqlite3.SQLITE_IOERR:      "SQLITE_IOERR",
	sqlite3.SQLITE_CORRUPT:    "SQLITE_CORRUPT",
	sqlite3.SQLITE_NOTFOUND:   "SQLITE_NOTFOUND",
	sqlite3.SQLITE_FULL:       "SQLITE_FULL",
	sqlite3.SQLITE_CANTOPEN:   "SQLITE_CANTOPEN",
	sqlite3.SQLITE_PROTOCOL:   "SQLITE_PROTOCOL",
	sqlite3.SQLITE_EMPTY:      "SQLITE_EMPTY",
	sqlite3.SQLITE_SCHEMA:     "SQLITE_SCHEMA",
	sqlite3.SQLITE_TOOBIG:     "SQLITE_TOOBIG",
	sqlite3.SQLITE_CONSTRAINT: "SQLITE_CONSTRAINT",
	sqlite3.SQLITE_MISMATCH:   "SQLITE_MISMATCH",
	sqlite3.SQLITE_MISUSE:     "SQLITE_MISUSE",
	sqlite3.SQLITE_NOLFS:      "SQLITE_NOLFS",
	sqlite3.SQLITE_AUTH:       "SQLITE_AUTH",
	sqlite3.SQLITE_FORMAT:     "SQLITE_FORMAT",
	sqlite3.SQLITE_RANGE:      "SQLITE_RANGE",
	sqlite3.SQLITE_NOTADB:     "SQLITE_NOTADB",
	sqlite3.SQLITE_NOTICE:     "SQLITE_NOTICE",
	sqlite3.SQLITE_WARNING:    "SQLITE_WARNING",
	sqlite3.SQLITE_ROW:        "SQLITE_ROW",
	sqlite3.SQLITE_DONE:       "SQLITE_DONE",
}

func rcName(rc int32) string {
	if n, ok := rcNames[rc&0xff]; ok {
		return n
	}
	return fmt.Sprintf("SQLITE_UNKNOWN_ERROR_CODE(%d)", rc)
}

// dbError builds the error for a failed call on the connection, formatted
// like workerd: "<sqlite message>[ at offset N]: SQLITE_<CODE>".
func (s *Store) dbError(rc int32) error {
	if rc == sqlite3.SQLITE_AUTH && s.authErr != nil {
		err := s.authErr
		s.authErr = nil
		return err
	}
	s.authErr = nil
	msg := libc.GoString(sqlite3.Xsqlite3_errmsg(s.tls, s.db))
	if off := sqlite3.Xsqlite3_error_offset(s.tls, s.db); off >= 0 {
		msg = fmt.Sprintf("%s at offset %d", msg, off)
	}
	msg += ": " + rcName(rc)
	if ext, ok := extendedNames[rc]; ok {
		msg += " (extended: " + ext + ")"
	}
	return &Error{Type: "Error", Code: int(rc & 0xff), Message: msg}
}

// prepare compiles the first statement of sql[off:] (held in s.sqlBuf at
// base) and returns it with the offset at which the rest of the SQL starts.
// stmt is 0 when the remaining text holds no statement.
func (s *Store) prepareAt(base uintptr, n, off int, flags uint32) (stmt uintptr, tail int, err error) {
	out := s.outp
	rc := sqlite3.Xsqlite3_prepare_v3(s.tls, s.db, base+uintptr(off), int32(n-off), flags, out, out+uintptr(ptrSize))
	if rc != sqlite3.SQLITE_OK {
		return 0, 0, s.dbError(rc)
	}
	s.authErr = nil
	stmt = readPtr(out)
	t := readPtr(out + uintptr(ptrSize))
	return stmt, int(t - base), nil
}

// prepareTrusted compiles one internal statement (which the authorizer lets
// through) and keeps it for the life of the connection.
func (s *Store) prepareTrusted(sql string) (uintptr, error) {
	base, err := s.sqlBuf.reserve(s.tls, len(sql)+1)
	if err != nil {
		return 0, err
	}
	copyToC(base, sql)
	s.trusted = true
	stmt, _, err := s.prepareAt(base, len(sql), 0, sqlite3.SQLITE_PREPARE_PERSISTENT)
	if err != nil {
		return 0, fmt.Errorf("storage: preparing %q: %w", sql, err)
	}
	if stmt == 0 {
		return 0, fmt.Errorf("storage: %q holds no statement", sql)
	}
	return stmt, nil
}

// execTrusted runs internal SQL (possibly several statements) to completion.
func (s *Store) execTrusted(sql string) error {
	base, err := s.sqlBuf.reserve(s.tls, len(sql)+1)
	if err != nil {
		return err
	}
	copyToC(base, sql)
	for off := 0; off < len(sql); {
		s.trusted = true
		stmt, tail, err := s.prepareAt(base, len(sql), off, 0)
		if err != nil {
			return err
		}
		if stmt == 0 {
			break
		}
		for {
			rc := sqlite3.Xsqlite3_step(s.tls, stmt)
			if rc == sqlite3.SQLITE_ROW {
				continue
			}
			if rc != sqlite3.SQLITE_DONE {
				err = s.dbError(rc)
			}
			break
		}
		sqlite3.Xsqlite3_finalize(s.tls, stmt)
		if err != nil {
			return err
		}
		off = tail
	}
	return nil
}

// queryTrustedText runs one internal statement and returns the first column
// of every row as text.
func (s *Store) queryTrustedText(sql string) ([]string, error) {
	stmt, err := s.prepareTrusted(sql)
	if err != nil {
		return nil, err
	}
	defer sqlite3.Xsqlite3_finalize(s.tls, stmt)
	var out []string
	for {
		s.trusted = true
		rc := sqlite3.Xsqlite3_step(s.tls, stmt)
		switch rc {
		case sqlite3.SQLITE_ROW:
			out = append(out, s.columnText(stmt, 0))
		case sqlite3.SQLITE_DONE:
			return out, nil
		default:
			return out, s.dbError(rc)
		}
	}
}

// run steps an internal statement that returns no rows, then resets it.
func (s *Store) run(stmt uintptr) error {
	s.trusted = true
	rc := sqlite3.Xsqlite3_step(s.tls, stmt)
	var err error
	if rc != sqlite3.SQLITE_DONE && rc != sqlite3.SQLITE_ROW {
		err = s.dbError(rc)
	}
	sqlite3.Xsqlite3_reset(s.tls, stmt)
	return err
}

func (s *Store) columnText(stmt uintptr, i int32) string {
	p := sqlite3.Xsqlite3_column_text(s.tls, stmt, i)
	n := sqlite3.Xsqlite3_column_bytes(s.tls, stmt, i)
	if p == 0 || n == 0 {
		return ""
	}
	return string(libc.GoBytes(p, int(n)))
}

func (s *Store) columnBlob(stmt uintptr, i int32) []byte {
	p := sqlite3.Xsqlite3_column_blob(s.tls, stmt, i)
	n := sqlite3.Xsqlite3_column_bytes(s.tls, stmt, i)
	if p == 0 || n == 0 {
		return []byte{}
	}
	return append([]byte(nil), libc.GoBytes(p, int(n))...)
}

// maxValue is far above SQLite's length limit (SQLITE_LIMIT_LENGTH), which
// rejects anything between the two; beyond it a length would not fit the
// C API's int.
const maxValue = 1 << 30

func tooBig() error {
	return &Error{Type: "Error", Code: sqlite3.SQLITE_TOOBIG, Message: "string or blob too big: SQLITE_TOOBIG"}
}

// bindStatic binds text or a blob held in C memory (SQLITE_STATIC: the
// memory must stay unchanged until the statement is reset).
func (s *Store) bindStatic(stmt uintptr, i int32, p uintptr, n int, blob bool) error {
	if n > maxValue {
		return tooBig()
	}
	var rc int32
	if blob {
		rc = sqlite3.Xsqlite3_bind_blob(s.tls, stmt, i, p, int32(n), 0)
	} else {
		rc = sqlite3.Xsqlite3_bind_text(s.tls, stmt, i, p, int32(n), 0)
	}
	if rc != sqlite3.SQLITE_OK {
		return s.dbError(rc)
	}
	return nil
}

// dbConfig sets a boolean sqlite3_db_config option.
func (s *Store) dbConfig(op int32, on bool) error {
	v := int32(0)
	if on {
		v = 1
	}
	bp, err := s.vaBuf.reserve(s.tls, 16)
	if err != nil {
		return err
	}
	if rc := sqlite3.Xsqlite3_db_config(s.tls, s.db, op, libc.VaList(bp, v, uintptr(0))); rc != sqlite3.SQLITE_OK {
		return s.dbError(rc)
	}
	return nil
}

// shrinkLookaside gives the connection a small lookaside allocator. SQLite's
// default reserves 120 KB per connection for small allocations; with one
// connection per live object that would be most of an idle object's memory.
// It must run before the connection allocates (SQLITE_BUSY otherwise, which
// leaves the default in place).
func (s *Store) shrinkLookaside(slotSize, slots int32) {
	bp, err := s.vaBuf.reserve(s.tls, 24)
	if err != nil {
		return
	}
	sqlite3.Xsqlite3_db_config(s.tls, s.db, sqlite3.SQLITE_DBCONFIG_LOOKASIDE, libc.VaList(bp, uintptr(0), slotSize, slots))
}

package storage

import (
	"fmt"
	"math"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Exec runs user SQL (ctx.storage.sql.exec). The query may hold several
// statements: all but the last run at once, and must take no bindings; the
// last one gets args and its rows are returned through the cursor (workerd's
// semantics). The first step runs before Exec returns, so a write happens
// even if the cursor is never read, and an error surfaces here.
//
// Bindings may be string, []byte, int64, int, float64, bool (stored as 0 or
// 1) or nil. Statements are checked by an authorizer: transactions,
// savepoints, ATTACH, most PRAGMAs, non-allow-listed functions and any access
// to tables named _cf_* are refused (see authorizer.go). Single-statement
// queries are compiled once and cached.
//
// The cursor holds a SQLite statement until it is exhausted or closed:
// close cursors you abandon (a JavaScript FinalizationRegistry works).
func (s *Store) Exec(query string, args ...any) (*Cursor, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	c := &Cursor{s: s}
	if e := s.cache.get(query); e != nil && !e.busy {
		e.busy = true
		c.entry = e
		c.st = e.st
		c.modifies = e.modifies
		sqlite3.Xsqlite3_stmt_status(s.tls, c.st, sqlite3.SQLITE_STMTSTATUS_FULLSCAN_STEP, 1)
	} else {
		st, single, err := s.prepareUser(query)
		if err != nil {
			return nil, err
		}
		c.st = st
		c.modifies = s.prepModifies
		if single && e == nil {
			c.entry = s.cache.add(s, query, st)
			c.entry.busy = true
			c.entry.modifies = c.modifies
		}
	}
	if err := c.start(args); err != nil {
		return nil, err
	}
	return c, nil
}

// prepareUser compiles query, running every statement before the last.
// single reports whether the query was one statement.
func (s *Store) prepareUser(query string) (st uintptr, single bool, err error) {
	base, err := s.userSQL.reserve(s.tls, len(query)+1)
	if err != nil {
		return 0, false, err
	}
	copyToC(base, query)
	for off, first := 0, true; ; first = false {
		s.trusted = false
		s.prepModifies = false
		flags := uint32(0)
		if first {
			flags = sqlite3.SQLITE_PREPARE_PERSISTENT
		}
		st, tail, err := s.prepareAt(base, len(query), off, flags)
		if err != nil {
			return 0, false, err
		}
		if st == 0 {
			return 0, false, &Error{Type: "Error", Message: "SQL code did not contain a statement."}
		}
		for tail < len(query) && isSpace(query[tail]) {
			tail++
		}
		if tail == len(query) {
			return st, first, nil
		}
		// Not the last statement: run it now, discarding any rows.
		if sqlite3.Xsqlite3_bind_parameter_count(s.tls, st) != 0 {
			sqlite3.Xsqlite3_finalize(s.tls, st)
			return 0, false, &Error{Type: "Error", Message: "When executing multiple SQL statements in a single call, only the last statement can have parameters."}
		}
		if sqlite3.Xsqlite3_stmt_readonly(s.tls, st) == 0 {
			if err := s.beforeWrite(); err != nil {
				sqlite3.Xsqlite3_finalize(s.tls, st)
				return 0, false, err
			}
		}
		s.trusted = false
		rc := sqlite3.Xsqlite3_step(s.tls, st)
		if rc != sqlite3.SQLITE_ROW && rc != sqlite3.SQLITE_DONE {
			err := s.dbError(rc)
			sqlite3.Xsqlite3_finalize(s.tls, st)
			return 0, false, s.writeFailed(err)
		}
		sqlite3.Xsqlite3_finalize(s.tls, st)
		off = tail
	}
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
}

// Type is the SQLite type of a column value.
type Type int

const (
	Integer Type = sqlite3.SQLITE_INTEGER
	Float   Type = sqlite3.SQLITE_FLOAT
	Text    Type = sqlite3.SQLITE_TEXT
	Blob    Type = sqlite3.SQLITE_BLOB
	Null    Type = sqlite3.SQLITE_NULL
)

// Cursor iterates the rows of an Exec. Rows are read lazily, one Step at a
// time. Values are int64 (INTEGER), float64 (REAL), string (TEXT), []byte
// (BLOB) or nil (NULL).
type Cursor struct {
	s     *Store
	st    uintptr
	entry *cacheEntry // nil: the statement is this cursor's own

	pending bool // the first row was stepped by Exec and not yet returned
	onRow   bool // the statement is positioned on a row
	done    bool // finished: no statement held any more
	err     error

	cols    []string
	buf     [][]any // rows read ahead by drain
	bufRow  []any   // current buffered row
	fromBuf bool

	returned    int64
	fullScan    int64
	rowsWritten int64
	modifies    bool // UPDATE or DELETE: the rows written were read

	prev, next *Cursor
}

// start binds args and takes the first step.
func (c *Cursor) start(args []any) error {
	s := c.s
	n := int(sqlite3.Xsqlite3_bind_parameter_count(s.tls, c.st))
	if n != len(args) {
		c.release()
		return &Error{Type: "Error", Message: "Wrong number of parameter bindings for SQL query."}
	}
	for i, a := range args {
		if err := s.bindArg(c.st, int32(i+1), a); err != nil {
			c.release()
			return err
		}
	}
	if sqlite3.Xsqlite3_stmt_readonly(s.tls, c.st) == 0 {
		if err := s.beforeWrite(); err != nil {
			c.release()
			return err
		}
	}
	c.link()
	rc := c.rawStep()
	// Column names are read after the first step, which re-prepares the
	// statement if the schema changed, and before the statement is reset, so
	// that they stay available after the cursor is exhausted.
	if rc == sqlite3.SQLITE_ROW || rc == sqlite3.SQLITE_DONE {
		c.cols = s.columnNames(c)
	}
	ok, err := c.handle(rc)
	if err != nil {
		return err
	}
	c.pending = ok
	return nil
}

func (s *Store) bindArg(st uintptr, i int32, a any) error {
	var rc int32
	switch v := a.(type) {
	case nil:
		rc = sqlite3.Xsqlite3_bind_null(s.tls, st, i)
	case int64:
		rc = sqlite3.Xsqlite3_bind_int64(s.tls, st, i, v)
	case int:
		rc = sqlite3.Xsqlite3_bind_int64(s.tls, st, i, int64(v))
	case float64:
		rc = sqlite3.Xsqlite3_bind_double(s.tls, st, i, v)
	case bool:
		b := int64(0)
		if v {
			b = 1
		}
		rc = sqlite3.Xsqlite3_bind_int64(s.tls, st, i, b)
	case string:
		if len(v) > maxValue {
			return tooBig()
		}
		p, err := s.arena.reserve(s.tls, len(v))
		if err != nil {
			return err
		}
		copyToC(p, v)
		rc = sqlite3.Xsqlite3_bind_text(s.tls, st, i, p, int32(len(v)), transient)
	case []byte:
		if len(v) > maxValue {
			return tooBig()
		}
		p, err := s.arena.reserve(s.tls, len(v))
		if err != nil {
			return err
		}
		copyBytesToC(p, v)
		rc = sqlite3.Xsqlite3_bind_blob(s.tls, st, i, p, int32(len(v)), transient)
	default:
		return &Error{Type: "TypeError", Message: fmt.Sprintf("unsupported SQL binding type %T", a)}
	}
	if rc != sqlite3.SQLITE_OK {
		return s.dbError(rc)
	}
	return nil
}

func (s *Store) columnNames(c *Cursor) []string {
	if c.entry != nil {
		// Column names change only when the statement is re-prepared
		// (for example "SELECT *" after ALTER TABLE).
		rp := int64(sqlite3.Xsqlite3_stmt_status(s.tls, c.st, sqlite3.SQLITE_STMTSTATUS_REPREPARE, 0))
		if c.entry.colsValid && c.entry.reprepare == rp {
			return c.entry.cols
		}
		c.entry.cols = readColumnNames(s, c.st)
		c.entry.colsValid, c.entry.reprepare = true, rp
		return c.entry.cols
	}
	return readColumnNames(s, c.st)
}

func readColumnNames(s *Store, st uintptr) []string {
	n := int(sqlite3.Xsqlite3_column_count(s.tls, st))
	cols := make([]string, n)
	for i := range cols {
		cols[i] = libc.GoString(sqlite3.Xsqlite3_column_name(s.tls, st, int32(i)))
	}
	return cols
}

// step advances the statement.
func (c *Cursor) step() (bool, error) { return c.handle(c.rawStep()) }

// rawStep steps the statement, accounting rows read and written.
func (c *Cursor) rawStep() int32 {
	s := c.s
	before := sqlite3.Xsqlite3_total_changes64(s.tls, s.db)
	s.trusted = false
	rc := sqlite3.Xsqlite3_step(s.tls, c.st)
	c.rowsWritten += sqlite3.Xsqlite3_total_changes64(s.tls, s.db) - before
	c.fullScan = int64(sqlite3.Xsqlite3_stmt_status(s.tls, c.st, sqlite3.SQLITE_STMTSTATUS_FULLSCAN_STEP, 0))
	return rc
}

// handle interprets a step's result code.
func (c *Cursor) handle(rc int32) (bool, error) {
	s := c.s
	switch rc {
	case sqlite3.SQLITE_ROW:
		c.returned++
		c.onRow = true
		return true, nil
	case sqlite3.SQLITE_DONE:
		c.onRow = false
		c.finish()
		return false, nil
	default:
		err := s.dbError(rc)
		if sqlite3.Xsqlite3_stmt_readonly(s.tls, c.st) == 0 {
			err = s.writeFailed(err)
		}
		c.onRow = false
		c.err = err
		c.finish()
		return false, err
	}
}

// Columns returns the result's column names (empty for statements that
// return no rows). They stay available after the cursor is exhausted.
func (c *Cursor) Columns() []string { return c.cols }

// Step advances to the next row and reports whether there is one; the row's
// values are then read with Value, Type, Int64, Float64, Text and Blob.
func (c *Cursor) Step() (bool, error) {
	c.fromBuf = false
	if c.pending {
		c.pending = false
		return true, nil
	}
	if c.buf != nil {
		if len(c.buf) == 0 {
			c.buf = nil
			return false, c.err
		}
		c.bufRow, c.buf = c.buf[0], c.buf[1:]
		c.fromBuf = true
		return true, nil
	}
	if c.done {
		return false, c.err
	}
	return c.step()
}

// Next advances and returns the row as a fresh slice; ok is false at the end.
//
// Like workerd's cursor, Next reads one row ahead: when the row it returns
// is the last, the statement is released at once, even if the caller never
// asks for the end (the common exec(...).one() pattern). An error met while
// reading ahead is returned by the following call.
func (c *Cursor) Next() (row []any, ok bool, err error) {
	if ok, err = c.Step(); !ok {
		return nil, false, err
	}
	row = c.Row()
	if !c.fromBuf && !c.done {
		ok, _ := c.step()
		c.pending = ok
	}
	return row, true, nil
}

// Row returns the current row's values.
func (c *Cursor) Row() []any {
	if c.fromBuf {
		return c.bufRow
	}
	row := make([]any, len(c.cols))
	for i := range row {
		row[i] = c.Value(i)
	}
	return row
}

// All reads the remaining rows.
func (c *Cursor) All() ([][]any, error) {
	var rows [][]any
	for {
		row, ok, err := c.Next()
		if err != nil {
			return rows, err
		}
		if !ok {
			return rows, nil
		}
		rows = append(rows, row)
	}
}

func (c *Cursor) live() bool { return !c.fromBuf && c.onRow && !c.done }

// Type returns the type of column i of the current row.
func (c *Cursor) Type(i int) Type {
	if !c.live() {
		switch c.Value(i).(type) {
		case int64:
			return Integer
		case float64:
			return Float
		case string:
			return Text
		case []byte:
			return Blob
		}
		return Null
	}
	return Type(sqlite3.Xsqlite3_column_type(c.s.tls, c.st, int32(i)))
}

// Value returns column i of the current row.
func (c *Cursor) Value(i int) any {
	if c.fromBuf {
		if i < len(c.bufRow) {
			return c.bufRow[i]
		}
		return nil
	}
	if !c.live() || i < 0 || i >= len(c.cols) {
		return nil
	}
	s := c.s
	switch sqlite3.Xsqlite3_column_type(s.tls, c.st, int32(i)) {
	case sqlite3.SQLITE_INTEGER:
		return sqlite3.Xsqlite3_column_int64(s.tls, c.st, int32(i))
	case sqlite3.SQLITE_FLOAT:
		return sqlite3.Xsqlite3_column_double(s.tls, c.st, int32(i))
	case sqlite3.SQLITE_TEXT:
		return s.columnText(c.st, int32(i))
	case sqlite3.SQLITE_BLOB:
		return s.columnBlob(c.st, int32(i))
	}
	return nil
}

// Int64 returns column i of the current row as an integer (SQLite's
// conversion rules apply to other types).
func (c *Cursor) Int64(i int) int64 {
	if c.live() {
		return sqlite3.Xsqlite3_column_int64(c.s.tls, c.st, int32(i))
	}
	switch v := c.Value(i).(type) {
	case int64:
		return v
	case float64:
		if v >= math.MinInt64 && v < math.MaxInt64 {
			return int64(v)
		}
	}
	return 0
}

// Float64 returns column i of the current row as a float.
func (c *Cursor) Float64(i int) float64 {
	if c.live() {
		return sqlite3.Xsqlite3_column_double(c.s.tls, c.st, int32(i))
	}
	switch v := c.Value(i).(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

// Text returns column i of the current row as a string.
func (c *Cursor) Text(i int) string {
	if c.live() {
		return c.s.columnText(c.st, int32(i))
	}
	switch v := c.Value(i).(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

// Blob returns column i of the current row as bytes (a copy).
func (c *Cursor) Blob(i int) []byte {
	if c.live() {
		return c.s.columnBlob(c.st, int32(i))
	}
	switch v := c.Value(i).(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return nil
}

// RowsRead approximates the rows the statement read: the largest of the rows
// it returned, the rows it visited in full table scans and, for UPDATE and
// DELETE, the rows it changed. (workerd counts every row a cursor visits
// with a counter patched into its SQLite; stock SQLite has no such counter,
// so rows an index lookup skips over are not counted.)
func (c *Cursor) RowsRead() int64 {
	n := max(c.returned, c.fullScan)
	if c.modifies {
		n = max(n, c.rowsWritten)
	}
	return n
}

// RowsWritten is the number of rows the statement inserted, updated or
// deleted, including those changed by triggers. (workerd also counts index
// entries.)
func (c *Cursor) RowsWritten() int64 { return c.rowsWritten }

// Close releases the cursor's statement. Closing an exhausted or closed
// cursor does nothing.
func (c *Cursor) Close() {
	c.pending = false
	c.buf, c.bufRow, c.fromBuf = nil, nil, false
	if !c.done {
		c.finish()
	}
}

// finish releases the statement and marks the cursor done.
func (c *Cursor) finish() {
	if c.done {
		return
	}
	c.done = true
	c.unlink()
	c.release()
}

// release gives the statement back (to the cache, or finalizes it).
func (c *Cursor) release() {
	s := c.s
	if c.st == 0 {
		return
	}
	if c.entry != nil {
		sqlite3.Xsqlite3_reset(s.tls, c.st)
		sqlite3.Xsqlite3_clear_bindings(s.tls, c.st)
		c.entry.busy = false
		if c.entry.evicted {
			sqlite3.Xsqlite3_finalize(s.tls, c.st)
		}
		c.entry = nil
	} else {
		sqlite3.Xsqlite3_finalize(s.tls, c.st)
	}
	c.st = 0
}

// invalidate ends the cursor because its database went away.
func (c *Cursor) invalidate(reason string) {
	c.pending = false
	c.buf, c.fromBuf = nil, false
	if !c.done {
		c.err = &Error{Type: "Error", Message: reason}
		c.finish()
	}
}

func (c *Cursor) link() {
	s := c.s
	c.next = s.cursors
	if s.cursors != nil {
		s.cursors.prev = c
	}
	s.cursors = c
}

func (c *Cursor) unlink() {
	s := c.s
	if c.prev != nil {
		c.prev.next = c.next
	} else if s.cursors == c {
		s.cursors = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next = nil, nil
}

// drain reads the cursor's remaining rows into memory and releases its
// statement.
func (c *Cursor) drain() {
	var rows [][]any
	if c.pending {
		c.pending = false
		rows = append(rows, c.Row())
	}
	for !c.done {
		ok, _ := c.step()
		if !ok {
			break
		}
		rows = append(rows, c.Row())
	}
	c.onRow = false
	if rows == nil {
		rows = [][]any{}
	}
	c.buf = rows
}

// drainWriteCursors finishes the statements of open cursors that write
// (INSERT ... RETURNING read lazily): SQLite cannot commit while one is
// still running. Their remaining rows stay readable.
func (s *Store) drainWriteCursors() {
	for c := s.cursors; c != nil; {
		next := c.next
		if c.st != 0 && sqlite3.Xsqlite3_stmt_readonly(s.tls, c.st) == 0 && sqlite3.Xsqlite3_stmt_busy(s.tls, c.st) != 0 {
			c.drain()
		}
		c = next
	}
}

// ---------------------------------------------------------------------------
// Statement cache

// stmtCacheMaxSQL bounds the cache by the total length of the cached SQL,
// as workerd does (1 MiB); stmtCacheMaxEntries bounds the number of
// compiled statements.
const (
	stmtCacheMaxSQL     = 1 << 20
	stmtCacheMaxEntries = 256
)

type cacheEntry struct {
	query      string
	st         uintptr
	busy       bool // a cursor is using it
	evicted    bool
	modifies   bool
	cols       []string
	colsValid  bool
	reprepare  int64
	prev, next *cacheEntry // LRU list, most recent first
}

type stmtCache struct {
	m          map[string]*cacheEntry
	head, tail *cacheEntry
	size       int
}

func (c *stmtCache) get(q string) *cacheEntry {
	e := c.m[q]
	if e != nil && c.head != e {
		c.remove(e)
		c.pushFront(e)
	}
	return e
}

func (c *stmtCache) add(s *Store, q string, st uintptr) *cacheEntry {
	if c.m == nil {
		c.m = map[string]*cacheEntry{}
	}
	e := &cacheEntry{query: q, st: st}
	c.m[q] = e
	c.pushFront(e)
	c.size += len(q)
	for (c.size > stmtCacheMaxSQL || len(c.m) > stmtCacheMaxEntries) && c.tail != e {
		c.evict(s, c.tail)
	}
	return e
}

func (c *stmtCache) evict(s *Store, e *cacheEntry) {
	c.remove(e)
	delete(c.m, e.query)
	c.size -= len(e.query)
	if e.busy {
		e.evicted = true // finalized by its cursor
	} else {
		sqlite3.Xsqlite3_finalize(s.tls, e.st)
	}
}

func (c *stmtCache) clear(s *Store) {
	for c.tail != nil {
		c.evict(s, c.tail)
	}
}

func (c *stmtCache) pushFront(e *cacheEntry) {
	e.prev, e.next = nil, c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
	if c.tail == nil {
		c.tail = e
	}
}

func (c *stmtCache) remove(e *cacheEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Options configures Open.
type Options struct {
	// ReadOnly opens an existing database without write access: for
	// operators inspecting an object. Writes fail with ErrReadOnly.
	ReadOnly bool
	// Shared gives up the exclusive lock a Store normally holds while open,
	// so that other connections (an operator's read-only Store, another
	// process) can read the database meanwhile. Reads get slower, and
	// nothing stops a second writer any more: the caller must guarantee
	// there is only one.
	Shared bool
	// BusyTimeout is how long to wait for a lock held by another connection
	// before failing with "database is locked". Zero means 5 seconds.
	BusyTimeout time.Duration
	// Facet marks the database of a facet: SetAlarm fails as in workerd,
	// where facets cannot set alarms.
	Facet bool
	// OnAlarmChange, if set, is called (on the Store's goroutine) after a
	// commit that may have changed the durable alarm, with the alarm now on
	// disk; ok is false when no alarm is set. The alarm scheduler should
	// rely only on these calls: an alarm set in a batch that is then rolled
	// back never reaches it. It can be called when nothing changed.
	OnAlarmChange func(t time.Time, ok bool)
	// DeferSync lets Commit return once the batch is in the WAL, before it
	// is fsynced; Syncer then gives the fsync to run off the Store's
	// goroutine. The runtime uses it to keep running an object's events
	// while its last commit reaches the disk, holding back every message
	// that could reveal the commit until the fsync is done (an output gate,
	// as in workerd). A crash of the process loses nothing either way: the
	// WAL write happened before Commit returned. Writes outside a batch are
	// still fsynced before they return.
	DeferSync bool
}

// Store is one Durable Object's (or one facet's) database. See the package
// documentation for its transaction model and for why it must be used by one
// goroutine at a time.
type Store struct {
	path   string // "" for an in-memory database
	opts   Options
	tls    *libc.TLS
	db     uintptr
	closed bool

	authHandle uintptr
	trusted    bool // the statement being prepared or stepped is internal
	// prepModifies is set by the authorizer when the statement being
	// prepared updates or deletes rows.
	prepModifies bool
	authErr      error // tailored message recorded by the authorizer

	outp    uintptr // two pointer-sized out-parameters for sqlite3_prepare_v3
	arena   cbuf    // bindings of internal statements (SQLITE_STATIC)
	sqlBuf  cbuf    // internal SQL text being prepared
	userSQL cbuf    // user SQL being prepared (Exec), which may run internal statements meanwhile
	vaBuf   cbuf    // varargs for sqlite3_db_config

	// Transaction state. batch: between Begin and Commit/Rollback. txOpen:
	// the batch's BEGIN has been issued (on its first write). depth: open
	// savepoints (TransactionSync, Txn, atomic multi-key writes).
	batch  bool
	txOpen bool
	depth  int

	stBegin, stCommit, stRollback uintptr
	// With Options.DeferSync: a batch's transaction runs at
	// synchronous=NORMAL (its COMMIT does not fsync), any other write at
	// FULL; the level can change only between transactions, so it is set
	// as each one begins (beforeWrite).
	stSyncNormal, stSyncFull uintptr
	syncLevel                int // syncFull or syncNormal
	// commits counts deferred COMMITs, handed how many of them the last
	// Syncer covers, synced how many an fsync covered. An fsync covers
	// every COMMIT made before it began, so a Syncer whose commits a later
	// fsync covered has nothing to do.
	commits, synced    atomic.Int64
	handed             int64
	spStmts            [][3]uintptr // per depth: SAVEPOINT, RELEASE, ROLLBACK TO
	stSize, stPageSize uintptr

	kv         kvStmts
	meta       metaStmts
	alarmDirty bool

	cache   stmtCache
	cursors *Cursor // open cursors, an intrusive list

	intrMu  sync.Mutex
	intrTLS *libc.TLS

	onClose func() // set by Namespace
}

const (
	spBegin = iota
	spRelease
	spRollback
)

// transient is SQLITE_TRANSIENT: SQLite copies the bound value.
const transient = ^uintptr(0)

// Open opens (creating it and its directories if needed) the database at
// path.
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("storage: empty path")
	}
	var created []string
	if !opts.ReadOnly {
		var err error
		if created, err = mkdirAll(filepath.Dir(path)); err != nil {
			return nil, err
		}
	}
	_, statErr := os.Stat(path)
	isNew := errors.Is(statErr, os.ErrNotExist)
	if opts.ReadOnly && isNew {
		return nil, fmt.Errorf("storage: %s: %w", path, os.ErrNotExist)
	}
	s := &Store{path: path, opts: opts}
	if err := s.open(); err != nil {
		return nil, err
	}
	if isNew && !opts.ReadOnly {
		// SQLite fsyncs the directory when it creates the WAL, not when it
		// creates the database file: make the new file's (and new
		// directories') names durable before any commit is acknowledged.
		dirs := append([]string{filepath.Dir(path)}, parents(created)...)
		for _, d := range dirs {
			if err := syncDir(d); err != nil {
				s.Close()
				return nil, err
			}
		}
	}
	return s, nil
}

// OpenMemory opens a private in-memory database: for tests, and for objects
// whose storage need not outlive the process.
func OpenMemory() (*Store, error) {
	s := &Store{}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

// Path is the database file, or "" for an in-memory Store.
func (s *Store) Path() string { return s.path }

func (s *Store) open() error {
	if s.tls == nil {
		s.tls = libc.NewTLS()
	}
	name := ":memory:"
	flags := int32(sqlite3.SQLITE_OPEN_READWRITE | sqlite3.SQLITE_OPEN_CREATE)
	if s.path != "" {
		name = s.path
		if s.opts.ReadOnly {
			flags = sqlite3.SQLITE_OPEN_READONLY
		}
	}
	flags |= sqlite3.SQLITE_OPEN_NOMUTEX | sqlite3.SQLITE_OPEN_EXRESCODE
	cname, err := s.sqlBuf.reserve(s.tls, len(name)+1)
	if err == nil {
		_, err = s.arena.reserve(s.tls, 4096)
	}
	if err == nil && s.outp == 0 {
		if s.outp = sqlite3.Xsqlite3_malloc64(s.tls, uint64(2*ptrSize)); s.outp == 0 {
			err = errors.New("storage: out of memory")
		}
	}
	if err != nil {
		s.release()
		return err
	}
	copyToC(cname, name)
	libc.GoBytes(cname+uintptr(len(name)), 1)[0] = 0
	rc := sqlite3.Xsqlite3_open_v2(s.tls, cname, s.outp, flags, 0)
	s.db = readPtr(s.outp)
	if rc != sqlite3.SQLITE_OK {
		err := fmt.Errorf("storage: opening %s: %s", name, libc.GoString(sqlite3.Xsqlite3_errstr(s.tls, rc)))
		if s.db != 0 {
			err = fmt.Errorf("storage: opening %s: %w", name, s.dbError(rc))
			sqlite3.Xsqlite3_close_v2(s.tls, s.db)
			s.db = 0
		}
		s.release()
		return err
	}
	if err := s.setup(); err != nil {
		s.shutdown("")
		sqlite3.Xsqlite3_close_v2(s.tls, s.db)
		s.db = 0
		s.release()
		if s.path != "" {
			return fmt.Errorf("storage: opening %s: %w", s.path, err)
		}
		return err
	}
	return nil
}

// setup configures a freshly opened connection.
func (s *Store) setup() error {
	s.shrinkLookaside(128, 64)
	timeout := s.opts.BusyTimeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	sqlite3.Xsqlite3_busy_timeout(s.tls, s.db, int32(timeout/time.Millisecond))
	if s.path != "" && !s.opts.ReadOnly {
		if !s.opts.Shared {
			// Must precede journal_mode=WAL: the WAL index then lives in
			// heap memory and no -shm file is used.
			if err := s.execTrusted("PRAGMA locking_mode=EXCLUSIVE"); err != nil {
				return err
			}
		}
		mode, err := s.queryTrustedText("PRAGMA journal_mode=WAL")
		if err != nil {
			return err
		}
		if len(mode) != 1 || mode[0] != "wal" {
			return fmt.Errorf("storage: cannot enable WAL mode (journal_mode is %v)", mode)
		}
		if err := s.execTrusted("PRAGMA synchronous=FULL"); err != nil {
			return err
		}
	}
	// workerd turns foreign key enforcement on for every object.
	if err := s.execTrusted("PRAGMA foreign_keys=ON"); err != nil {
		return err
	}
	// Security settings, as workerd (and https://www.sqlite.org/security.html).
	if err := s.dbConfig(sqlite3.SQLITE_DBCONFIG_DEFENSIVE, true); err != nil {
		return err
	}
	for _, l := range [...]struct{ id, v int32 }{
		{sqlite3.SQLITE_LIMIT_LENGTH, 2200000}, // a 2 MB value plus some room
		{sqlite3.SQLITE_LIMIT_SQL_LENGTH, 100000},
		{sqlite3.SQLITE_LIMIT_COLUMN, 100},
		{sqlite3.SQLITE_LIMIT_EXPR_DEPTH, 100},
		{sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, 5},
		{sqlite3.SQLITE_LIMIT_VDBE_OP, 25000},
		{sqlite3.SQLITE_LIMIT_FUNCTION_ARG, 127},
		{sqlite3.SQLITE_LIMIT_ATTACHED, 0},
		{sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 50},
		{sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100},
		{sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH, 10},
		{sqlite3.SQLITE_LIMIT_WORKER_THREADS, 0},
	} {
		sqlite3.Xsqlite3_limit(s.tls, s.db, l.id, l.v)
	}
	var err error
	if s.stBegin, err = s.prepareTrusted("BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if s.stCommit, err = s.prepareTrusted("COMMIT"); err != nil {
		return err
	}
	if s.stRollback, err = s.prepareTrusted("ROLLBACK"); err != nil {
		return err
	}
	if s.opts.DeferSync && s.path != "" && !s.opts.ReadOnly {
		if s.stSyncNormal, err = s.prepareTrusted("PRAGMA synchronous=NORMAL"); err != nil {
			return err
		}
		if s.stSyncFull, err = s.prepareTrusted("PRAGMA synchronous=FULL"); err != nil {
			return err
		}
	}
	if err := s.loadTables(); err != nil {
		return err
	}
	if s.authHandle == 0 {
		s.authHandle = newAuthHandle()
		authorizers.Store(s.authHandle, s)
	}
	if rc := sqlite3.Xsqlite3_set_authorizer(s.tls, s.db, cFuncPointer(authTrampoline), s.authHandle); rc != sqlite3.SQLITE_OK {
		return s.dbError(rc)
	}
	return nil
}

// Close closes the database. Writes of an uncommitted batch or transaction
// are discarded; open cursors become unusable.
func (s *Store) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.shutdown(ErrClosed.Error())
	s.intrMu.Lock()
	rc := int32(sqlite3.SQLITE_OK)
	if s.db != 0 {
		// Closing checkpoints the WAL into the database, syncing the WAL
		// first and the database after (at NORMAL too): nothing deferred
		// is left unsynced.
		rc = sqlite3.Xsqlite3_close_v2(s.tls, s.db)
	}
	s.db = 0

	if s.intrTLS != nil {
		s.intrTLS.Close()
		s.intrTLS = nil
	}
	s.intrMu.Unlock()
	s.release()
	if rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("storage: close: %s", rcName(rc))
	}
	return nil
}

// release frees what the Store holds besides the connection.
func (s *Store) release() {
	s.freeAll()
	authorizers.Delete(s.authHandle)
	if s.tls != nil {
		s.tls.Close()
		s.tls = nil
	}
	if s.onClose != nil {
		s.onClose()
		s.onClose = nil
	}
}

// shutdown finalizes every statement and invalidates every cursor, before
// the connection is closed (Close, DeleteAll).
func (s *Store) shutdown(reason string) {
	for c := s.cursors; c != nil; {
		next := c.next
		c.invalidate(reason)
		c = next
	}
	s.cache.clear(s)
	fin := func(p *uintptr) {
		if *p != 0 {
			sqlite3.Xsqlite3_finalize(s.tls, *p)
			*p = 0
		}
	}
	fin(&s.stBegin)
	fin(&s.stCommit)
	fin(&s.stRollback)
	fin(&s.stSyncNormal)
	fin(&s.stSyncFull)
	fin(&s.stSize)
	fin(&s.stPageSize)
	for i := range s.spStmts {
		for j := range s.spStmts[i] {
			fin(&s.spStmts[i][j])
		}
	}
	s.spStmts = nil
	s.kv.finalize(s)
	s.meta.finalize(s)
	s.batch, s.txOpen, s.depth = false, false, 0
}

func (s *Store) freeAll() {
	s.arena.free(s.tls)
	s.sqlBuf.free(s.tls)
	s.userSQL.free(s.tls)
	s.vaBuf.free(s.tls)
	if s.outp != 0 {
		sqlite3.Xsqlite3_free(s.tls, s.outp)
		s.outp = 0
	}
}

// Interrupt makes the query now running on the Store (if any) fail with
// SQLITE_INTERRUPT. Unlike every other method it may be called from any
// goroutine: it is how a CPU-time limit stops a runaway query.
func (s *Store) Interrupt() {
	s.intrMu.Lock()
	defer s.intrMu.Unlock()
	if s.db == 0 {
		return
	}
	if s.intrTLS == nil {
		s.intrTLS = libc.NewTLS()
	}
	sqlite3.Xsqlite3_interrupt(s.intrTLS, s.db)
}

func (s *Store) check() error {
	if s.closed {
		return ErrClosed
	}
	return nil
}

func (s *Store) checkWrite() error {
	if s.closed {
		return ErrClosed
	}
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	return nil
}

// ---------------------------------------------------------------------------
// Transactions

// Begin starts a batch: every write until Commit or Rollback joins one SQLite
// transaction, opened by the first write (a batch with no writes costs
// nothing). The runtime calls Begin at the start of each event-loop turn of
// the object and Commit at its end, which gives workerd's guarantee that the
// writes made between two awaits are committed atomically.
func (s *Store) Begin() error {
	if err := s.checkWrite(); err != nil {
		return err
	}
	if s.batch {
		return ErrInBatch
	}
	s.batch = true
	return nil
}

// InBatch reports whether a batch is open (between Begin and Commit or
// Rollback).
func (s *Store) InBatch() bool { return s.batch }

// Commit ends the batch and makes its writes durable: when Commit returns nil
// they are on disk. If the commit fails, the batch's writes are rolled back
// and the error returned; the object should then be reset, as workerd breaks
// the output gate.
//
// Writes made inside a Txn (storage.transaction()) are not part of the batch:
// that transaction commits on its own, even if it spans turns.
func (s *Store) Commit() error {
	if err := s.check(); err != nil {
		return err
	}
	if !s.batch {
		return ErrNotInBatch
	}
	if !s.txOpen {
		s.batch = false
		return nil
	}
	if s.depth > 0 {
		return ErrTxnOrder
	}
	s.batch = false
	return s.commitTx()
}

// commitTx commits the open implicit transaction.
func (s *Store) commitTx() error {
	s.drainWriteCursors()
	err := s.run(s.stCommit)
	if err == nil && s.syncLevel == syncNormal {
		s.commits.Add(1)
	}
	s.txOpen = false
	if err != nil {
		if sqlite3.Xsqlite3_get_autocommit(s.tls, s.db) == 0 {
			s.run(s.stRollback)
		}
		s.afterRollback()
		return fmt.Errorf("storage: commit failed, the batch was rolled back: %w", err)
	}
	s.afterDurable()
	return nil
}

// Syncer returns the fsync that makes the batches committed since the last
// call durable, or nil when there are none (or the Store does not defer
// syncs). The function may run on any goroutine; it reports success if the
// Store was closed meanwhile, as closing synced everything, and returns at
// once if an fsync begun after those commits has already ended.
func (s *Store) Syncer() func() error {
	upTo := s.commits.Load()
	if upTo == s.handed {
		return nil
	}
	s.handed = upTo
	wal := s.path + "-wal"
	return func() error {
		if s.synced.Load() >= upTo {
			return nil
		}
		covers := s.commits.Load()
		// Opened for each sync, not kept: an object holds no descriptor
		// more than SQLite's own (100,000 objects touched in turn keep a
		// few thousand open). An fsync through any descriptor syncs the
		// file. A WAL gone means the Store was closed, which synced it.
		f, err := os.OpenFile(wal, os.O_RDWR, 0)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err == nil {
			err = f.Sync()
			f.Close()
		}
		if err != nil {
			return fmt.Errorf("storage: fsync of the WAL failed: %w", err)
		}
		for {
			old := s.synced.Load()
			if old >= covers || s.synced.CompareAndSwap(old, covers) {
				return nil
			}
		}
	}
}

// Rollback ends the batch and discards its writes.
func (s *Store) Rollback() error {
	if err := s.check(); err != nil {
		return err
	}
	if !s.batch {
		return ErrNotInBatch
	}
	if s.txOpen && s.depth > 0 {
		return ErrTxnOrder
	}
	s.batch = false
	if !s.txOpen {
		return nil
	}
	s.txOpen = false
	s.drainWriteCursors()
	err := s.run(s.stRollback)
	s.afterRollback()
	return err
}

// beforeWrite is called before every write: inside a batch, the first write
// opens the batch's transaction.
func (s *Store) beforeWrite() error {
	if err := s.checkWrite(); err != nil {
		return err
	}
	if !s.batch || s.txOpen || s.depth > 0 {
		if !s.batch && s.depth == 0 {
			return s.setSyncLevel(syncFull) // autocommit: durable on return
		}
		return nil
	}
	if err := s.setSyncLevel(syncNormal); err != nil {
		return err
	}
	if err := s.run(s.stBegin); err != nil {
		return err
	}
	s.txOpen = true
	return nil
}

const (
	syncFull = iota
	syncNormal
)

// setSyncLevel sets synchronous for the transaction about to begin, when
// the Store defers syncs (NORMAL is asked for only then).
func (s *Store) setSyncLevel(level int) error {
	if s.stSyncNormal == 0 || s.syncLevel == level {
		return nil
	}
	st := s.stSyncFull
	if level == syncNormal {
		st = s.stSyncNormal
	}
	if err := s.run(st); err != nil {
		return err
	}
	s.syncLevel = level
	return nil
}

// writeFailed is called when a write failed. Most errors undo only the
// failed statement, but some (I/O errors, a full disk) make SQLite roll back
// the whole transaction; the caller then gets an error saying so, and the
// runtime must reset the object.
func (s *Store) writeFailed(err error) error {
	if (s.txOpen || s.depth > 0) && sqlite3.Xsqlite3_get_autocommit(s.tls, s.db) != 0 {
		s.txOpen, s.depth = false, 0
		s.afterRollback()
		return fmt.Errorf("storage: the transaction was rolled back: %w", err)
	}
	return err
}

// inAutocommit reports whether a write made now is durable on return.
func (s *Store) inAutocommit() bool { return !s.txOpen && s.depth == 0 }

func (s *Store) savepointStmt(depth, kind int) (uintptr, error) {
	for len(s.spStmts) <= depth {
		s.spStmts = append(s.spStmts, [3]uintptr{})
	}
	if p := s.spStmts[depth][kind]; p != 0 {
		return p, nil
	}
	var sql string
	switch kind {
	case spBegin:
		sql = fmt.Sprintf("SAVEPOINT _cf_sp_%d", depth)
	case spRelease:
		sql = fmt.Sprintf("RELEASE _cf_sp_%d", depth)
	default:
		sql = fmt.Sprintf("ROLLBACK TO _cf_sp_%d", depth)
	}
	p, err := s.prepareTrusted(sql)
	if err != nil {
		return 0, err
	}
	s.spStmts[depth][kind] = p
	return p, nil
}

// pushSavepoint opens a savepoint and returns its depth. Outside any
// transaction the savepoint starts one, which its release commits.
func (s *Store) pushSavepoint() (int, error) {
	d := s.depth
	st, err := s.savepointStmt(d, spBegin)
	if err != nil {
		return 0, err
	}
	if err := s.run(st); err != nil {
		return 0, err
	}
	s.depth++
	return d, nil
}

// releaseSavepoint commits the innermost savepoint, which must be d.
func (s *Store) releaseSavepoint(d int) error {
	if d != s.depth-1 {
		return ErrTxnOrder
	}
	root := d == 0 && !s.txOpen
	st, err := s.savepointStmt(d, spRelease)
	if err != nil {
		return err
	}
	if root {
		s.drainWriteCursors()
	}
	if err := s.run(st); err != nil {
		if root {
			// The commit failed: undo it all rather than leave a
			// transaction nobody owns.
			if sqlite3.Xsqlite3_get_autocommit(s.tls, s.db) == 0 {
				s.run(s.stRollback)
			}
			s.depth = 0
			s.afterRollback()
			return fmt.Errorf("storage: commit failed, the transaction was rolled back: %w", err)
		}
		return s.writeFailed(err)
	}
	s.depth--
	if root {
		s.afterDurable()
	}
	return nil
}

// rollbackSavepoint undoes and closes the innermost savepoint, which must be
// d.
func (s *Store) rollbackSavepoint(d int) error {
	if d != s.depth-1 {
		return ErrTxnOrder
	}
	rb, err := s.savepointStmt(d, spRollback)
	if err != nil {
		return err
	}
	rel, err := s.savepointStmt(d, spRelease)
	if err != nil {
		return err
	}
	s.drainWriteCursors()
	err = s.run(rb)
	if err == nil {
		err = s.run(rel)
	}
	if err != nil {
		return s.writeFailed(err)
	}
	s.depth--
	s.afterRollback()
	return nil
}

// atomic runs fn so that its writes apply all or not at all.
func (s *Store) atomic(fn func() error) error {
	d, err := s.pushSavepoint()
	if err != nil {
		return s.writeFailed(err)
	}
	ok := false
	defer func() {
		if !ok && s.depth > d {
			s.rollbackSavepoint(d)
		}
	}()
	if err := fn(); err != nil {
		if s.depth > d {
			if rerr := s.rollbackSavepoint(d); rerr != nil {
				return errors.Join(err, rerr)
			}
		}
		ok = true
		return err
	}
	ok = true
	return s.releaseSavepoint(d)
}

// TransactionSync runs fn as ctx.storage.transactionSync does: its writes
// commit together if it returns nil, and are undone if it returns an error
// or panics (the error is returned, the panic continues). Calls nest. Inside
// a batch the writes become durable with the batch; outside any batch or
// transaction they are durable when TransactionSync returns.
func (s *Store) TransactionSync(fn func() error) error {
	if err := s.beforeWrite(); err != nil {
		return err
	}
	return s.atomic(fn)
}

// Txn is a transaction opened by BeginTxn: ctx.storage.transaction(), which
// may last across awaits (the runtime holds other events back meanwhile, as
// workerd's blockConcurrencyWhile does). Transactions nest; they must be
// finished innermost first.
type Txn struct {
	s     *Store
	depth int
	done  bool
}

// BeginTxn starts a transaction. Writes of the current batch made before it
// are committed first (as in workerd: the transaction API is asynchronous,
// so atomicity with earlier synchronous writes was never promised). Every
// write until the Txn's Commit or Rollback belongs to it, whatever Begin and
// Commit calls happen meanwhile.
func (s *Store) BeginTxn() (*Txn, error) {
	if err := s.checkWrite(); err != nil {
		return nil, err
	}
	if s.txOpen {
		if s.depth > 0 {
			return nil, ErrTxnOrder
		}
		if err := s.commitTx(); err != nil {
			return nil, err
		}
	}
	d, err := s.pushSavepoint()
	if err != nil {
		return nil, s.writeFailed(err)
	}
	return &Txn{s: s, depth: d}, nil
}

// Commit commits the transaction into its parent, or, for an outermost
// transaction, durably.
func (t *Txn) Commit() error {
	if t.done {
		return ErrTxnDone
	}
	if err := t.s.check(); err != nil {
		return err
	}
	if err := t.s.releaseSavepoint(t.depth); err != nil {
		if errors.Is(err, ErrTxnOrder) {
			return err
		}
		t.done = true
		return err
	}
	t.done = true
	return nil
}

// Rollback discards the transaction's writes.
func (t *Txn) Rollback() error {
	if t.done {
		return nil
	}
	if err := t.s.check(); err != nil {
		return err
	}
	if t.depth != t.s.depth-1 {
		return &Error{Type: "Error", Message: "Cannot roll back an outer transaction while a nested transaction is still running."}
	}
	t.done = true
	return t.s.rollbackSavepoint(t.depth)
}

// afterDurable runs after a commit reached the disk.
func (s *Store) afterDurable() {
	if !s.alarmDirty || s.opts.OnAlarmChange == nil {
		s.alarmDirty = false
		return
	}
	s.alarmDirty = false
	t, ok, err := s.GetAlarm()
	if err == nil {
		s.opts.OnAlarmChange(t, ok)
	}
}

// afterRollback runs after a rollback: tables this package created lazily
// may have been rolled back with it.
func (s *Store) afterRollback() {
	if s.kv.ready || s.meta.ready {
		s.loadTables()
	}
}

// ---------------------------------------------------------------------------
// Whole-database operations

// DeleteAllOptions configures DeleteAll.
type DeleteAllOptions struct {
	// DeleteAlarm also removes the alarm (compatibility flag
	// delete_all_deletes_alarm, default from 2026-02-24). Otherwise the
	// alarm survives, as in workerd.
	DeleteAlarm bool
}

// DeleteAll deletes everything stored: KV pairs, SQL tables, indexes,
// triggers and views (ctx.storage.deleteAll()). As in workerd the database is
// recreated empty: writes of the current batch are discarded with it, cursors
// become unusable, and the call fails inside a transaction. The deletion is
// durable when DeleteAll returns.
func (s *Store) DeleteAll(opts DeleteAllOptions) error {
	if err := s.checkWrite(); err != nil {
		return err
	}
	if s.depth > 0 {
		return &Error{Type: "Error", Message: "Cannot call deleteAll() within a transaction"}
	}
	var alarm time.Time
	var hasAlarm bool
	if !opts.DeleteAlarm {
		var err error
		if alarm, hasAlarm, err = s.GetAlarm(); err != nil {
			return err
		}
	}
	batch := s.batch
	if err := s.reset(); err != nil {
		return err
	}
	s.alarmDirty = true
	if hasAlarm {
		if err := s.setAlarm(alarm); err != nil {
			return err
		}
	}
	s.afterDurable()
	s.batch = batch
	return nil
}

// reset replaces the database with an empty one. If that fails the Store
// is closed.
func (s *Store) reset() error {
	s.shutdown("SQLite query was canceled because the database was deleted.")
	s.intrMu.Lock()
	rc := sqlite3.Xsqlite3_close_v2(s.tls, s.db)
	s.db = 0
	s.intrMu.Unlock()
	fail := func(err error) error {
		s.closed = true
		s.release()
		return fmt.Errorf("storage: deleteAll: %w (the store is closed)", err)
	}
	if rc != sqlite3.SQLITE_OK {
		return fail(errors.New(rcName(rc)))
	}
	if s.path != "" {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			if err := os.Remove(s.path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fail(err)
			}
		}
		if err := syncDir(filepath.Dir(s.path)); err != nil {
			return fail(err)
		}
	}
	s.intrMu.Lock()
	err := s.open()
	s.intrMu.Unlock()
	if err != nil {
		return fail(err)
	}
	if s.path != "" {
		if err := syncDir(filepath.Dir(s.path)); err != nil {
			return err
		}
	}
	return nil
}

// DatabaseSize is the size of the database in bytes, not counting free
// pages (sql.databaseSize).
func (s *Store) DatabaseSize() (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var err error
	if s.stSize == 0 {
		if s.stSize, err = s.prepareTrusted("SELECT (SELECT * FROM pragma_page_count) - (SELECT * FROM pragma_freelist_count)"); err != nil {
			return 0, err
		}
	}
	if s.stPageSize == 0 {
		if s.stPageSize, err = s.prepareTrusted("PRAGMA page_size"); err != nil {
			return 0, err
		}
	}
	pages, err := s.queryInt(s.stSize)
	if err != nil {
		return 0, err
	}
	size, err := s.queryInt(s.stPageSize)
	if err != nil {
		return 0, err
	}
	return pages * size, nil
}

func (s *Store) queryInt(st uintptr) (int64, error) {
	s.trusted = true
	rc := sqlite3.Xsqlite3_step(s.tls, st)
	defer sqlite3.Xsqlite3_reset(s.tls, st)
	if rc != sqlite3.SQLITE_ROW {
		return 0, s.dbError(rc)
	}
	return sqlite3.Xsqlite3_column_int64(s.tls, st, 0), nil
}

// IntegrityCheck runs PRAGMA integrity_check and returns nil when SQLite
// reports "ok".
func (s *Store) IntegrityCheck() error {
	if err := s.check(); err != nil {
		return err
	}
	rows, err := s.queryTrustedText("PRAGMA integrity_check")
	if err != nil {
		return err
	}
	if len(rows) == 1 && rows[0] == "ok" {
		return nil
	}
	return fmt.Errorf("storage: integrity check failed: %v", rows)
}

package workflows

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite", pure Go
)

// Store keeps every workflow's instances, journals and events in one SQLite
// database. Reads go to a pool of connections; writes go to one writer
// goroutine that commits whatever has queued up in one transaction (group
// commit): a thousand step results arriving together cost one fsync.
type Store struct {
	read  *sql.DB
	write *sql.DB
	wconn *sql.Conn // the writer's connection

	prepared map[string]*sql.Stmt // writer goroutine only

	// readPrepared holds the read pool's statements: preparing one costs
	// SQLite more than running it, and database/sql prepares afresh for
	// every DB.Query (status reads of a busy platform spent half their time
	// parsing SQL).
	readMu       sync.Mutex
	readPrepared map[string]*sql.Stmt

	mu      sync.Mutex
	queue   []writeReq
	wake    chan struct{}
	closed  bool
	stopped chan struct{}
}

// A writeReq runs inside the writer's transaction. A request of several
// statements runs under a savepoint of its own, so that its failure (a
// duplicate id) leaves the others alone; a single statement is atomic by
// itself and skips the savepoint's three extra statements.
type writeReq struct {
	fn     func(tx *Tx) error
	done   func(error)
	single bool
}

// Tx is the writer's transaction. The writer holds one connection and
// runs BEGIN and COMMIT on it itself, so that statements prepared on it
// once serve every transaction: preparing costs more than running them,
// and database/sql would prepare again for each *sql.Tx.
type Tx struct {
	s *Store
}

func (t *Tx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := t.s.prepared[query]; ok {
		return st, nil
	}
	st, err := t.s.wconn.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, err
	}
	t.s.prepared[query] = st
	return st, nil
}

// Exec runs a statement in the transaction.
func (t *Tx) Exec(query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.Exec(args...)
}

// Query runs a query in the transaction.
func (t *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.Query(args...)
}

// QueryRow runs a one-row query in the transaction.
func (t *Tx) QueryRow(query string, args ...any) *sql.Row {
	st, err := t.stmt(query)
	if err != nil {
		return t.s.wconn.QueryRowContext(context.Background(), query, args...) // reports the same error
	}
	return st.QueryRow(args...)
}

const schema = `
CREATE TABLE IF NOT EXISTS instances (
  workflow TEXT NOT NULL,
  id TEXT NOT NULL,
  status TEXT NOT NULL,
  params TEXT NOT NULL,
  params_bufs BLOB,
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL DEFAULT 0,
  ended_ms INTEGER NOT NULL DEFAULT 0,
  wake_ms INTEGER,
  output TEXT,
  output_bufs BLOB,
  error_name TEXT,
  error_message TEXT,
  success_retention_ms INTEGER NOT NULL DEFAULT 0,
  error_retention_ms INTEGER NOT NULL DEFAULT 0,
  expire_ms INTEGER,
  next_seq INTEGER NOT NULL DEFAULT 1,
  code_started TEXT,
  code_latest TEXT,
  PRIMARY KEY (workflow, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS instances_wake ON instances(wake_ms) WHERE wake_ms IS NOT NULL;
CREATE INDEX IF NOT EXISTS instances_expire ON instances(expire_ms) WHERE expire_ms IS NOT NULL;
CREATE INDEX IF NOT EXISTS instances_created ON instances(workflow, created_ms);
-- The unfinished instances, for resuming them on start. Keyed by creation
-- time too, so that entries made and removed close in time share index pages:
-- keyed by status alone, each landed on a random page (random ids), one more
-- WAL frame to write at an instance's start and at its end. instances_active
-- is the older index.
DROP INDEX IF EXISTS instances_active;
CREATE INDEX IF NOT EXISTS instances_unfinished ON instances(status, created_ms) WHERE status IN ('queued', 'running', 'waitingForPause');
CREATE TABLE IF NOT EXISTS steps (
  workflow TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  count INTEGER NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  seq INTEGER NOT NULL,
  result TEXT,
  result_bufs BLOB,
  error_name TEXT,
  error_message TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  start_ms INTEGER NOT NULL DEFAULT 0,
  end_ms INTEGER NOT NULL DEFAULT 0,
  wake_ms INTEGER NOT NULL DEFAULT 0,
  type TEXT NOT NULL DEFAULT '',
  unreached INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (workflow, id, kind, name, count)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
  workflow TEXT NOT NULL,
  id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  payload_bufs BLOB,
  ts_ms INTEGER NOT NULL,
  consumed_name TEXT,
  consumed_count INTEGER,
  PRIMARY KEY (workflow, id, seq)
) WITHOUT ROWID;
`

// OpenStore opens (creating if needed) the database at path.
func OpenStore(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("workflows: %w", err)
	}
	// WAL lets readers run beside the writer; synchronous=FULL makes every
	// commit durable against power loss, which group commit makes cheap.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(OFF)"
	write, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("workflows: opening %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	if _, err := write.Exec(schema); err != nil {
		write.Close()
		return nil, fmt.Errorf("workflows: %s: %w", path, err)
	}
	if err := addColumns(write); err != nil {
		write.Close()
		return nil, fmt.Errorf("workflows: %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(4)
	read.SetMaxIdleConns(2)
	wconn, err := write.Conn(context.Background())
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("workflows: %s: %w", path, err)
	}
	s := &Store{read: read, write: write, wconn: wconn, wake: make(chan struct{}, 1), stopped: make(chan struct{}), prepared: map[string]*sql.Stmt{}, readPrepared: map[string]*sql.Stmt{}}
	go s.writer()
	return s, nil
}

// addedColumns are columns added after the first release of the schema:
// databases made before them get them on open.
var addedColumns = []struct{ table, column, decl string }{
	{"instances", "code_started", "TEXT"},
	{"instances", "code_latest", "TEXT"},
	{"steps", "unreached", "INTEGER NOT NULL DEFAULT 0"},
}

func addColumns(db *sql.DB) error {
	for _, c := range addedColumns {
		var n int
		err := db.QueryRow(`SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, c.table, c.column).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			if _, err := db.Exec(`ALTER TABLE ` + c.table + ` ADD COLUMN ` + c.column + ` ` + c.decl); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close commits what is queued and closes the database.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	<-s.stopped
	for _, st := range s.prepared {
		st.Close()
	}
	s.readMu.Lock()
	for _, st := range s.readPrepared {
		st.Close()
	}
	s.readMu.Unlock()
	s.wconn.Close()
	err1 := s.read.Close()
	err2 := s.write.Close()
	return errors.Join(err1, err2)
}

var errStoreClosed = errors.New("workflows: the store is closed")

// Submit queues fn for the next group commit; done (if not nil) gets its
// error, or nil once the transaction holding it is committed. done runs on
// the writer goroutine and must not block. fn may run several statements:
// they are undone together if it fails.
func (s *Store) Submit(fn func(tx *Tx) error, done func(error)) {
	s.submit(writeReq{fn: fn, done: done})
}

// SubmitOne is Submit for fn that runs a single write statement, which is
// atomic without a savepoint.
func (s *Store) SubmitOne(fn func(tx *Tx) error, done func(error)) {
	s.submit(writeReq{fn: fn, done: done, single: true})
}

func (s *Store) submit(r writeReq) {
	done := r.done
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		if done != nil {
			done(errStoreClosed)
		}
		return
	}
	s.queue = append(s.queue, r)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Update is Submit that waits for the commit.
func (s *Store) Update(fn func(tx *Tx) error) error {
	ch := make(chan error, 1)
	s.Submit(fn, func(err error) { ch <- err })
	return <-ch
}

// gatherWait is how long the writer lets a small batch gather more writes
// when the last commit carried several (writes are arriving side by side):
// each commit costs an fsync and the WAL frames of every page it touched,
// whatever it carries. A lone writer never waits (RATIONALE.md).
const (
	gatherWait  = time.Millisecond
	gatherSmall = 64
)

func (s *Store) writer() {
	defer close(s.stopped)
	last := 0 // writes the last commit carried
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		closed := s.closed
		s.mu.Unlock()
		if len(batch) == 0 {
			if closed {
				return
			}
			<-s.wake
			continue
		}
		if last > 1 && len(batch) < gatherSmall && !closed {
			time.Sleep(gatherWait)
			s.mu.Lock()
			batch = append(batch, s.queue...)
			s.queue = nil
			s.mu.Unlock()
		}
		last = len(batch)
		s.commit(batch)
	}
}

func (s *Store) commit(batch []writeReq) {
	t := &Tx{s: s}
	if _, err := t.Exec("BEGIN IMMEDIATE"); err != nil {
		for _, r := range batch {
			if r.done != nil {
				r.done(err)
			}
		}
		return
	}
	errs := make([]error, len(batch))
	for i, r := range batch {
		if r.single {
			errs[i] = r.fn(t)
			continue
		}
		if _, err := t.Exec("SAVEPOINT req"); err != nil {
			errs[i] = err
			continue
		}
		if err := r.fn(t); err != nil {
			errs[i] = err
			if _, rerr := t.Exec("ROLLBACK TO req"); rerr != nil {
				errs[i] = errors.Join(err, rerr)
			}
		}
		if _, err := t.Exec("RELEASE req"); err != nil && errs[i] == nil {
			errs[i] = err
		}
	}
	if _, err := t.Exec("COMMIT"); err != nil {
		t.Exec("ROLLBACK")
		for i := range errs {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("workflows: commit: %w", err)
			}
		}
	}
	for i, r := range batch {
		if r.done != nil {
			r.done(errs[i])
		}
	}
}

// ---- encoding ----

// packBufs stores a value's buffers in one blob: each buffer preceded by its
// length as a uvarint. nil for none.
func packBufs(bufs [][]byte) []byte {
	if len(bufs) == 0 {
		return nil
	}
	var out []byte
	for _, b := range bufs {
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out
}

func unpackBufs(blob []byte) ([][]byte, error) {
	var out [][]byte
	for len(blob) > 0 {
		n, k := binary.Uvarint(blob)
		if k <= 0 || uint64(len(blob)-k) < n {
			return nil, errors.New("workflows: corrupt buffer blob")
		}
		out = append(out, blob[k:k+int(n)])
		blob = blob[k+int(n):]
	}
	return out, nil
}

func valueOf(json sql.NullString, bufs []byte) (*Value, error) {
	if !json.Valid {
		return nil, nil
	}
	b, err := unpackBufs(bufs)
	if err != nil {
		return nil, err
	}
	return &Value{JSON: json.String, Bufs: b}, nil
}

func nullValue(v *Value) (any, any) {
	if v == nil {
		return nil, nil
	}
	return v.JSON, packBufs(v.Bufs)
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// ---- reads ----

const instanceCols = `workflow, id, status, params, params_bufs, created_ms, started_ms, ended_ms, wake_ms,
  output, output_bufs, error_name, error_message, success_retention_ms, error_retention_ms, code_started, code_latest`

type scanner interface{ Scan(...any) error }

func scanInstance(r scanner) (*Instance, error) {
	var in Instance
	var params string
	var paramsBufs, outBufs []byte
	var wake sql.NullInt64
	var out, errName, errMsg, codeStarted, codeLatest sql.NullString
	if err := r.Scan(&in.Workflow, &in.ID, &in.Status, &params, &paramsBufs, &in.CreatedMs, &in.StartedMs, &in.EndedMs,
		&wake, &out, &outBufs, &errName, &errMsg, &in.SuccessRetentionMs, &in.ErrorRetentionMs, &codeStarted, &codeLatest); err != nil {
		return nil, err
	}
	in.CodeStarted, in.CodeLatest = codeStarted.String, codeLatest.String
	bufs, err := unpackBufs(paramsBufs)
	if err != nil {
		return nil, err
	}
	in.Params = Value{JSON: params, Bufs: bufs}
	in.WakeMs = wake.Int64
	if in.Output, err = valueOf(out, outBufs); err != nil {
		return nil, err
	}
	if errName.Valid {
		in.Error = &ErrorInfo{Name: errName.String, Message: errMsg.String}
	}
	return &in, nil
}

// Instance reads one instance; ErrNotFound if there is none.
func (s *Store) Instance(workflow, id string) (*Instance, error) {
	return getInstance(s.readRow, workflow, id)
}

// Exists reports whether the instance is stored: nil, or ErrNotFound.
func (s *Store) Exists(workflow, id string) error {
	var one int
	err := s.readRow(`SELECT 1 FROM instances WHERE workflow = ? AND id = ?`, workflow, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// readStmt is the read pool's prepared statement for query, a constant.
func (s *Store) readStmt(query string) (*sql.Stmt, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	if st, ok := s.readPrepared[query]; ok {
		return st, nil
	}
	st, err := s.read.Prepare(query)
	if err != nil {
		return nil, err
	}
	s.readPrepared[query] = st
	return st, nil
}

func (s *Store) readRow(query string, args ...any) *sql.Row {
	st, err := s.readStmt(query)
	if err != nil {
		return s.read.QueryRow(query, args...) // reports the same error
	}
	return st.QueryRow(args...)
}

func (s *Store) readQuery(query string, args ...any) (*sql.Rows, error) {
	st, err := s.readStmt(query)
	if err != nil {
		return nil, err
	}
	return st.Query(args...)
}

func getInstance(query func(string, ...any) *sql.Row, workflow, id string) (*Instance, error) {
	in, err := scanInstance(query(`SELECT `+instanceCols+` FROM instances WHERE workflow = ? AND id = ?`, workflow, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return in, err
}

// ListFilter selects instances for List.
type ListFilter struct {
	Workflow string // "" for all
	Status   Status // "" for all
	Limit    int    // 0: 100
}

// List returns instances, newest first.
func (s *Store) List(f ListFilter) ([]*Instance, error) {
	var where []string
	var args []any
	if f.Workflow != "" {
		where = append(where, "workflow = ?")
		args = append(args, f.Workflow)
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	q := `SELECT ` + instanceCols + ` FROM instances`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q += " ORDER BY created_ms DESC, id LIMIT ?"
	args = append(args, f.Limit)
	rows, err := s.read.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Instance
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// Steps returns an instance's journal in the order it was recorded.
func (s *Store) Steps(workflow, id string) ([]*Step, error) {
	return readSteps(s.readQuery, workflow, id)
}

func readSteps(query func(string, ...any) (*sql.Rows, error), workflow, id string) ([]*Step, error) {
	rows, err := query(`SELECT name, count, kind, state, seq, result, result_bufs, error_name, error_message,
	  attempts, start_ms, end_ms, wake_ms, type, unreached FROM steps WHERE workflow = ? AND id = ? ORDER BY seq`, workflow, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Step
	for rows.Next() {
		var st Step
		var res, en, em sql.NullString
		var rb []byte
		if err := rows.Scan(&st.Name, &st.Count, &st.Kind, &st.State, &st.Seq, &res, &rb, &en, &em,
			&st.Attempts, &st.StartMs, &st.EndMs, &st.WakeMs, &st.Type, &st.Unreached); err != nil {
			return nil, err
		}
		if st.Result, err = valueOf(res, rb); err != nil {
			return nil, err
		}
		if en.Valid {
			st.Error = &ErrorInfo{Name: en.String, Message: em.String}
		}
		out = append(out, &st)
	}
	return out, rows.Err()
}

// PendingEvents returns the events no wait has consumed yet, oldest first.
func (s *Store) PendingEvents(workflow, id string) ([]*Event, error) {
	return pendingEvents(s.readQuery, workflow, id)
}

func pendingEvents(query func(string, ...any) (*sql.Rows, error), workflow, id string) ([]*Event, error) {
	rows, err := query(`SELECT seq, type, payload, payload_bufs, ts_ms FROM events
	  WHERE workflow = ? AND id = ? AND consumed_name IS NULL ORDER BY seq`, workflow, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		var ev Event
		var pb []byte
		if err := rows.Scan(&ev.Seq, &ev.Type, &ev.Payload.JSON, &pb, &ev.TimestampMs); err != nil {
			return nil, err
		}
		if ev.Payload.Bufs, err = unpackBufs(pb); err != nil {
			return nil, err
		}
		out = append(out, &ev)
	}
	return out, rows.Err()
}

// Active lists the instances that were queued or running when the process
// last stopped, oldest first: they must be scheduled again.
func (s *Store) Active() ([][2]string, error) {
	rows, err := s.read.Query(`SELECT workflow, id FROM instances
	  WHERE status IN ('queued', 'running', 'waitingForPause') ORDER BY created_ms, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// NextWake is the earliest wake time of any instance; 0 for none.
func (s *Store) NextWake() (int64, error) {
	var ms sql.NullInt64
	err := s.readRow(`SELECT MIN(wake_ms) FROM instances WHERE wake_ms IS NOT NULL`).Scan(&ms)
	return ms.Int64, err
}

// NextExpiry is the earliest time a finished instance's retention ends.
func (s *Store) NextExpiry() (int64, error) {
	var ms sql.NullInt64
	err := s.readRow(`SELECT MIN(expire_ms) FROM instances WHERE expire_ms IS NOT NULL`).Scan(&ms)
	return ms.Int64, err
}

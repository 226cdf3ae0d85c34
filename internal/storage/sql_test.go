package storage

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSQLBindingsAndTypes(t *testing.T) {
	s := memStore(t)
	c, err := s.Exec("SELECT ?1 AS s, ?2 AS i, ?3 AS f, ?4 AS b, ?5 AS n, ?6 AS small, ?7 AS yes, typeof(?1), typeof(?2), typeof(?3), typeof(?4), typeof(?5)",
		"héllo\x00world", int64(-1<<62), 2.5, []byte{0, 255}, nil, 7, true)
	must(t, err)
	if got, want := c.Columns(), []string{"s", "i", "f", "b", "n", "small", "yes", "typeof(?1)", "typeof(?2)", "typeof(?3)", "typeof(?4)", "typeof(?5)"}; !slices.Equal(got, want) {
		t.Fatalf("columns %q", got)
	}
	row, ok, err := c.Next()
	must(t, err)
	if !ok {
		t.Fatal("no row")
	}
	want := []any{"héllo\x00world", int64(-1 << 62), 2.5, []byte{0, 255}, nil, int64(7), int64(1), "text", "integer", "real", "blob", "null"}
	if !reflect.DeepEqual(row, want) {
		t.Fatalf("row %#v\nwant %#v", row, want)
	}
	if _, ok, err := c.Next(); ok || err != nil {
		t.Fatal("second row", ok, err)
	}

	// Typed accessors.
	c, err = s.Exec("SELECT 42, 1.5, 'txt', x'0102', NULL")
	must(t, err)
	if ok, err := c.Step(); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if c.Type(0) != Integer || c.Int64(0) != 42 || c.Type(1) != Float || c.Float64(1) != 1.5 ||
		c.Type(2) != Text || c.Text(2) != "txt" || c.Type(3) != Blob || !slices.Equal(c.Blob(3), []byte{1, 2}) || c.Type(4) != Null {
		t.Fatal("typed accessors disagree")
	}
	c.Close()

	_, err = s.Exec("SELECT ?", struct{}{})
	wantErr(t, err, "TypeError", "unsupported SQL binding type")
	_, err = s.Exec("SELECT ?")
	wantErr(t, err, "Error", "Wrong number of parameter bindings for SQL query.")
	_, err = s.Exec("SELECT ?", 1, 2)
	wantErr(t, err, "Error", "Wrong number of parameter bindings for SQL query.")
}

func TestSQLMultiStatement(t *testing.T) {
	s := memStore(t)
	rows := exec(t, s, "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);\n\tSELECT a FROM t WHERE a > ? ORDER BY a;  \n", 0)
	if !reflect.DeepEqual(rows, [][]any{{int64(1)}, {int64(2)}}) {
		t.Fatalf("rows %v", rows)
	}
	// Intermediate SELECTs run, their rows are dropped.
	if rows := exec(t, s, "SELECT 1; SELECT 2"); !reflect.DeepEqual(rows, [][]any{{int64(2)}}) {
		t.Fatalf("rows %v", rows)
	}
	_, err := s.Exec("SELECT ?; SELECT 2", 1)
	wantErr(t, err, "Error", "When executing multiple SQL statements in a single call, only the last statement can have parameters.")
	for _, q := range []string{"", ";", "  ", "-- just a comment", "SELECT 1; -- trailing comment"} {
		_, err := s.Exec(q)
		wantErr(t, err, "Error", "SQL code did not contain a statement.")
	}
	// A failing statement stops the rest.
	_, err = s.Exec("INSERT INTO t VALUES (3); SELECT * FROM nope; INSERT INTO t VALUES (4)")
	wantErr(t, err, "Error", "no such table: nope")
	if got := one(t, s, "SELECT group_concat(a) FROM t"); got != "1,2,3" {
		t.Fatalf("t holds %v", got)
	}
}

func TestSQLErrors(t *testing.T) {
	s := memStore(t)
	_, err := s.Exec("SELECT ;")
	wantErr(t, err, "Error", "syntax error at offset 7: SQLITE_ERROR")
	exec(t, s, "CREATE TABLE e (name TEXT)")
	_, err = s.Exec("INSERT INTO e(rowid, name) VALUES ('yeah', 'nah')")
	wantErr(t, err, "Error", "datatype mismatch: SQLITE_MISMATCH")
	exec(t, s, "CREATE TABLE u (x UNIQUE)")
	exec(t, s, "INSERT INTO u VALUES (1)")
	_, err = s.Exec("INSERT INTO u VALUES (1)")
	wantErr(t, err, "Error", "UNIQUE constraint failed: u.x: SQLITE_CONSTRAINT")
	_, err = s.Exec("SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6")
	wantErr(t, err, "Error", "too many terms in compound SELECT")
}

func TestSQLCursor(t *testing.T) {
	s := memStore(t)
	c, err := s.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
	must(t, err)
	if len(c.Columns()) != 0 {
		t.Fatalf("columns %q", c.Columns())
	}
	c, err = s.Exec("INSERT INTO t (v) VALUES ('a'), ('b'), ('c'), ('d'), ('e')")
	must(t, err)
	if c.RowsWritten() != 5 || c.RowsRead() != 0 {
		t.Fatalf("insert: read %d written %d", c.RowsRead(), c.RowsWritten())
	}
	c, err = s.Exec("UPDATE t SET v = v || '!' WHERE id > 2") // a rowid range
	must(t, err)
	if c.RowsWritten() != 3 || c.RowsRead() < 3 || c.RowsRead() > 5 {
		t.Fatalf("update: read %d written %d", c.RowsRead(), c.RowsWritten())
	}
	c, err = s.Exec("UPDATE t SET v = v || '?' WHERE v > 'b'") // a full scan
	must(t, err)
	if c.RowsWritten() != 3 || c.RowsRead() < 4 {
		t.Fatalf("update: read %d written %d", c.RowsRead(), c.RowsWritten())
	}
	if got := c.Columns(); len(got) != 0 {
		t.Fatalf("update columns %q", got)
	}

	// Rows are read lazily; writes in between are fine.
	c, err = s.Exec("SELECT id, v FROM t ORDER BY id")
	must(t, err)
	row, _, err := c.Next()
	must(t, err)
	if row[1] != "a" {
		t.Fatal(row)
	}
	must(t, s.Put("k", []byte("v")))
	exec(t, s, "INSERT INTO t (v) VALUES ('f')")
	rest, err := c.All()
	must(t, err)
	if len(rest) < 4 {
		t.Fatalf("rest %v", rest)
	}
	if c.RowsRead() < 5 {
		t.Fatalf("rowsRead %d", c.RowsRead())
	}
	if got := c.Columns(); !slices.Equal(got, []string{"id", "v"}) {
		t.Fatalf("columns after exhaustion %q", got)
	}

	// Index lookups count the rows returned.
	c, err = s.Exec("SELECT v FROM t WHERE id = ?", 2)
	must(t, err)
	c.All()
	if c.RowsRead() != 1 {
		t.Fatalf("point lookup read %d rows", c.RowsRead())
	}

	// A write happens at Exec even if the cursor is never read.
	c, err = s.Exec("INSERT INTO t (v) VALUES ('g'), ('h') RETURNING id")
	must(t, err)
	c.Close()
	if got := one(t, s, "SELECT count(*) FROM t WHERE v IN ('g', 'h')"); got != int64(2) {
		t.Fatalf("RETURNING insert wrote %v rows", got)
	}
	if ok, err := c.Step(); ok || err != nil {
		t.Fatal("closed cursor stepped", ok, err)
	}
}

func TestSQLStatementCache(t *testing.T) {
	s := memStore(t)
	exec(t, s, "CREATE TABLE t (a)")
	exec(t, s, "INSERT INTO t VALUES (1), (2), (3)")
	const q = "SELECT a FROM t ORDER BY a"
	// The same query twice at once: the second gets its own statement.
	c1, err := s.Exec(q)
	must(t, err)
	c2, err := s.Exec(q)
	must(t, err)
	r2, _ := c2.All()
	r1, _ := c1.All()
	if len(r1) != 3 || len(r2) != 3 {
		t.Fatal(r1, r2)
	}
	if s.cache.m[q] == nil || s.cache.m[q].busy {
		t.Fatal("query not cached, or still marked busy")
	}
	// Cached statements pick up schema changes, column names included.
	const star = "SELECT * FROM t"
	exec(t, s, star)
	exec(t, s, "ALTER TABLE t ADD COLUMN b DEFAULT 'x'")
	c, err := s.Exec(star)
	must(t, err)
	if got := c.Columns(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("columns after ALTER TABLE: %q", got)
	}
	c.Close()
	// Many distinct queries stay bounded.
	for i := range stmtCacheMaxEntries + 50 {
		exec(t, s, "SELECT ?+"+string(rune('0'+i%10))+" -- "+time.Duration(i).String(), i)
	}
	if len(s.cache.m) > stmtCacheMaxEntries {
		t.Fatalf("%d cached statements", len(s.cache.m))
	}
	// Evicting a statement in use leaves its cursor working.
	c, err = s.Exec(q)
	must(t, err)
	for i := range stmtCacheMaxEntries + 1 {
		exec(t, s, "SELECT "+time.Duration(i + 1000).String()[:1]+" -- evict "+time.Duration(i).String())
	}
	if rows, err := c.All(); err != nil || len(rows) != 3 {
		t.Fatal(rows, err)
	}
}

func TestSQLRefused(t *testing.T) {
	s := memStore(t)
	must(t, s.Put("k", []byte("v"))) // creates _cf_KV
	must(t, s.SetAlarm(time.Now()))  // creates _cf_METADATA
	exec(t, s, "CREATE TABLE t (a)")
	exec(t, s, "CREATE VIEW leak AS SELECT * FROM t") // allowed, but see below

	txn := "To execute a transaction, please use the state.storage.transaction() or state.storage.transactionSync() APIs"
	for _, tc := range []struct{ q, msg string }{
		{"BEGIN", txn},
		{"BEGIN TRANSACTION", txn},
		{"begin immediate", txn},
		{"COMMIT", txn},
		{"END", txn},
		{"ROLLBACK", txn},
		{"SAVEPOINT foo", txn},
		{"RELEASE foo", txn},
		{"ROLLBACK TO foo", txn},
		{"SELECT 1; BEGIN", txn},
		{"ATTACH 'other.db' AS other", "not authorized"},
		{"DETACH other", "not authorized"},
		{"VACUUM INTO 'copy.db'", ""},
		{"PRAGMA hard_heap_limit = 1024", "not authorized: SQLITE_AUTH"},
		{"PRAGMA data_version = 5", "not authorized: SQLITE_AUTH"},
		{"PRAGMA journal_mode = DELETE", "not authorized"},
		{"PRAGMA synchronous = OFF", "not authorized"},
		{"PRAGMA writable_schema = 1", "not authorized"},
		{"PRAGMA page_size = 8192", "not authorized"},
		{"PRAGMA max_page_count = 65536", "not authorized"},
		{"PRAGMA defer_foreign_keys = abcd", "not authorized"},
		{"PRAGMA table_info(_cf_KV)", "not authorized"},
		{"PRAGMA quick_check(_cf_KV)", "not authorized"},
		{"PRAGMA index_list(_cf_KV)", "not authorized"},
		{"SELECT sqlite_version()", "not authorized to use function: sqlite_version"},
		{"SELECT load_extension('x')", "not authorized"},
		{"SELECT * FROM _cf_KV", "access to _cf_KV.key is prohibited"},
		{"select value from _CF_kv", "access to _cf_KV.value is prohibited"},
		{"SELECT value FROM _cf_METADATA", "prohibited"},
		{"INSERT INTO _cf_KV VALUES ('x', x'00')", "not authorized"},
		{"DELETE FROM _cf_KV", "not authorized"},
		{"UPDATE _cf_KV SET value = NULL", "not authorized"},
		{"DROP TABLE _cf_KV", "not authorized"},
		{"ALTER TABLE _cf_KV RENAME TO mine", "not authorized"},
		{"CREATE INDEX i ON _cf_KV (value)", "not authorized"},
		{"CREATE TRIGGER tr AFTER INSERT ON _cf_KV BEGIN SELECT 1; END", "not authorized"},
		{"CREATE TRIGGER _cf_tr AFTER INSERT ON t BEGIN SELECT 1; END", "not authorized"},
		{"CREATE TABLE _cf_mine (a)", "not authorized"},
		{"CREATE TABLE _CF_Mine (a)", "not authorized"},
		{"CREATE TABLE _Cf_kv2 (a)", "not authorized"},
		{"CREATE INDEX _cf_i ON t (a)", "not authorized"},
		{"CREATE VIEW _cf_v AS SELECT 1", "not authorized"},
		{"CREATE VIEW v AS SELECT * FROM _cf_KV", ""},
		{"CREATE TEMP TABLE tmp (a)", "not authorized"},
		{"CREATE TEMP VIEW tv AS SELECT 1", "not authorized"},
		{"CREATE VIRTUAL TABLE r USING rtree(id, x0, x1)", "not authorized"},
		{"CREATE VIRTUAL TABLE f USING fts5abcd(x)", "not authorized"},
		{"CREATE VIRTUAL TABLE _cf_f USING fts5(x)", "not authorized"},
		{"SELECT * FROM sqlite_dbpage", "prohibited"},
		{"SELECT data FROM SQLITE_DBPAGE WHERE pgno = 2", "prohibited"},
		{"UPDATE sqlite_dbpage SET data = zeroblob(4096) WHERE pgno = 2", "not authorized"},
		{"SELECT * FROM dbstat", "prohibited"},
	} {
		c, err := s.Exec(tc.q)
		if err == nil && tc.msg == "" {
			// Statements that may compile (CREATE VIEW) must still not
			// reveal anything when used.
			c.Close()
			_, err = s.Exec("SELECT * FROM v")
		}
		if err == nil {
			t.Errorf("%s: allowed", tc.q)
			continue
		}
		if tc.msg != "" {
			e, ok := err.(*Error)
			if !ok || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("%s: got %v, want %q", tc.q, err, tc.msg)
			}
		}
	}
	// The hidden tables are intact.
	if v, _ := get(t, s, "k"); v != "v" {
		t.Fatal("KV damaged")
	}
}

func TestSQLAllowed(t *testing.T) {
	s := memStore(t)
	must(t, s.Put("k", []byte("v")))
	exec(t, s, "CREATE TABLE myTable (foo TEXT, bar INTEGER)")
	if rows := exec(t, s, "PRAGMA table_info(myTable)"); len(rows) != 2 {
		t.Fatalf("table_info %v", rows)
	}
	for _, q := range []string{
		"PRAGMA table_xinfo(myTable)",
		"PRAGMA table_list",
		"PRAGMA data_version",
		"PRAGMA foreign_keys",
		"PRAGMA foreign_keys = ON",
		"PRAGMA defer_foreign_keys = 'yes'",
		"PRAGMA defer_foreign_keys = \"0\"",
		"PRAGMA defer_foreign_keys = tRuE",
		"PRAGMA ignore_check_constraints = off",
		"PRAGMA quick_check",
		"PRAGMA quick_check(100)",
		"PRAGMA quick_check(myTable)",
		"PRAGMA foreign_key_check",
		"PRAGMA index_list(myTable)",
		"PRAGMA optimize",
		"PRAGMA optimize(-1)",
		"PRAGMA optimize(0x7fffffff)",
		"ANALYZE",
		"SELECT abs(-1), upper('a'), json_extract('{\"a\":[1,2]}', '$.a[1]'), '{\"a\":2}' -> '$.a', datetime('now'), cos(0)",
		"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10) SELECT sum(x) FROM c",
		"SELECT name FROM sqlite_schema",
		"SELECT name FROM pragma_table_list WHERE name NOT LIKE '_cf_%'",
		"CREATE INDEX idx ON myTable (bar)",
		"CREATE VIEW vw AS SELECT foo FROM myTable",
		"CREATE TRIGGER trg AFTER INSERT ON myTable BEGIN UPDATE myTable SET bar = 1 WHERE rowid = new.rowid; END",
		"INSERT INTO myTable VALUES ('x', 0)",
		"ALTER TABLE myTable RENAME COLUMN foo TO foo2",
		"ALTER TABLE myTable RENAME TO renamed",
		"DROP VIEW vw",
	} {
		c, err := s.Exec(q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		// An unfinished cursor keeps its statement running, and SQLite
		// cannot drop a table while another statement reads.
		c.Close()
	}
	// Double-quoted strings are string literals, as workerd's tests expect.
	if got := one(t, s, `SELECT "foo" AS col`); got != "foo" {
		t.Fatalf("double-quoted string: %v", got)
	}
	if got := one(t, s, "SELECT bar FROM renamed"); got != int64(1) {
		t.Fatalf("trigger did not run: %v", got)
	}

	// Full-text search (fts5 and fts5vocab, module names in any case).
	exec(t, s, "CREATE VIRTUAL TABLE docs USING FtS5(title, body, tokenize = porter)")
	exec(t, s, "CREATE VIRTUAL TABLE docs_v USING fts5VOCAB(docs, row)")
	exec(t, s, "INSERT INTO docs VALUES ('one', 'the contents of document one'), ('two', 'the content of document two')")
	rows := exec(t, s, "SELECT title, highlight(docs, 1, '<', '>') FROM docs WHERE docs MATCH 'content' ORDER BY rank")
	if len(rows) != 2 {
		t.Fatalf("fts rows %v", rows)
	}
	exec(t, s, "DROP TABLE docs_v")
	exec(t, s, "DROP TABLE docs")
}

func TestSQLInterrupt(t *testing.T) {
	s := memStore(t)
	timer := time.AfterFunc(50*time.Millisecond, s.Interrupt)
	defer timer.Stop()
	start := time.Now()
	_, err := s.Exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c")
	wantErr(t, err, "Error", "interrupted: SQLITE_INTERRUPT")
	if time.Since(start) > 5*time.Second {
		t.Fatal("interrupt took too long")
	}
	// The store still works.
	if got := one(t, s, "SELECT 1"); got != int64(1) {
		t.Fatal(got)
	}
}

func TestDatabaseSize(t *testing.T) {
	both(t, func(t *testing.T, s *Store) {
		exec(t, s, "CREATE TABLE first (a)") // the first table also writes page 1
		size0, err := s.DatabaseSize()
		must(t, err)
		exec(t, s, "CREATE TABLE t (a)")
		size1, _ := s.DatabaseSize()
		if size1 != size0+4096 {
			t.Fatalf("a new table took %d bytes (from %d)", size1-size0, size0)
		}
		exec(t, s, "INSERT INTO t SELECT zeroblob(1000) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 100) SELECT x FROM c)")
		size2, _ := s.DatabaseSize()
		if size2 < size1+100*1000 {
			t.Fatalf("100 KB of rows: size %d -> %d", size1, size2)
		}
		exec(t, s, "DROP TABLE t")
		size3, _ := s.DatabaseSize()
		if size3 != size0 {
			t.Fatalf("after DROP: %d, want %d (free pages are not counted)", size3, size0)
		}
	})
}

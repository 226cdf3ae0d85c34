package storage

import (
	"strconv"
	"strings"
	"sync"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQL from user code (Exec) is checked by SQLite's authorizer callback, the
// mechanism workerd uses (src/workerd/util/sqlite.c++, isAuthorized). The
// authorizer sees the parsed statement, action by action (every table read,
// every function, every pragma with its argument), so it cannot be fooled by
// comments, quoting, case or odd spacing the way a text filter could; this
// package therefore does not parse SQL itself. The policy below follows
// workerd's, with one deliberate difference: the reserved prefix _cf_ is
// matched in any case (workerd compares case-sensitively, but SQLite's names
// are case-insensitive, so a user table "_CF_KV" would otherwise shadow the
// hidden KV table before it is first created).
//
// Internal statements (the KV table, alarms, transactions) are prepared and
// stepped with s.trusted set and pass unchecked. The flag is also set around
// every step because SQLite re-prepares, and so re-authorizes, a statement
// when the schema has changed.

// txnRefusedMessage is workerd's message for BEGIN/COMMIT/ROLLBACK/SAVEPOINT/
// RELEASE in user SQL.
const txnRefusedMessage = "To execute a transaction, please use the state.storage.transaction() or " +
	"state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT " +
	"statements. The JavaScript API is safer because it will automatically roll back on " +
	"exceptions, and because it interacts correctly with Durable Objects' automatic atomic " +
	"write coalescing."

// isAllowedName reports whether user SQL may name a table, index, view or
// trigger: everything except the reserved _cf_ prefix.
func isAllowedName(name string) bool {
	return len(name) < 4 || !strings.EqualFold(name[:4], "_cf_")
}

// isAllowedTable is isAllowedName for tables read or written, which also
// refuses the virtual tables this SQLite build offers that expose the raw
// database: sqlite_dbpage returns every page (the hidden tables' data
// included) and dbstat describes them. workerd's SQLite has neither.
func isAllowedTable(name string) bool {
	return isAllowedName(name) && !strings.EqualFold(name, "sqlite_dbpage") && !strings.EqualFold(name, "dbstat")
}

// allowedFunctions is workerd's allow-list of SQL functions. It names
// load_extension, which SQLite then refuses by itself ("not authorized"):
// extension loading is never enabled.
var allowedFunctions = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(`
		abs changes char coalesce concat concat_ws format glob hex ifnull iif instr
		last_insert_rowid length like likelihood likely lower ltrim max_scalar min_scalar
		nullif octet_length printf quote random randomblob replace round rtrim sign soundex
		substr substring total_changes trim typeof unhex unicode unlikely upper zeroblob
		date time datetime julianday unixepoch strftime timediff current_date current_time
		current_timestamp load_extension
		avg count group_concat max min string_agg sum total
		row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value
		last_value nth_value
		acos acosh asin asinh atan atan2 atanh ceil cos cosh degrees exp floor ln log log2
		mod pi pow radians sin sinh sqrt tan tanh trunc
		json json_array json_array_length json_extract -> ->> json_insert json_object
		json_patch json_remove json_replace json_set json_type json_valid json_quote
		json_group_array json_group_object json_each json_tree
		match highlight bm25 snippet
		sqlite_rename_column sqlite_rename_table sqlite_rename_test sqlite_drop_column
		sqlite_rename_quotefix`) {
		m[f] = true
	}
	return m
}()

type pragmaSig int

const (
	pragmaNoArg pragmaSig = iota
	pragmaBoolean
	pragmaObjectName
	pragmaOptionalObjectName
	pragmaNullOrNumber
	pragmaNullNumberOrObjectName
)

// allowedPragmas is workerd's pragma allow-list with the argument each takes.
var allowedPragmas = map[string]pragmaSig{
	"data_version":              pragmaNoArg,
	"case_sensitive_like":       pragmaBoolean,
	"foreign_keys":              pragmaBoolean,
	"defer_foreign_keys":        pragmaBoolean,
	"ignore_check_constraints":  pragmaBoolean,
	"legacy_alter_table":        pragmaBoolean,
	"recursive_triggers":        pragmaBoolean,
	"reverse_unordered_selects": pragmaBoolean,
	"foreign_key_check":         pragmaOptionalObjectName,
	"foreign_key_list":          pragmaObjectName,
	"index_info":                pragmaObjectName,
	"index_list":                pragmaObjectName,
	"index_xinfo":               pragmaObjectName,
	"quick_check":               pragmaNullNumberOrObjectName,
	"optimize":                  pragmaNullOrNumber,
}

// authorizers maps the handle passed to sqlite3_set_authorizer to its Store.
var authorizers sync.Map // uintptr -> *Store

var authHandles struct {
	sync.Mutex
	next uintptr
}

func newAuthHandle() uintptr {
	authHandles.Lock()
	defer authHandles.Unlock()
	authHandles.next++
	return authHandles.next
}

// optString is a C string argument that may be NULL.
type optString struct {
	s  string
	ok bool
}

func cOpt(p uintptr) optString {
	if p == 0 {
		return optString{}
	}
	return optString{libc.GoString(p), true}
}

func authTrampoline(_ *libc.TLS, handle uintptr, action int32, z1, z2, zDB, zTrigger uintptr) (rc int32) {
	v, ok := authorizers.Load(handle)
	if !ok {
		return sqlite3.SQLITE_DENY
	}
	s := v.(*Store)
	if s.trusted {
		return sqlite3.SQLITE_OK
	}
	defer func() {
		if recover() != nil {
			rc = sqlite3.SQLITE_DENY
		}
	}()
	if zTrigger == 0 && (action == sqlite3.SQLITE_UPDATE || action == sqlite3.SQLITE_DELETE) {
		s.prepModifies = true // the statement reads the rows it changes
	}
	if s.authorize(action, cOpt(z1), cOpt(z2), cOpt(zDB)) {
		return sqlite3.SQLITE_OK
	}
	return sqlite3.SQLITE_DENY
}

// authorize is the policy for user SQL (workerd's isAuthorized with an
// untrusted regulator).
func (s *Store) authorize(action int32, p1, p2, dbName optString) bool {
	// For these two SQLite passes the database name first.
	if action == sqlite3.SQLITE_ALTER_TABLE || action == sqlite3.SQLITE_DETACH {
		p1, p2, dbName = p2, dbName, p1
	}
	if dbName.ok {
		if dbName.s == "temp" {
			// SQLite itself reads the temp schema; nothing else there.
			return (action == sqlite3.SQLITE_READ || action == sqlite3.SQLITE_UPDATE) && isAllowedTable(p1.s)
		}
		if dbName.s != "main" {
			return false
		}
	}
	switch action {
	case sqlite3.SQLITE_SELECT, sqlite3.SQLITE_RECURSIVE, sqlite3.SQLITE_ANALYZE:
		// ANALYZE of every table is what PRAGMA optimize does; it reveals
		// statistics, not data (workerd allows it for the same reason).
		return true
	case sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_DROP_TABLE, sqlite3.SQLITE_CREATE_VIEW,
		sqlite3.SQLITE_DROP_VIEW, sqlite3.SQLITE_REINDEX, sqlite3.SQLITE_ALTER_TABLE:
		return isAllowedName(p1.s)
	case sqlite3.SQLITE_READ, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_INSERT, sqlite3.SQLITE_DELETE:
		return isAllowedTable(p1.s)
	case sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_DROP_INDEX,
		sqlite3.SQLITE_CREATE_TRIGGER, sqlite3.SQLITE_DROP_TRIGGER:
		return isAllowedName(p1.s) && isAllowedName(p2.s)
	case sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT:
		s.authErr = &Error{Type: "Error", Message: txnRefusedMessage}
		return false
	case sqlite3.SQLITE_PRAGMA:
		return pragmaAllowed(p1.s, p2)
	case sqlite3.SQLITE_FUNCTION:
		return allowedFunctions[p2.s]
	case sqlite3.SQLITE_CREATE_VTABLE, sqlite3.SQLITE_DROP_VTABLE:
		// Only full-text search: virtual tables run native code.
		return p2.ok && (strings.EqualFold(p2.s, "fts5") || strings.EqualFold(p2.s, "fts5vocab")) &&
			isAllowedName(p1.s)
	default:
		// ATTACH, DETACH, everything TEMP, and anything unknown.
		return false
	}
}

func pragmaAllowed(name string, arg optString) bool {
	switch name {
	case "table_list":
		return true
	case "table_info", "table_xinfo":
		return arg.ok && isAllowedName(arg.s)
	}
	sig, ok := allowedPragmas[name]
	if !ok {
		return false
	}
	switch sig {
	case pragmaNoArg:
		return !arg.ok
	case pragmaBoolean:
		if !arg.ok {
			return true // reading the current value
		}
		v := arg.s
		if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		switch strings.ToLower(v) {
		case "true", "false", "yes", "no", "on", "off", "1", "0":
			return true
		}
		return false
	case pragmaObjectName:
		return arg.ok && isAllowedName(arg.s)
	case pragmaOptionalObjectName:
		return !arg.ok || isAllowedName(arg.s)
	case pragmaNullOrNumber:
		if !arg.ok {
			return true
		}
		_, err := strconv.ParseInt(arg.s, 0, 32)
		return err == nil
	case pragmaNullNumberOrObjectName:
		if !arg.ok {
			return true
		}
		if _, err := strconv.ParseUint(arg.s, 10, 32); err == nil {
			return true
		}
		return isAllowedName(arg.s)
	}
	return false
}

package runtime

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/isola-run/isola/internal/jsvm"
	"github.com/isola-run/isola/internal/storage"
	"modernc.org/quickjs"
)

// ctx.storage (68_storage.js) on top of internal/storage.
//
// Every Durable Object of an isolate has its Store here under a handle. The
// stores share the isolate's turns: addStore opens a batch (Store.Begin),
// writes join it, and commitStores, which the loop calls at the end of each
// turn, commits the batches of the stores written since the last call and
// opens the next ones. Stores nobody wrote to keep their empty batch, which
// costs nothing, so a turn costs in proportion to the stores it wrote.
//
// Values cross as the JSON of the prelude's value encoding plus a list of
// ArrayBuffers. They are stored as that JSON when there are no buffers (an
// operator's sqlite3 shows it as it is) and otherwise as the byte 0x00, a
// uvarint count of buffers, each buffer as a uvarint length and its bytes,
// and the JSON. A value that has no tag ("$") reaches JavaScript as a plain
// string for JSON.parse; anything else comes with its buffers in an array.
//
// Host functions here do not throw: a failure returns null and leaves its
// "Name: message" for stError, so the common path builds no result pair.

type storeOptions struct {
	// Facet: setAlarm throws "Facets currently cannot set alarms." (the
	// Store enforces it through storage.Options.Facet) and, as in workerd,
	// the facet is reset with that error.
	Facet bool
	// Legacy: a key-value-backed class (migrations new_classes), on which
	// ctx.storage.sql and ctx.storage.kv throw workerd's errors.
	Legacy bool
}

// storeFailure is a store that must be reset: its commit failed, or an
// operation failed in a way user code cannot handle.
type storeFailure struct {
	Handle int
	Err    error
}

// storeTable is an isolate's stores. Loop goroutine only.
type storeTable struct {
	stores  map[int]*storeEntry
	next    int
	dirty   []*storeEntry // written since the last commitStores
	errText string        // the last failure, for stError
}

type storeEntry struct {
	h      int
	s      *storage.Store
	o      storeOptions
	dirty  bool
	gone   bool  // dropped; still in dirty until the next commitStores
	broken error // reported (once) by the next commitStores

	txns    map[int]*storage.Txn // transaction() and transactionSync(), by id
	cursors map[int]*storage.Cursor
	nextID  int
}

// storeTable returns the isolate's stores, made on first use: Go adds a
// store (addStore) before the prelude registers the storage functions.
func (iso *Isolate) storeTable() *storeTable {
	if iso.stores == nil {
		iso.stores = &storeTable{}
	}
	return iso.stores
}

// addStore makes s reachable from JavaScript (storageMake(handle, ...))
// and opens its first batch.
func (iso *Isolate) addStore(s *storage.Store, o storeOptions) int {
	t := iso.storeTable()
	t.next++
	e := &storeEntry{h: t.next, s: s, o: o}
	if t.stores == nil {
		t.stores = map[int]*storeEntry{}
	}
	t.stores[e.h] = e
	if err := s.Begin(); err != nil {
		t.breakStore(e, err)
	}
	return e.h
}

// dropStore forgets the store behind h: its cursors are closed, its open
// transactions and its uncommitted batch rolled back. It does not Close the
// Store.
func (iso *Isolate) dropStore(h int) {
	t := iso.storeTable()
	e := t.stores[h]
	if e == nil {
		return
	}
	delete(t.stores, h)
	e.gone = true
	for _, c := range e.cursors {
		c.Close()
	}
	e.cursors = nil
	ids := make([]int, 0, len(e.txns))
	for id := range e.txns {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for i := len(ids) - 1; i >= 0; i-- {
		e.txns[ids[i]].Rollback()
	}
	e.txns = nil
	if e.s.InBatch() {
		e.s.Rollback()
	}
}

// commitStores commits every store written since the last call (durable
// when it returns) and opens their next batches. It reports the stores
// whose commit failed, and those broken meanwhile; they must be reset.
func (iso *Isolate) commitStores() ([]storeFailure, []storeSync) {
	t := iso.storeTable()
	if t == nil {
		return nil, nil
	}
	var failed []storeFailure
	var syncs []storeSync
	for _, e := range t.dirty {
		e.dirty = false
		if e.gone {
			continue
		}
		var err error
		if e.broken != nil {
			err, e.broken = e.broken, nil
			if e.s.InBatch() {
				e.s.Rollback()
			}
		} else if e.s.InBatch() {
			err = e.s.Commit()
			if sync := e.s.Syncer(); err == nil && sync != nil {
				syncs = append(syncs, storeSync{e.h, sync})
			}
		}
		if berr := e.s.Begin(); berr != nil && !errors.Is(berr, storage.ErrInBatch) && err == nil {
			err = berr
		}
		if err != nil {
			failed = append(failed, storeFailure{e.h, err})
		}
	}
	clear(t.dirty)
	t.dirty = t.dirty[:0]
	return failed, syncs
}

// storesDirty reports whether some store has writes not yet committed (or a
// failure not yet reported).
func (iso *Isolate) storesDirty() bool {
	return iso.stores != nil && len(iso.stores.dirty) > 0
}

// touched notes that e may have written; it joins the next commitStores
// when it holds uncommitted writes.
func (t *storeTable) touched(e *storeEntry) {
	if !e.dirty && e.s.Uncommitted() {
		e.dirty = true
		t.dirty = append(t.dirty, e)
	}
}

func (t *storeTable) breakStore(e *storeEntry, err error) {
	if e.broken == nil {
		e.broken = err
	}
	if !e.dirty {
		e.dirty = true
		t.dirty = append(t.dirty, e)
	}
}

// fail records err for stError and returns the null that tells
// JavaScript to fetch it. Errors that are not storage.Error are the
// runtime's own (I/O, a closed store): user code gets workerd's opaque
// internal error and the object is reset at the end of the turn.
func (t *storeTable) fail(e *storeEntry, err error) any {
	var se *storage.Error
	if errors.As(err, &se) {
		t.errText = se.Type + ": " + se.Message
		if e != nil {
			t.touched(e)
		}
		return nil
	}
	t.errText = "Error: internal error"
	if e != nil {
		t.breakStore(e, err)
	}
	return nil
}

func (t *storeTable) entry(h int) *storeEntry {
	if e := t.stores[h]; e != nil {
		return e
	}
	t.errText = "Error: Durable Object storage is no longer available."
	return nil
}

// stDone is what a host function with nothing to answer returns on success
// (null would mean failure).
const stDone = true

// storageHost adds the host functions behind ctx.storage (68_storage.js).
func (iso *Isolate) storageHost(fns map[string]any) {
	t := iso.storeTable()
	vm := func() *quickjs.VM { return iso.vm }

	fns["stError"] = func() string { return t.errText }

	// ---- key-value ----

	fns["stGet"] = func(h int, key string) any {
		e := t.entry(h)
		if e == nil {
			return nil
		}
		b, found, err := e.s.Get(key)
		if err != nil {
			return t.fail(e, err)
		}
		if !found {
			return quickjs.Undefined{}
		}
		v, err := valueToJS(vm(), b)
		if err != nil {
			return t.fail(e, err)
		}
		return v
	}
	fns["stPut"] = func(h int, key, js string, bufs ...quickjs.Value) any {
		e := t.entry(h)
		if e == nil {
			return nil
		}
		v, err := encodeStored(js, bufs)
		if err == nil {
			err = e.s.Put(key, v)
		}
		if err != nil {
			return t.fail(e, err)
		}
		t.touched(e)
		return stDone
	}
	fns["stDelete"] = func(h int, key string) any {
		e := t.entry(h)
		if e == nil {
			return nil
		}
		found, err := e.s.Delete(key)
		if err != nil {
			return t.fail(e, err)
		}
		t.touched(e)
		return found
	}
	// stGetMany takes a JSON array of keys and answers as stList does, in
	// key order, without the keys that are missing.
	fns["stGetMany"] = func(h int, keysJSON string) any {
		e := t.entry(h)
		if e == nil {
			return nil
		}
		var keys []string
		if err := json.Unmarshal([]byte(keysJSON), &keys); err != nil {
			return t.fail(e, err)
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		var l listPacket
		for _, k := range keys {
			b, found, err := e.s.Get(k)
			if err != nil {
				return t.fail(e, err)
			}
			if found {
				if err := l.add(k, b); err != nil {
					return t.fail(e, err)
				}
			}
		}
		return l.js(vm())
	}
	// stList takes the options as JSON: {start, startAfter, end, prefix}
	// (strings, absent when unset), reverse and limit.
	fns["stList"] = func(h int, optsJSON string) any {
		e := t.entry(h)
		if e == nil {
			return nil
		}
		var o struct {
			Start, StartAfter, End, Prefix *string
			Reverse                        bool
			Limit                          int
		}
		if err := json.Unmarshal([]byte(optsJSON), &o); err != nil {
			return t.fail(e, err)
		}
		kvs, err := e.s.List(storage.ListOptions{Start: o.Start, StartAfter: o.StartAfter, End: o.End, Prefix: o.Prefix, Reverse: o.Reverse, Limit: o.Limit})
		if err != nil {
			return t.fail(e, err)
		}
		var l listPacket
		for _, kv := range kvs {
			if err := l.add(kv.Key, kv.Value); err != nil {
				return t.fail(e, err)
			}
		}
		return l.js(vm())
	}

	// ---- transactions ----

	// stTxBegin opens a transaction: for transactionSync() (sync true) or
	// transaction(). It answers the transaction's id.
	fns["stTxBegin"] = func(h int, sync bool) any {
		e := t.entry(h)
		if e == nil {
			return nil
		}
		var tx *storage.Txn
		var err error
		if sync {
			tx, err = e.s.BeginSync()
		} else {
			tx, err = e.s.BeginTxn()
		}
		if err != nil {
			return t.fail(e, err)
		}
		if e.txns == nil {
			e.txns = map[int]*storage.Txn{}
		}
		e.nextID++
		e.txns[e.nextID] = tx
		t.touched(e)
		return e.nextID
	}
	fns["stTxEnd"] = func(h, id int, commit bool) any {
		e := t.entry(h)
		if e == nil {
			return nil
		}
		tx := e.txns[id]
		if tx == nil {
			return stDone // rolled back with its store, or already ended
		}
		var err error
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		switch {
		case errors.Is(err, storage.ErrTxnOrder):
			// Still open: a nested transaction has to end first.
			t.errText = "Error: Cannot commit an outer transaction while a nested transaction is still running."
			return nil
		case isUserError(err):
			return t.fail(e, err) // still open, for the same reason
		}
		delete(e.txns, id)
		if err != nil {
			return t.fail(e, err)
		}
		t.touched(e)
		return stDone
	}
	fns["stDeleteAll"] = func(h int) any {
		e := t.entry(h)
		if e == nil {
			return nil
		}
		err := e.s.DeleteAll(storage.DeleteAllOptions{DeleteAlarm: iso.features.DeleteAllDeletesAlarm})
		if err != nil {
			return t.fail(e, err)
		}
		// The database is new: its cursors are gone with the old one.
		for id, c := range e.cursors {
			c.Close()
			delete(e.cursors, id)
		}
		t.touched(e)
		return stDone
	}

	// ---- alarms: milliseconds since the epoch; 0 means none ----

	fns["stGetAlarm"] = func(h int) any {
		e := t.entry(h)
		if e == nil {
			return nil
		}
		at, found, err := e.s.GetAlarm()
		if err != nil {
			return t.fail(e, err)
		}
		if !found {
			return 0
		}
		return float64(at.UnixNano() / int64(time.Millisecond))
	}
	fns["stSetAlarm"] = func(h int, ms float64) any {
		e := t.entry(h)
		if e == nil {
			return nil
		}
		if err := e.s.SetAlarm(time.UnixMilli(int64(ms))); err != nil {
			if e.o.Facet && isUserError(err) {
				// workerd fails a facet's alarm in its storage layer, which
				// breaks the facet's output gate: the caller gets the error
				// and the facet is reset with it.
				t.breakStore(e, err)
			}
			return t.fail(e, err)
		}
		t.touched(e)
		return stDone
	}
	fns["stDeleteAlarm"] = func(h int) any {
		e := t.entry(h)
		if e == nil {
			return nil
		}
		if err := e.s.DeleteAlarm(); err != nil {
			return t.fail(e, err)
		}
		t.touched(e)
		return stDone
	}

	// ---- SQL ----

	fns["stSqlSize"] = func(h int) any {
		e := t.entry(h)
		if e == nil {
			return nil
		}
		n, err := e.s.DatabaseSize()
		if err != nil {
			return t.fail(e, err)
		}
		return float64(n)
	}
	// stSqlExec runs a query. Bindings are null, numbers, strings and
	// ArrayBuffers (68_storage.js converts the rest as workerd does);
	// buffers marks the ArrayBuffers with a 'b' at their index (asking the
	// engine whether a value is one costs an exception when it is not). It
	// answers the first rows as sqlRows describes; when rows remain, the
	// cursor stays open under the answer's "k" for stSqlNext.
	fns["stSqlExec"] = func(h int, query, buffers string, binds ...quickjs.Value) any {
		e := t.entry(h)
		if e == nil {
			return nil
		}
		args := make([]any, len(binds))
		for i, b := range binds {
			if i < len(buffers) && buffers[i] == 'b' {
				buf, isBuf := jsvm.ArrayBufferBytes(b)
				if !isBuf {
					return t.fail(e, errors.New("SQL binding: not an ArrayBuffer"))
				}
				args[i] = buf
				continue
			}
			v, err := b.Any()
			if err != nil {
				return t.fail(e, err)
			}
			switch n := v.(type) {
			case int:
				// workerd binds every number as a double.
				v = float64(n)
			case string, float64, nil:
			default:
				return t.fail(e, &storage.Error{Type: "TypeError", Message: "unsupported SQL binding"})
			}
			args[i] = v
		}
		c, err := e.s.Exec(query, args...)
		if err != nil {
			return t.fail(e, err)
		}
		defer t.touched(e)
		return t.sqlRows(vm(), e, c, 0, true)
	}
	fns["stSqlNext"] = func(h, id int) any {
		e := t.entry(h)
		if e == nil {
			return nil
		}
		c := e.cursors[id]
		if c == nil {
			t.errText = "Error: SQLite query was canceled because the database was deleted."
			return nil
		}
		defer t.touched(e)
		return t.sqlRows(vm(), e, c, id, false)
	}
	fns["stSqlClose"] = func(h, id int) {
		if e := t.stores[h]; e != nil {
			if c := e.cursors[id]; c != nil {
				c.Close()
				delete(e.cursors, id)
			}
		}
	}
}

func isUserError(err error) bool {
	var se *storage.Error
	return errors.As(err, &se)
}

// ---- stored values ----

// encodeStored turns a value's JSON and buffers into its stored bytes.
func encodeStored(js string, bufs []quickjs.Value) ([]byte, error) {
	if len(bufs) == 0 {
		return unsafe.Slice(unsafe.StringData(js), len(js)), nil
	}
	size := 1 + binary.MaxVarintLen64 + len(js)
	raw := make([][]byte, len(bufs))
	for i, v := range bufs {
		b, isBuf := jsvm.ArrayBufferBytes(v)
		if !isBuf {
			return nil, errors.New("storage value: a buffer is not an ArrayBuffer")
		}
		raw[i] = b
		size += binary.MaxVarintLen64 + len(b)
	}
	out := make([]byte, 0, size)
	out = append(out, 0)
	out = binary.AppendUvarint(out, uint64(len(raw)))
	for _, b := range raw {
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return append(out, js...), nil
}

// decodeStored splits stored bytes into the value's JSON and buffers.
func decodeStored(b []byte) (js []byte, bufs [][]byte, err error) {
	if len(b) == 0 {
		return nil, nil, errors.New("storage value: empty")
	}
	if b[0] != 0 {
		return b, nil, nil
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, nil, errors.New("storage value: bad buffer count")
	}
	b = b[k:]
	bufs = make([][]byte, n)
	for i := range bufs {
		size, k := binary.Uvarint(b)
		if k <= 0 || size > uint64(len(b)-k) {
			return nil, nil, errors.New("storage value: bad buffer length")
		}
		bufs[i] = b[k : k+int(size)]
		b = b[k+int(size):]
	}
	return b, bufs, nil
}

var tagMark = []byte(`"$"`)

// valueToJS answers a stored value as stGet does: the JSON text itself when
// it has no tag, else [json, ...buffers].
func valueToJS(vm *quickjs.VM, b []byte) (any, error) {
	js, bufs, err := decodeStored(b)
	if err != nil {
		return nil, err
	}
	if len(bufs) == 0 && !bytes.Contains(js, tagMark) {
		// b is the Store's fresh copy, owned by nobody else.
		return unsafe.String(unsafe.SliceData(js), len(js)), nil
	}
	out := make([]any, 1+len(bufs))
	out[0] = string(js)
	for i, buf := range bufs {
		out[1+i] = jsvm.NewArrayBuffer(vm, buf)
	}
	return out, nil
}

// listPacket carries key-value pairs to JavaScript in one string: the JSON
// array [key, value, key, value, ...], each value spliced in as the JSON it
// is stored as. Values with tags are listed in tagged as [pair index, index
// of their first buffer]; their buffers follow the JSON in the answer.
type listPacket struct {
	json   []byte
	tagged []byte
	bufs   [][]byte
	n      int
}

func (l *listPacket) add(key string, stored []byte) error {
	js, bufs, err := decodeStored(stored)
	if err != nil {
		return err
	}
	if l.json == nil {
		l.json = append(make([]byte, 0, 256), '[')
	} else {
		l.json = append(l.json, ',')
	}
	l.json = appendJSONString(l.json, key)
	l.json = append(l.json, ',')
	l.json = append(l.json, js...)
	if len(bufs) > 0 || bytes.Contains(js, tagMark) {
		if l.tagged == nil {
			l.tagged = append(l.tagged, '[')
		} else {
			l.tagged = append(l.tagged, ',')
		}
		l.tagged = append(l.tagged, '[')
		l.tagged = strconv.AppendInt(l.tagged, int64(l.n), 10)
		l.tagged = append(l.tagged, ',')
		l.tagged = strconv.AppendInt(l.tagged, int64(len(l.bufs)), 10)
		l.tagged = append(l.tagged, ']')
		l.bufs = append(l.bufs, bufs...)
	}
	l.n++
	return nil
}

// js answers the packet: a string when no value has tags, else
// [json, taggedJSON, ...buffers].
func (l *listPacket) js(vm *quickjs.VM) any {
	if l.json == nil {
		return "[]"
	}
	l.json = append(l.json, ']')
	if l.tagged == nil {
		return unsafe.String(unsafe.SliceData(l.json), len(l.json))
	}
	l.tagged = append(l.tagged, ']')
	out := make([]any, 2+len(l.bufs))
	out[0] = unsafe.String(unsafe.SliceData(l.json), len(l.json))
	out[1] = string(l.tagged)
	for i, b := range l.bufs {
		out[2+i] = jsvm.NewArrayBuffer(vm, b)
	}
	return out
}

// ---- SQL results ----

// Rows cross in chunks: one host call per row would cost more than the rows.
const (
	sqlChunkRows  = 1024
	sqlChunkBytes = 1 << 20
)

// sqlRows reads the next chunk of c's rows into the JSON array
//
//	[rows read, rows written, cursor id (0 when done), special (0 or 1),
//	 rows as arrays, column names (first chunk only, else 0), error?]
//
// An array, because the engine parses one faster than an object (and each
// item costs, so the error is there only when there is one); the
// JavaScript cursor keeps the first one as its state. With special
// set, a blob is {"b": index of its buffer} and an infinity {"f": 1} or
// {"f": -1} (SQL values are never objects otherwise). An error met after
// some rows is the error item, "Name: message", for JavaScript to throw
// once it has handed out the rows before it; one met before any row fails
// the call. The answer is the JSON, or [json, ...buffers] when there are
// blobs.
func (t *storeTable) sqlRows(vm *quickjs.VM, e *storeEntry, c *storage.Cursor, id int, first bool) any {
	rowsJSON := make([]byte, 0, 64)
	rowsJSON = append(rowsJSON, '[')
	var blobs [][]byte
	special := false
	rows := 0
	done := false
	var stepErr error
	for rows < sqlChunkRows && len(rowsJSON) < sqlChunkBytes {
		more, err := c.Step()
		if err != nil {
			stepErr = err
			done = true
			break
		}
		if !more {
			done = true
			break
		}
		if rows > 0 {
			rowsJSON = append(rowsJSON, ',')
		}
		rowsJSON = append(rowsJSON, '[')
		for i := range c.Columns() {
			if i > 0 {
				rowsJSON = append(rowsJSON, ',')
			}
			switch c.Type(i) {
			case storage.Integer:
				rowsJSON = strconv.AppendInt(rowsJSON, c.Int64(i), 10)
			case storage.Float:
				f := c.Float64(i)
				switch {
				case math.IsInf(f, 1):
					rowsJSON = append(rowsJSON, `{"f":1}`...)
					special = true
				case math.IsInf(f, -1):
					rowsJSON = append(rowsJSON, `{"f":-1}`...)
					special = true
				case math.IsNaN(f):
					rowsJSON = append(rowsJSON, "null"...)
				default:
					rowsJSON = strconv.AppendFloat(rowsJSON, f, 'g', -1, 64)
				}
			case storage.Text:
				rowsJSON = appendJSONString(rowsJSON, c.Text(i))
			case storage.Blob:
				rowsJSON = append(rowsJSON, `{"b":`...)
				rowsJSON = strconv.AppendInt(rowsJSON, int64(len(blobs)), 10)
				rowsJSON = append(rowsJSON, '}')
				blobs = append(blobs, c.Blob(i))
				special = true
			default:
				rowsJSON = append(rowsJSON, "null"...)
			}
		}
		rowsJSON = append(rowsJSON, ']')
		rows++
	}
	rowsJSON = append(rowsJSON, ']')
	if stepErr != nil && rows == 0 {
		t.closeCursor(e, id)
		c.Close()
		return t.fail(e, stepErr)
	}
	if done {
		t.closeCursor(e, id)
		id = 0
	} else if id == 0 {
		if e.cursors == nil {
			e.cursors = map[int]*storage.Cursor{}
		}
		e.nextID++
		id = e.nextID
		e.cursors[id] = c
	}
	out := make([]byte, 0, len(rowsJSON)+64)
	out = append(out, '[')
	out = strconv.AppendInt(out, c.RowsRead(), 10)
	out = append(out, ',')
	out = strconv.AppendInt(out, c.RowsWritten(), 10)
	out = append(out, ',')
	out = strconv.AppendInt(out, int64(id), 10)
	if special {
		out = append(out, ",1,"...)
	} else {
		out = append(out, ",0,"...)
	}
	out = append(out, rowsJSON...)
	out = append(out, ',')
	if first {
		out = append(out, '[')
		for i, name := range c.Columns() {
			if i > 0 {
				out = append(out, ',')
			}
			out = appendJSONString(out, name)
		}
		out = append(out, ']')
	} else {
		out = append(out, '0')
	}
	if stepErr != nil {
		t.fail(e, stepErr)
		out = append(out, ',')
		out = appendJSONString(out, t.errText)
	}
	out = append(out, ']')
	if done {
		c.Close()
	}
	js := unsafe.String(unsafe.SliceData(out), len(out))
	if len(blobs) == 0 {
		return js
	}
	res := make([]any, 1+len(blobs))
	res[0] = js
	for i, b := range blobs {
		res[1+i] = jsvm.NewArrayBuffer(vm, b)
	}
	return res
}

func (t *storeTable) closeCursor(e *storeEntry, id int) {
	if c := e.cursors[id]; c != nil {
		c.Close()
		delete(e.cursors, id)
	}
}

// appendJSONString appends s as a JSON string. Bytes that are not UTF-8
// (SQLite text can hold anything) become U+FFFD.
func appendJSONString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b >= 0x20 && b != '"' && b != '\\' && b < utf8.RuneSelf {
			i++
			continue
		}
		if b >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				out = append(out, s[start:i]...)
				out = append(out, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		out = append(out, s[start:i]...)
		switch b {
		case '"':
			out = append(out, `\"`...)
		case '\\':
			out = append(out, `\\`...)
		case '\n':
			out = append(out, `\n`...)
		case '\r':
			out = append(out, `\r`...)
		case '\t':
			out = append(out, `\t`...)
		default:
			out = append(out, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
		}
		i++
		start = i
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}

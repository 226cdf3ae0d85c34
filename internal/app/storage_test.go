package app

import (
	"encoding/json"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/runtime"
	"github.com/isola-run/isola/internal/storage"
)

// ctx.storage end to end: real Durable Objects, their databases on disk.

const storageConfig = `{ "name": "t", "main": "worker.js", "compatibility_date": "%DATE%",
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Store"], "new_classes": ["Legacy"] }],
  "durable_objects": { "bindings": [{ "name": "S", "class_name": "Store" }, { "name": "L", "class_name": "Legacy" }] } }`

// storageWorker routes /<method>?o=<object> to an RPC method of Store (or
// of Legacy for /legacy) and answers its result as JSON.
const storageWorker = `
import { DurableObject } from "cloudflare:workers";
const probe = (fn) => { try { return fn(); } catch (e) { return "threw " + e.name + ": " + e.message; } };
const aprobe = async (fn) => { try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Store extends DurableObject {
  async alarm() {}
  write() {
    const kv = this.ctx.storage.kv;
    kv.put("plain", { a: [1, "two", null, true], s: "é😀" });
    kv.put("tagged", { d: new Date(5), m: new Map([[1, new Uint8Array([1, 2, 3])]]), u: undefined, big: 10n, buf: new ArrayBuffer(2) });
    const cyc = { n: 1 }; cyc.self = cyc;
    kv.put("cycle", cyc);
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT, b BLOB)");
    this.ctx.storage.sql.exec("INSERT INTO t (v, b) VALUES (?, ?), (?, ?)", "x", new Uint8Array([7]), "y", null);
    return "ok";
  }
  async writeAsync() {
    await this.ctx.storage.put({ a1: 1, a2: { z: [2] } });
    return (await this.ctx.storage.get(["a2", "a1", "nope"])).size;
  }
  read() {
    const kv = this.ctx.storage.kv;
    const t = kv.get("tagged");
    const c = kv.get("cycle");
    return {
      plain: kv.get("plain"),
      tagged: [t.d.getTime(), [...t.m.get(1)], "u" in t && t.u === undefined, String(t.big), t.buf.byteLength],
      cycle: c.self === c,
      rows: this.ctx.storage.sql.exec("SELECT v, b FROM t ORDER BY id").raw().toArray()
        .map(([v, b]) => [v, b === null ? null : [...new Uint8Array(b)]]),
      keys: [...kv.list()].map(([k]) => k),
    };
  }

  // Rows in chunks: more rows than one host call carries, read with next(),
  // raw() and the iterator in turn.
  cursor() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS big (n INTEGER PRIMARY KEY, b BLOB, f REAL)");
    this.ctx.storage.transactionSync(() => {
      for (let i = 0; i < 2500; i++) sql.exec("INSERT INTO big VALUES (?, ?, ?)", i, new Uint8Array([i & 255]), i === 7 ? Infinity : i / 2);
    });
    const c = sql.exec("SELECT n, b, f FROM big ORDER BY n");
    const first = c.next().value;
    const raw = c.raw();
    const second = raw.next().value;
    let count = 2, sum = 0, ok = true;
    for (const row of c) {
      ok &&= row.n === count && new Uint8Array(row.b)[0] === (count & 255) && (count === 7 ? row.f === Infinity : row.f === count / 2);
      sum += row.n;
      count++;
    }
    return { first: [first.n, [...new Uint8Array(first.b)], first.f], second: [second[0], second[2]], count, ok, sum,
      rowsRead: c.rowsRead, columnNames: c.columnNames, after: c.next() };
  }
  async deleted() {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE d (n)");
    sql.exec("INSERT INTO d VALUES (1), (2), (3)");
    const c = sql.exec("SELECT n FROM d");
    c.next();
    const big = sql.exec("SELECT n FROM big");
    big.next();
    this.ctx.storage.kv.put("k", 1);
    await this.ctx.storage.deleteAll();
    return {
      buffered: probe(() => c.next()),
      open: probe(() => { for (const _ of big); }),
      tables: sql.exec("SELECT name FROM sqlite_schema").toArray(),
      kv: [...this.ctx.storage.kv.list()],
      fresh: sql.exec("SELECT 1 AS one").one(),
    };
  }

  transactions() {
    const st = this.ctx.storage;
    st.kv.put("n", 1);
    const thrown = probe(() => st.transactionSync(() => { st.kv.put("n", 2); st.sql.exec("CREATE TABLE gone (a)"); throw new RangeError("undo"); }));
    const nested = st.transactionSync(() => {
      st.kv.put("n", 3);
      probe(() => st.transactionSync(() => { st.kv.put("n", 4); throw new Error("inner"); }));
      return st.kv.get("n");
    });
    return { thrown, nested, n: st.kv.get("n"), gone: st.sql.exec("SELECT count(*) AS c FROM sqlite_schema WHERE name = 'gone'").one().c };
  }
  async slowTransaction() {
    return await this.ctx.storage.transaction(async (txn) => {
      await txn.put("slow", "inside");
      await sleep(60);
      txn.rollback();
      return "rolled back";
    });
  }
  peek() { return this.ctx.storage.kv.get("slow") ?? "nothing"; }

  async alarmAndDeleteAll() {
    const st = this.ctx.storage;
    await st.setAlarm(Date.now() + 3600_000);
    await st.deleteAll();
    return await st.getAlarm();
  }
}

export class Legacy extends DurableObject {
  async run() {
    const st = this.ctx.storage;
    await st.put("k", "v");
    return {
      async: await st.get("k"),
      kv: probe(() => st.kv.get("k")),
      sql: probe(() => st.sql.exec("SELECT 1")),
      size: probe(() => st.sql.databaseSize),
      txSync: probe(() => st.transactionSync(() => "works")),
    };
  }
}

export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    const method = url.pathname.slice(1);
    if (method === "legacy") return Response.json(await env.L.getByName("x").run());
    return Response.json(await env.S.getByName(url.searchParams.get("o") ?? "x")[method]());
  },
};`

type storageApp struct {
	t     *testing.T
	a     *App
	state string
	logs  *logBuffer
	files map[string]string
}

func startStorageApp(t *testing.T, date, state string) *storageApp {
	t.Helper()
	files := map[string]string{
		"wrangler.jsonc": strings.ReplaceAll(storageConfig, "%DATE%", date),
		"worker.js":      storageWorker,
	}
	s := &storageApp{t: t, state: state, files: files}
	s.open()
	return s
}

func (s *storageApp) open() {
	s.t.Helper()
	s.logs = &logBuffer{}
	a, err := LoadWith(project(s.t, s.files), log.New(s.logs, "", 0), Options{StateDir: s.state})
	if err != nil {
		s.t.Fatal(err)
	}
	s.a = a
}

func (s *storageApp) close() {
	if s.a != nil {
		s.a.Close()
		s.a = nil
	}
}

// call runs /method and decodes its JSON answer into out.
func (s *storageApp) call(path string, out any) {
	s.t.Helper()
	status, body := get(s.t, s.a, "GET", path, "")
	if status != 200 {
		s.t.Fatalf("%s: %d %s\n%s", path, status, body, s.logs.String())
	}
	if err := json.Unmarshal([]byte(body), out); err != nil {
		s.t.Fatalf("%s: %v in %s", path, err, body)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Values of every kind come back as they went in after a restart, and the
// KV table holds them in the stored value format.
func TestStorageSurvivesRestart(t *testing.T) {
	state := t.TempDir()
	s := startStorageApp(t, "2026-11-01", state)
	defer s.close()
	var ok string
	s.call("/write?o=a", &ok)
	var n float64
	s.call("/writeAsync?o=a", &n)
	if n != 2 {
		t.Fatalf("get of 3 keys (2 stored) gave %v entries", n)
	}
	const want = `{"cycle":true,"keys":["a1","a2","cycle","plain","tagged"],"plain":{"a":[1,"two",null,true],"s":"é😀"},` +
		`"rows":[["x",[7]],["y",null]],"tagged":[5,[1,2,3],true,"10",2]}`
	var before any
	s.call("/read?o=a", &before)
	if got := jsonOf(t, before); got != want {
		t.Fatalf("before the restart:\n got %s\nwant %s", got, want)
	}
	s.close()

	ns, err := storage.NewDirectory(filepath.Join(state, "objects")).Namespace("Store")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := ns.Objects()
	if err != nil || len(objs) != 1 {
		t.Fatalf("objects %v, %v", objs, err)
	}
	st, err := ns.OpenReadOnly(objs[0].ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, _, _ := st.Get("plain")
	tagged, _, _ := st.Get("tagged")
	st.Close()
	if string(plain) != `{"a":[1,"two",null,true],"s":"é😀"}` {
		t.Errorf("a value without buffers is stored as its JSON, got %q", plain)
	}
	if len(tagged) == 0 || tagged[0] != 0 || !strings.HasSuffix(string(tagged), `}`) {
		t.Errorf("a value with buffers starts with 0x00, got %q", tagged)
	}

	s.open()
	var after any
	s.call("/read?o=a", &after)
	if got := jsonOf(t, after); got != want {
		t.Fatalf("after the restart:\n got %s\nwant %s", got, want)
	}
}

func TestStorageCursors(t *testing.T) {
	s := startStorageApp(t, "2026-11-01", t.TempDir())
	defer s.close()
	var got any
	s.call("/cursor", &got)
	const want = `{"after":{"done":true},"columnNames":["n","b","f"],"count":2500,"first":[0,[0],0],"ok":true,` +
		`"rowsRead":2500,"second":[1,0.5],"sum":3123749}`
	if j := jsonOf(t, got); j != want {
		t.Fatalf("got  %s\nwant %s", j, want)
	}
	s.call("/deleted", &got)
	const deleted = `{"buffered":"threw Error: SQLite query was canceled because the database was deleted.",` +
		`"fresh":{"one":1},"kv":[],"open":"threw Error: SQLite query was canceled because the database was deleted.","tables":[]}`
	if j := jsonOf(t, got); j != deleted {
		t.Fatalf("after deleteAll:\n got %s\nwant %s", j, deleted)
	}
}

func TestStorageTransactions(t *testing.T) {
	s := startStorageApp(t, "2026-11-01", t.TempDir())
	defer s.close()
	var got any
	s.call("/transactions", &got)
	const want = `{"gone":0,"n":3,"nested":3,"thrown":"threw RangeError: undo"}`
	if j := jsonOf(t, got); j != want {
		t.Fatalf("got  %s\nwant %s", j, want)
	}

	// transaction() holds the object's other events until it is done: the
	// peek sent meanwhile neither runs inside it nor sees its writes.
	var wg sync.WaitGroup
	var slow, peek string
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.call("/slowTransaction?o=gate", &slow)
	}()
	time.Sleep(20 * time.Millisecond)
	s.call("/peek?o=gate", &peek)
	wg.Wait()
	if slow != "rolled back" || peek != "nothing" {
		t.Fatalf("transaction %q, peek %q", slow, peek)
	}
}

func TestStorageLegacyClass(t *testing.T) {
	s := startStorageApp(t, "2026-11-01", t.TempDir())
	defer s.close()
	var got map[string]string
	s.call("/legacy", &got)
	if got["async"] != "v" || got["txSync"] != "works" {
		t.Errorf("async API on a key-value class: %v", got)
	}
	for _, k := range []string{"kv", "sql", "size"} {
		if !strings.HasPrefix(got[k], "threw Error: ") || !strings.Contains(got[k], "new_sqlite_classes") {
			t.Errorf("%s: %q, want workerd's error about new_sqlite_classes", k, got[k])
		}
	}
}

// deleteAll removes the alarm from compatibility date 2026-02-24 on.
func TestStorageDeleteAllAlarm(t *testing.T) {
	for date, want := range map[string]string{"2026-02-23": "number", "2026-02-24": "null"} {
		s := startStorageApp(t, date, t.TempDir())
		var got any
		s.call("/alarmAndDeleteAll", &got)
		s.close()
		kind := "null"
		if _, isNum := got.(float64); isNum {
			kind = "number"
		}
		if kind != want {
			t.Errorf("%s: alarm after deleteAll is %v, want a %s", date, got, want)
		}
	}
}

// BenchmarkStorageOps times storage calls from JavaScript, inside one
// object: ns per kv.get / kv.put of a small value and per one-row SQL read.
func BenchmarkStorageOps(b *testing.B) {
	files := map[string]string{
		"wrangler.jsonc": strings.ReplaceAll(storageConfig, "%DATE%", "2026-11-01"),
		"worker.js": storageWorker + `
Store.prototype.bench = function () {
  const kv = this.ctx.storage.kv, sql = this.ctx.storage.sql, n = 20000;
  kv.put("k", { a: 1, b: "two" });
  sql.exec("CREATE TABLE IF NOT EXISTS b (k TEXT PRIMARY KEY, v)");
  sql.exec("INSERT OR REPLACE INTO b VALUES ('k', 1)");
  const time = (fn) => { const t0 = performance.now(); for (let i = 0; i < n; i++) fn(i); return (performance.now() - t0) * 1e6 / n; };
  return { get: time(() => kv.get("k")), put: time((i) => kv.put("p", i)), sql: time(() => sql.exec("SELECT v FROM b WHERE k = ?", "k").one()) };
};`,
	}
	dir := b.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	a, err := LoadWith(dir, log.New(&logBuffer{}, "", 0), Options{StateDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	var r map[string]float64
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		a.Worker.ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost/bench", nil), runtime.ServeOptions{})
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			b.Fatalf("%v: %s", err, rec.Body.String())
		}
	}
	for k, v := range r {
		b.ReportMetric(v, k+"-ns/op")
	}
}

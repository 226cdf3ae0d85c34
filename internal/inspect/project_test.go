package inspect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/objectid"
	"github.com/isola-run/isola/internal/storage"
)

const testConfig = `{
  // A worker with two bound classes, one class reached only through
  // ctx.exports, and a binding to another worker's class.
  "name": "shop",
  "main": "index.js",
  "durable_objects": {"bindings": [
    {"name": "COUNTER", "class_name": "Counter"},
    {"name": "ROOM", "class_name": "Room"},
    {"name": "EXT", "class_name": "Other", "script_name": "elsewhere"}
  ]},
  "migrations": [{"tag": "v1", "new_sqlite_classes": ["Counter", "Room", "Unbound"]}]
}`

var alarmAt = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// testProject makes a project whose state holds:
//   - Counter "alice": KV pairs, a SQL table, an alarm, nested facets;
//   - Counter with a unique id: one KV pair;
//   - Gone (a class the config no longer defines): an object whose id was
//     made by another worker.
func testProject(t *testing.T) (*Project, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "wrangler.jsonc"), []byte(testConfig), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "index.js"), []byte("export default {}"), 0o644))
	p, err := Open(dir, "")
	must(t, err)
	if p.StateDir != filepath.Join(dir, ".isola", "state") {
		t.Fatalf("state dir %s", p.StateDir)
	}

	counterIDs := objectid.New("shop/Counter")
	ids := map[string]string{
		"alice":  counterIDs.FromName("alice"),
		"unique": counterIDs.Unique(),
		"gone":   objectid.New("old-name/Gone").FromName("x"),
	}
	d := storage.NewDirectory(p.ObjectsDir())
	counter, err := d.Namespace("Counter")
	must(t, err)
	s, err := counter.Open(ids["alice"], nil, storage.Options{})
	must(t, err)
	must(t, s.PutMany([]storage.KV{
		{Key: "count", Value: EncodeStored(`42`)},
		{Key: "profile", Value: EncodeStored(`{"name":"Alice","tags":{"$":"S","v":["a","b"]},"since":{"$":"D","v":0}}`)},
		{Key: "bytes", Value: EncodeStored(`{"$":"V","t":"Uint8Array","i":0}`, []byte{1, 2, 3})},
		{Key: "long", Value: EncodeStored(`"` + strings.Repeat("x", 500) + `"`)},
		{Key: "broken", Value: []byte(`{"$":"??"}`)},
		{Key: "multi\nline key", Value: EncodeStored(`{"$":"u"}`)},
	}))
	exec(t, s, `CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT NOT NULL, qty REAL, note BLOB)`)
	exec(t, s, `INSERT INTO orders VALUES (1, 'apple', 1.5, x'00ff'), (2, 'pear'||char(10)||'ripe', -0.0, NULL), (3, 'fig', 1e21, NULL)`)
	exec(t, s, `CREATE TABLE pairs (a, b, PRIMARY KEY (b, a))`)
	must(t, s.SetAlarm(alarmAt))
	must(t, s.Close())
	must(t, counter.SetObjectName(ids["alice"], "alice"))
	for _, f := range [][]string{{"sub"}, {"sub", "inner"}, {"a/b"}} {
		fs, err := counter.Open(ids["alice"], f, storage.Options{})
		must(t, err)
		must(t, fs.Put("where", EncodeStored(`"`+strings.Join(f, " > ")+`"`)))
		must(t, fs.Close())
	}
	ids["facets-only"] = counterIDs.FromName("facets-only")
	fo, err := counter.Open(ids["facets-only"], []string{"only"}, storage.Options{})
	must(t, err)
	must(t, fo.Put("k", EncodeStored(`1`)))
	must(t, fo.Close())
	u, err := counter.Open(ids["unique"], nil, storage.Options{})
	must(t, err)
	must(t, u.Put("k", EncodeStored(`true`)))
	must(t, u.Close())

	gone, err := d.Namespace("Gone")
	must(t, err)
	g, err := gone.Open(ids["gone"], nil, storage.Options{})
	must(t, err)
	must(t, g.Put("k", EncodeStored(`1`)))
	must(t, g.Close())
	return p, ids
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func exec(t *testing.T, s *storage.Store, query string) {
	t.Helper()
	c, err := s.Exec(query)
	must(t, err)
	c.Close()
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, got)
		}
	}
}

func TestList(t *testing.T) {
	p, ids := testProject(t)
	if strings.Join(p.Classes, ",") != "Counter,Room,Unbound" {
		t.Fatalf("classes %v", p.Classes)
	}
	var out bytes.Buffer
	must(t, p.WriteList(&out))
	got := out.String()
	t.Logf("\n%s", got)
	wantContains(t, "list", got,
		`Durable Objects of worker "shop" in `,
		"Counter: 3 objects",
		ids["facets-only"]+"  -\n",
		ids["alice"]+"  ",
		"name 'alice'",
		"    facet sub   ", "    facet sub/inner   ", "    facet a%2Fb   ",
		"Room: no objects",
		"Unbound: no objects",
		"Gone (a class wrangler.jsonc does not define): 1 object",
		ids["gone"]+"  ", `id not made by Gone of worker "shop" (renamed?)`,
	)
	if strings.Contains(got, "Other") {
		t.Error("listed another worker's class")
	}
	// Classes in config order, then the others.
	if i, j, k := strings.Index(got, "Counter:"), strings.Index(got, "Unbound:"), strings.Index(got, "Gone "); !(i < j && j < k) {
		t.Error("classes out of order")
	}
}

func TestFind(t *testing.T) {
	p, ids := testProject(t)
	byName, err := p.Find("Counter", "alice", "")
	must(t, err)
	byID, err := p.Find("Counter", strings.ToUpper(ids["alice"]), "")
	must(t, err)
	if byName.ID != ids["alice"] || byID.ID != ids["alice"] || byID.Name != "alice" || byID.Foreign || len(byID.Facets) != 3 || !byID.HasDatabase {
		t.Fatalf("by name %+v, by id %+v", byName, byID)
	}
	f, err := p.Find("Counter", "alice", "sub")
	must(t, err)
	if len(f.Facet) != 1 || len(f.Facets) != 1 || f.Facets[0].Path[1] != "inner" {
		t.Fatalf("facet %+v", f)
	}
	f, err = p.Find("Counter", "alice", "a%2fb")
	must(t, err)
	if len(f.Facet) != 1 || f.Facet[0] != "a/b" {
		t.Fatalf("escaped facet %+v", f)
	}
	g, err := p.Find("Gone", ids["gone"], "")
	must(t, err)
	if !g.Foreign {
		t.Fatal("foreign id not marked")
	}

	for _, c := range []struct{ class, id, facet, want string }{
		{"Nope", "x", "", `unknown Durable Object class "Nope": wrangler.jsonc defines Counter, Room, Unbound, and `},
		{"counter", "x", "", "(did you mean Counter? class names are case-sensitive)"},
		{"Other", "x", "", `unknown Durable Object class "Other"`},
		{"Counter", "bob", "", "no Counter object with name 'bob' (id " + objectid.New("shop/Counter").FromName("bob") + "): looked for "},
		{"Counter", "bob", "", "nothing was stored under that name"},
		{"Room", ids["alice"], "", "no Room object with id " + ids["alice"]},
		{"Room", ids["alice"], "", "the id was not made by Room of worker \"shop\" either"},
		{"Counter", "alice", "nope", "Counter " + ids["alice"] + " has no facet nope; its facets: a%2Fb, sub, sub/inner"},
		{"Counter", ids["unique"], "x", "has no facet x; it has no facets"},
		{"Counter", "alice", "sub//inner", `bad facet path "sub//inner": empty facet name`},
		{"Counter", "alice", "a/b/c/d", "facets nest at most 3 deep"},
		{"Counter", "alice", "a%", `"%" must start %2F`},
	} {
		_, err := p.Find(c.class, c.id, c.facet)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Find(%q, %q, %q): got %v, want %q", c.class, c.id, c.facet, err, c.want)
		}
	}
	if _, err := p.Find("Counter", "bob", ""); !strings.Contains(err.Error(), filepath.Join("Counter", ids["alice"][:0])) {
		t.Errorf("error does not say where it looked: %v", err)
	}
}

func TestFacetPath(t *testing.T) {
	for _, path := range [][]string{{"a"}, {"a", "b"}, {"a/b", "100%"}, {"%2F"}} {
		s := FacetPath(path)
		back, err := ParseFacetPath(s)
		if err != nil || strings.Join(back, "\x00") != strings.Join(path, "\x00") {
			t.Errorf("%q -> %q -> %q, %v", path, s, back, err)
		}
	}
}

func TestShow(t *testing.T) {
	p, ids := testProject(t)
	target, err := p.Find("Counter", "alice", "")
	must(t, err)
	var out bytes.Buffer
	must(t, p.Show(&out, target, ShowOptions{Now: alarmAt.Add(-time.Hour)}))
	got := out.String()
	t.Logf("\n%s", got)
	wantContains(t, "show", got,
		"Counter "+ids["alice"]+"\n",
		"  name:     'alice'\n",
		"  database: ",
		"  alarm:    2030-01-02T03:04:05.000Z (in 1h0m)\n",
		"  facets:\n", "    a%2Fb  ", "    sub/inner  ",
		"SQL tables:\n",
		"  orders  3 rows  (id INTEGER PRIMARY KEY, item TEXT, qty REAL, note BLOB)\n",
		"  pairs   0 rows  (a, b, PRIMARY KEY (b, a))\n",
		"KV pairs: 6\n",
		"  'bytes': Uint8Array(3) [ 1, 2, 3 ]\n",
		"  'count': 42\n",
		"  'profile': { name: 'Alice', tags: Set(2) { 'a', 'b' }, since: 1970-01-01T00:00:00.000Z }\n",
		"  'broken': <undecodable value, 10 bytes: unknown tag \"??\"",
		"  'multi\\nline key': undefined\n",
		"  'long': 'xxxxxxxx",
	)
	if strings.Contains(got, strings.Repeat("x", 200)) {
		t.Error("long value not cut")
	}

	out.Reset()
	must(t, p.Show(&out, target, ShowOptions{MaxKeys: 2}))
	got = out.String()
	if strings.Count(got, "\n  '") != 2 || !strings.Contains(got, "  ... 4 more (--all shows every pair in full)\n") {
		t.Errorf("limited show:\n%s", got)
	}
	out.Reset()
	must(t, p.Show(&out, target, ShowOptions{All: true}))
	got = out.String()
	if !strings.Contains(got, strings.Repeat("x", 500)) || strings.Contains(got, "more (--all") ||
		!strings.Contains(got, "  'profile':\n    {\n      name: 'Alice',\n      tags: Set(2) { 'a', 'b' },\n") {
		t.Errorf("--all show:\n%s", got)
	}

	only, err := p.Find("Counter", "facets-only", "")
	must(t, err)
	out.Reset()
	must(t, p.Show(&out, only, ShowOptions{}))
	wantContains(t, "facets only", out.String(), "  storage:  none of its own\n  facets:\n    only  ")
	if err := p.Query(&out, only, "SELECT 1", QueryOptions{}); err == nil || !strings.Contains(err.Error(), "has no database of its own, only facets (choose one with --facet)") {
		t.Errorf("query without a database: %v", err)
	}

	facet, err := p.Find("Counter", "alice", "sub")
	must(t, err)
	out.Reset()
	must(t, p.Show(&out, facet, ShowOptions{}))
	got = out.String()
	wantContains(t, "facet show", got, "  facet:    sub\n", "    inner  ", "SQL tables: none\n", "KV pairs: 1\n  'where': 'sub'\n")
	if strings.Contains(got, "alarm") {
		t.Errorf("a facet has no alarm:\n%s", got)
	}

	gone, err := p.Find("Gone", ids["gone"], "")
	must(t, err)
	out.Reset()
	must(t, p.Show(&out, gone, ShowOptions{}))
	wantContains(t, "foreign show", out.String(), "was the worker or class renamed?", "  alarm:    none\n")
}

func TestQuery(t *testing.T) {
	p, _ := testProject(t)
	target, err := p.Find("Counter", "alice", "")
	must(t, err)
	var out bytes.Buffer
	must(t, p.Query(&out, target, "SELECT * FROM orders ORDER BY id", QueryOptions{}))
	want := "" +
		"id  item        qty    note\n" +
		"--  ----------  -----  -------\n" +
		"1   apple       1.5    x'00FF'\n" +
		"2   pear\\nripe  0      NULL\n" +
		"3   fig         1e+21  NULL\n" +
		"(3 rows)\n"
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}

	out.Reset()
	must(t, p.Query(&out, target, "SELECT id, item, note, qty FROM orders ORDER BY id", QueryOptions{JSON: true}))
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if len(rows) != 3 || rows[1]["item"] != "pear\nripe" || rows[0]["qty"] != 1.5 || rows[2]["qty"] != 1e21 {
		t.Errorf("json rows %v", rows)
	}
	if !strings.Contains(out.String(), `{"id": 1, "item": "apple", "note": [0,255], "qty": 1.5}`) {
		t.Errorf("json:\n%s", out.String())
	}
	out.Reset()
	must(t, p.Query(&out, target, "SELECT 1 WHERE 0", QueryOptions{JSON: true}))
	if out.String() != "[]\n" {
		t.Errorf("no rows as json: %q", out.String())
	}
	out.Reset()
	must(t, p.Query(&out, target, "SELECT 1 AS one WHERE 0", QueryOptions{}))
	if out.String() != "one\n---\n(0 rows)\n" {
		t.Errorf("no rows: %q", out.String())
	}

	for _, c := range []struct{ query, want string }{
		{"DELETE FROM orders", "the query would change Counter " + target.ID + "; isola objects sql only reads"},
		{"CREATE TABLE t (a)", "only reads"},
		{"SELECT 1; INSERT INTO orders (item) VALUES ('x')", "only reads"},
		{"SELECT * FROM _cf_KV", "access to _cf_KV.key is prohibited: SQLITE_AUTH (queries follow the rules of ctx.storage.sql"},
		{"SELECT * FROM nope", "no such table: nope"},
		{"  ", "empty query"},
	} {
		err := p.Query(&out, target, c.query, QueryOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.query, err, c.want)
		}
	}
	// Nothing was written.
	out.Reset()
	must(t, p.Query(&out, target, "SELECT count(*) AS n FROM orders", QueryOptions{JSON: true}))
	if !strings.Contains(out.String(), `"n": 3`) {
		t.Errorf("rows changed: %s", out.String())
	}
}

// A running isola holds an object's database with an exclusive lock; the
// commands say so instead of SQLite's "database is locked".
func TestLockedObject(t *testing.T) {
	p, ids := testProject(t)
	running := storage.NewDirectory(p.ObjectsDir())
	ns, err := running.Namespace("Counter")
	must(t, err)
	s, err := ns.Open(ids["alice"], nil, storage.Options{})
	must(t, err)
	defer s.Close()
	must(t, s.Put("touch", EncodeStored(`1`)))

	target, err := p.Find("Counter", "alice", "")
	must(t, err)
	var out bytes.Buffer
	for _, err := range []error{
		p.Show(&out, target, ShowOptions{}),
		p.Query(&out, target, "SELECT 1", QueryOptions{}),
	} {
		if err == nil || !strings.Contains(err.Error(), "Counter "+ids["alice"]+" is in use: a running isola") ||
			strings.Contains(err.Error(), "database is locked") {
			t.Errorf("got %v", err)
		}
	}
	if out.Len() != 0 {
		t.Errorf("printed before failing:\n%s", out.String())
	}
	// Others objects stay readable meanwhile.
	other, err := p.Find("Counter", ids["unique"], "")
	must(t, err)
	must(t, p.Show(&out, other, ShowOptions{}))
}

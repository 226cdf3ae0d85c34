package reference

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/isola-run/isola/internal/config"
)

func TestStripJSONC(t *testing.T) {
	in := `{
  // a comment
  "name": "a//b", /* block */ "s": "q\"//x",
  "list": [1, 2, /* c */ ],  // trailing
}`
	clean, err := config.StripJSONC([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	got := string(clean)
	w := &Wrangler{}
	if err := json.Unmarshal([]byte(got), w); err != nil {
		t.Fatalf("stripped JSONC does not parse: %v\n%s", err, got)
	}
	if w.Name != "a//b" {
		t.Fatalf("name = %q", w.Name)
	}
}

func TestCapnpString(t *testing.T) {
	got := capnpString("a\"b\\c\nd\x01é")
	want := `"a\"b\\c\nd\x01é"`
	if got != want {
		t.Fatalf("capnpString = %s, want %s", got, want)
	}
}

// TestStartWorkerd serves a two-module worker with vars and checks the
// answer, so a broken install or config generator shows up here first.
func TestStartWorkerd(t *testing.T) {
	if _, err := Workerd(); err != nil {
		t.Fatal(err) // never skip: the suite depends on it
	}
	dir := t.TempDir()
	write := func(name, content string) {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("wrangler.jsonc", `{
  // comment
  "name": "smoke", "main": "src/index.js", "compatibility_date": "2026-11-01",
  "vars": {"GREETING": "hi \"there\"", "CONF": {"n": 1}},
}`)
	write("src/index.js", `import {x} from "./lib/x.js"; import t from "../data.txt";
export default { fetch(req, env) { return Response.json({x, t, g: env.GREETING, n: env.CONF.n}); } };`)
	write("src/lib/x.js", `export const x = 42;`)
	write("data.txt", "text module")

	p, err := StartWorkerd(context.Background(), dir, FreePort())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	resp, err := http.Get(p.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"x":42,"t":"text module","g":"hi \"there\"","n":1}`
	if string(body) != want {
		t.Fatalf("body = %s, want %s\nworkerd output:\n%s", body, want, p.Output())
	}
}

// TestWriteConfigBindings checks the capnp generated for worker_loaders and
// for service bindings back to the worker itself.
func TestWriteConfigBindings(t *testing.T) {
	dir, tmp := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "worker.js"), []byte("export default {}"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &Wrangler{
		Name: "self", Main: "worker.js", CompatibilityDate: "2026-11-01",
		CompatibilityFlags: []string{"enable_ctx_exports"},
		WorkerLoaders:      []WorkerLoaderBinding{{Binding: "LOADER"}},
		Services: []ServiceBinding{
			{Binding: "SELF", Service: "self", Entrypoint: "Named", Props: json.RawMessage(`{ "a": "q\"x", "n": [1, 2] }`)},
			{Binding: "PLAIN", Service: "self"},
		},
	}
	path, err := writeConfig(tmp, dir, w, 8080, "/unused")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	config := string(data)
	for _, want := range []string{
		`compatibilityFlags = ["enable_ctx_exports"],`,
		`(name = "LOADER", workerLoader = ()),`,
		`(name = "SELF", service = (name = "main", entrypoint = "Named", props = (json = "{\"a\":\"q\\\"x\",\"n\":[1,2]}"))),`,
		`(name = "PLAIN", service = (name = "main")),`,
	} {
		if !strings.Contains(config, want) {
			t.Errorf("config lacks %s\n%s", want, config)
		}
	}

	w.Services = []ServiceBinding{{Binding: "OTHER", Service: "another-worker"}}
	if _, err := writeConfig(t.TempDir(), dir, w, 8080, "/unused"); err == nil || !strings.Contains(err.Error(), "only the worker itself") {
		t.Errorf("a binding to another worker: err = %v, want an error", err)
	}
}

// TestStartWorkerdLoaderAndSelf serves a worker that loads a dynamic worker
// and calls its own named entrypoint through a service binding with props:
// workerd needs --experimental for the loader, which StartWorkerd adds.
func TestStartWorkerdLoaderAndSelf(t *testing.T) {
	if _, err := Workerd(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("wrangler.jsonc", `{
  "name": "loader-smoke", "main": "worker.js", "compatibility_date": "2026-11-01",
  "worker_loaders": [{"binding": "LOADER"}],
  "services": [{"binding": "SELF", "service": "loader-smoke", "entrypoint": "Named", "props": {"who": "self"}}],
}`)
	write("worker.js", `import { WorkerEntrypoint } from "cloudflare:workers";
export class Named extends WorkerEntrypoint { who() { return this.ctx.props.who; } }
export default { async fetch(req, env) {
  const ep = env.LOADER.get("x", () => ({ compatibilityDate: "2026-11-01", mainModule: "m.js",
    modules: { "m.js": "export default { fetch() { return new Response('dynamic'); } }" } })).getEntrypoint();
  return Response.json({ dyn: await (await ep.fetch("http://x/")).text(), self: await env.SELF.who() });
} };`)
	p, err := StartWorkerd(context.Background(), dir, FreePort())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	resp, err := http.Get(p.URL + "/")
	if err != nil {
		t.Fatalf("%v\nworkerd output:\n%s", err, p.Output())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"dyn":"dynamic","self":"self"}`
	if string(body) != want {
		t.Fatalf("body = %s, want %s\nworkerd output:\n%s", body, want, p.Output())
	}
}

// TestWriteConfigDurableObjects checks the namespaces the migrations leave:
// SQLite or key-value storage, renames keeping their storage key, deleted
// classes gone, bound classes without a migration added, and the disk
// service behind them.
func TestWriteConfigDurableObjects(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "worker.js"), []byte("export default {}"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := &Wrangler{
		Name: "objs", Main: "worker.js", CompatibilityDate: "2026-11-01",
		DurableObjects: DurableObjects{Bindings: []DurableObjectBinding{
			{Name: "TALLY", ClassName: "Tally"},
			{Name: "UNMIGRATED", ClassName: "Unmigrated", ScriptName: "objs"},
		}},
		Migrations: []Migration{
			{Tag: "v1", NewSQLiteClasses: []string{"Counter", "Gone"}, NewClasses: []string{"Legacy"}},
			{Tag: "v2", RenamedClasses: []RenamedClass{{From: "Counter", To: "Tally"}}, DeletedClasses: []string{"Gone"}},
		},
	}
	path, err := writeConfig(t.TempDir(), dir, w, 8080, "/state/do")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	config := string(data)
	for _, want := range []string{
		`(name = "TALLY", durableObjectNamespace = (className = "Tally")),`,
		`(name = "UNMIGRATED", durableObjectNamespace = (className = "Unmigrated")),`,
		`(className = "Tally", uniqueKey = "objs-Counter", enableSql = true),`,
		`(className = "Legacy", uniqueKey = "objs-Legacy", enableSql = false),`,
		`(className = "Unmigrated", uniqueKey = "objs-Unmigrated", enableSql = false),`,
		`durableObjectStorage = (localDisk = "do-storage"),`,
		`(name = "do-storage", disk = (path = "/state/do", writable = true)),`,
	} {
		if !strings.Contains(config, want) {
			t.Errorf("config lacks %s\n%s", want, config)
		}
	}
	if strings.Contains(config, `"Gone"`) {
		t.Errorf("config keeps the deleted class Gone\n%s", config)
	}

	for _, bad := range []struct {
		name string
		edit func(w *Wrangler)
		want string
	}{
		{"binding to a deleted class", func(w *Wrangler) {
			w.DurableObjects.Bindings = []DurableObjectBinding{{Name: "G", ClassName: "Gone"}}
		}, `class "Gone", which migration "v2" deleted`},
		{"binding to another worker", func(w *Wrangler) {
			w.DurableObjects.Bindings = []DurableObjectBinding{{Name: "X", ClassName: "Tally", ScriptName: "other"}}
		}, "only the worker itself"},
		{"rename of an unknown class", func(w *Wrangler) {
			w.Migrations = append(w.Migrations, Migration{Tag: "v3", RenamedClasses: []RenamedClass{{From: "Nope", To: "X"}}})
		}, `renames class "Nope"`},
		{"class created twice", func(w *Wrangler) {
			w.Migrations = append(w.Migrations, Migration{Tag: "v3", NewClasses: []string{"Legacy"}})
		}, `creates class "Legacy", which an earlier migration already created`},
		{"new class on a renamed class's storage", func(w *Wrangler) {
			w.Migrations = append(w.Migrations, Migration{Tag: "v3", NewClasses: []string{"Counter"}})
		}, "storage key a renamed class still uses"},
	} {
		w2 := *w
		w2.Migrations = slices.Clone(w.Migrations)
		bad.edit(&w2)
		if _, err := writeConfig(t.TempDir(), dir, &w2, 8080, "/state/do"); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err = %v, want one containing %q", bad.name, err, bad.want)
		}
	}
}

// TestStartWorkerdDurableObjects runs a SQLite-backed class through a binding
// and an unbound migrated class through ctx.exports, then restarts workerd
// on the same storage directory with the first class renamed: its object
// must keep its data. A default storage directory must go with Stop.
func TestStartWorkerdDurableObjects(t *testing.T) {
	if _, err := Workerd(); err != nil {
		t.Fatal(err)
	}
	dir, storage := t.TempDir(), t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("worker.js", `import { DurableObject } from "cloudflare:workers";
class Base extends DurableObject {
  bump() { const n = (this.ctx.storage.kv.get("n") ?? 0) + 1; this.ctx.storage.kv.put("n", n); return n; }
}
export class Counter extends Base {}
export class Tally extends Base {}
export class Other extends Base {}
export default { async fetch(req, env, ctx) {
  const ns = env.COUNTER ?? env.TALLY;
  return Response.json({ bound: await ns.getByName("a").bump(), exported: await ctx.exports.Other.getByName("a").bump() });
} };`)
	get := func(p *Process) string {
		t.Helper()
		resp, err := http.Get(p.URL + "/")
		if err != nil {
			t.Fatalf("%v\nworkerd output:\n%s", err, p.Output())
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(body)
	}
	start := func(opts Options) *Process {
		t.Helper()
		p, err := StartWorkerdWith(context.Background(), dir, FreePort(), opts)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	write("wrangler.jsonc", `{"name": "objs", "main": "worker.js", "compatibility_date": "2026-11-01",
  "durable_objects": {"bindings": [{"name": "COUNTER", "class_name": "Counter"}]},
  "migrations": [{"tag": "v1", "new_sqlite_classes": ["Counter", "Other"]}]}`)
	p := start(Options{StorageDir: storage})
	get(p)
	if got, want := get(p), `{"bound":2,"exported":2}`; got != want {
		t.Errorf("first run: body = %s, want %s\nworkerd output:\n%s", got, want, p.Output())
	}
	p.Stop()

	write("wrangler.jsonc", `{"name": "objs", "main": "worker.js", "compatibility_date": "2026-11-01",
  "durable_objects": {"bindings": [{"name": "TALLY", "class_name": "Tally"}]},
  "migrations": [{"tag": "v1", "new_sqlite_classes": ["Counter", "Other"]},
                 {"tag": "v2", "renamed_classes": [{"from": "Counter", "to": "Tally"}]}]}`)
	p = start(Options{StorageDir: storage})
	if got, want := get(p), `{"bound":3,"exported":3}`; got != want {
		t.Errorf("after the rename: body = %s, want %s\nworkerd output:\n%s", got, want, p.Output())
	}
	p.Stop()

	p = start(Options{})
	if got, want := get(p), `{"bound":1,"exported":1}`; got != want {
		t.Errorf("fresh storage: body = %s, want %s\nworkerd output:\n%s", got, want, p.Output())
	}
	p.Stop()
	if _, err := os.Stat(p.tmpDir); !os.IsNotExist(err) {
		t.Errorf("Stop left %s behind (stat: %v)", p.tmpDir, err)
	}
}

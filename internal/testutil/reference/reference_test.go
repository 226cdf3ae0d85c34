package reference

import (
	"context"
	"encoding/json"
	"github.com/isola-run/isola/internal/config"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	path, err := writeConfig(tmp, dir, w, 8080)
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
	if _, err := writeConfig(t.TempDir(), dir, w, 8080); err == nil || !strings.Contains(err.Error(), "only the worker itself") {
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

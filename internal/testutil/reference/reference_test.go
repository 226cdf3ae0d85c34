package reference

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

func TestStripJSONC(t *testing.T) {
	in := `{
  // a comment
  "name": "a//b", /* block */ "s": "q\"//x",
  "list": [1, 2, /* c */ ],  // trailing
}`
	got := string(stripJSONC([]byte(in)))
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

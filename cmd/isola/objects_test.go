package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/isola-run/isola/internal/inspect"
	"github.com/isola-run/isola/internal/objectid"
	"github.com/isola-run/isola/internal/storage"
)

func TestParseInterleaved(t *testing.T) {
	cases := []struct {
		args      []string
		pos       []string
		facet     string
		json, bad bool
	}{
		{args: nil},
		{args: []string{"a", "b"}, pos: []string{"a", "b"}},
		{args: []string{"--facet", "x/y", "a", "--json", "b"}, pos: []string{"a", "b"}, facet: "x/y", json: true},
		{args: []string{"a", "b", "--facet=z"}, pos: []string{"a", "b"}, facet: "z"},
		{args: []string{"a", "--", "-- a comment\nSELECT 1", "--json"}, pos: []string{"a", "-- a comment\nSELECT 1", "--json"}},
		{args: []string{"--nope"}, bad: true},
	}
	for _, c := range cases {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		facet := fs.String("facet", "", "")
		asJSON := fs.Bool("json", false, "")
		pos, err := parseInterleaved(fs, c.args)
		if c.bad {
			if err == nil {
				t.Errorf("%q: want an error", c.args)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(pos, c.pos) || *facet != c.facet || *asJSON != c.json {
			t.Errorf("%q: got %q facet %q json %v, %v", c.args, pos, *facet, *asJSON, err)
		}
	}
}

func TestObjectsCommands(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("wrangler.jsonc", `{"name": "w", "main": "index.js", "durable_objects": {"bindings": [{"name": "C", "class_name": "Counter"}]}}`)
	write("index.js", "export default {}")
	state := filepath.Join(dir, "elsewhere")
	ns, err := storage.NewDirectory(filepath.Join(state, "objects")).Namespace("Counter")
	if err != nil {
		t.Fatal(err)
	}
	id := objectid.New("w/Counter").FromName("bob")
	s, err := ns.Open(id, nil, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put("greeting", inspect.EncodeStored(`{"hello":"world"}`)); err != nil {
		t.Fatal(err)
	}
	c, err := s.Exec("CREATE TABLE t (a); INSERT INTO t VALUES (7)")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.Close()

	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(append([]string{"objects"}, args...), &out, &errOut)
		return out.String(), err
	}
	ok := func(want string, args ...string) {
		t.Helper()
		out, err := run(args...)
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("objects %q: %v, output:\n%s\nwant %q", args, err, out, want)
		}
	}
	fails := func(want string, args ...string) {
		t.Helper()
		_, err := run(args...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("objects %q: got %v, want an error with %q", args, err, want)
		}
	}
	ok("Counter: no objects", dir)
	ok(id+"  ", dir, "--state", state)
	ok("'greeting': { hello: 'world' }", "show", "--state", state, dir, "Counter", "bob")
	ok("'greeting': { hello: 'world' }", "show", dir, "Counter", id, "--state="+state, "--all")
	ok("a\n-\n7\n(1 row)\n", "sql", dir, "Counter", "bob", "SELECT a FROM t", "--state", state)
	ok(`[
  {"a": 7}
]`, "sql", "--json", "--state", state, dir, "Counter", "bob", "--", "SELECT a FROM t")
	ok("isola objects sql [dir]", "help")

	fails("objects takes at most one directory", dir, "Counter")
	fails("objects show takes [dir] <Class> <id-or-name>, got 1 arguments", "show", "Counter")
	fails(`objects sql takes [dir] <Class> <id-or-name> "<query>", got 2 arguments`, "sql", "Counter", "bob")
	fails("--limit 0: expected a positive number", "show", dir, "Counter", "bob", "--limit", "0")
	fails(`unknown Durable Object class "Nope": wrangler.jsonc defines Counter`, "show", dir, "Nope", "bob", "--state", state)
	fails("no Counter object with name 'alice'", "show", dir, "Counter", "alice", "--state", state)
	fails("isola objects sql only reads", "sql", dir, "Counter", "bob", "DROP TABLE t", "--state", state)
	fails("no wrangler config file", "show", t.TempDir(), "Counter", "bob")
}

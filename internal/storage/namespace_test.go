package storage

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNameEncoding(t *testing.T) {
	long := strings.Repeat("é", 200)
	for _, name := range []string{"a", "0123abcdef", "Counter", "COUNTER", "my.class", ".hidden", "..", "a/b", `a\b`, "~x", "%41", "é", "x y", "\x00", long} {
		enc := encodeName(name)
		if enc == "" || enc == "." || enc == ".." || strings.ContainsAny(enc, `/\`+"\x00") || strings.HasPrefix(enc, ".") {
			t.Fatalf("%q encodes to unsafe %q", name, enc)
		}
		if len(enc) > 200 {
			t.Fatalf("%q encodes to %d bytes", name, len(enc))
		}
		dir := t.TempDir()
		must(t, os.Mkdir(filepath.Join(dir, enc), 0o755))
		if strings.HasPrefix(enc, "~") {
			must(t, os.WriteFile(filepath.Join(dir, enc, ".name"), []byte(name), 0o644))
		}
		if got, ok := decodeName(dir, enc); !ok || got != name {
			t.Fatalf("%q -> %q -> %q", name, enc, got)
		}
	}
	// Case matters even on case-insensitive file systems.
	if strings.EqualFold(encodeName("Counter"), encodeName("counter")) {
		t.Fatal("names differing in case collide")
	}
	if encodeName("a.b") != "a.b" || encodeName("0af3") != "0af3" {
		t.Fatal("plain names should stay readable")
	}
}

func TestNamespace(t *testing.T) {
	d := NewDirectory(t.TempDir())
	ns, err := d.Namespace("MyDurableObject")
	must(t, err)

	root, err := ns.Path("abc123", nil)
	must(t, err)
	foo, err := ns.Path("abc123", []string{"foo"})
	must(t, err)
	bar, err := ns.Path("abc123", []string{"foo", "bar"})
	must(t, err)
	if filepath.Dir(foo) != filepath.Join(filepath.Dir(root), "facets", "foo") ||
		filepath.Dir(bar) != filepath.Join(filepath.Dir(foo), "facets", "bar") {
		t.Fatalf("layout: %s %s %s", root, foo, bar)
	}
	if _, err := ns.Path("abc123", []string{"a", "b", "c", "d"}); err == nil {
		t.Fatal("facets nested too deep")
	}
	if _, err := ns.Path("abc123", []string{""}); err == nil {
		t.Fatal("empty facet name")
	}
	if _, err := ns.Path("abc123", []string{strings.Repeat("x", MaxNameLength+1)}); err == nil {
		t.Fatal("facet name too long")
	}
	if _, err := ns.Path("", nil); err == nil {
		t.Fatal("empty id")
	}

	open := func(id string, facet ...string) *Store {
		t.Helper()
		s, err := ns.Open(id, facet, Options{})
		must(t, err)
		return s
	}
	// An object with nested facets, each its own database.
	s := open("abc123")
	must(t, s.Put("where", []byte("root")))
	f := open("abc123", "foo")
	must(t, f.Put("where", []byte("foo")))
	if err := f.SetAlarm(time.Now()); err == nil {
		t.Fatal("facet set an alarm")
	}
	g := open("abc123", "foo", "Bär/baz")
	must(t, g.Put("where", []byte("bar")))
	h := open("abc123", "other")
	exec(t, h, "CREATE TABLE t (a); INSERT INTO t VALUES (1), (2)")
	o := open("zzz")
	must(t, o.Put("k", []byte("v")))

	if v, _ := get(t, s, "where"); v != "root" {
		t.Fatal("facets share the parent's database")
	}
	if _, err := ns.Open("abc123", []string{"foo"}, Options{}); err == nil {
		t.Fatal("opened a facet twice")
	}
	if err := ns.DeleteFacet("abc123", []string{"foo"}); err == nil {
		t.Fatal("deleted an open facet")
	}
	if err := ns.DeleteObject("abc123"); err == nil {
		t.Fatal("deleted an open object")
	}
	for _, st := range []*Store{s, f, g, h, o} {
		must(t, st.Close())
	}

	objs, err := ns.Objects()
	must(t, err)
	if len(objs) != 2 || objs[0].ID != "abc123" || objs[1].ID != "zzz" {
		t.Fatalf("objects %+v", objs)
	}
	var paths []string
	for _, f := range objs[0].Facets {
		paths = append(paths, strings.Join(f.Path, "/"))
		if f.Size <= 0 {
			t.Fatalf("facet %v size %d", f.Path, f.Size)
		}
	}
	if !reflect.DeepEqual(paths, []string{"foo", "foo/Bär/baz", "other"}) {
		t.Fatalf("facets %q", paths)
	}
	if objs[0].Size <= 0 {
		t.Fatal("no size")
	}
	names, err := d.Namespaces()
	must(t, err)
	if !reflect.DeepEqual(names, []string{"MyDurableObject"}) {
		t.Fatal(names)
	}

	// Operators can look inside.
	r, err := ns.OpenReadOnly("abc123", []string{"other"})
	must(t, err)
	desc, err := r.Describe()
	must(t, err)
	if len(desc.Tables) != 1 || desc.Tables[0] != (Table{"t", 2}) || desc.KVKeys != 0 || desc.Size <= 0 {
		t.Fatalf("%+v", desc)
	}
	must(t, r.Close())
	if _, err := ns.OpenReadOnly("nope", nil); err == nil {
		t.Fatal("read-only open created an object")
	}

	// Deleting a facet deletes its own facets, not its siblings or parent.
	must(t, ns.DeleteFacet("abc123", []string{"foo"}))
	facets, err := ns.Facets("abc123")
	must(t, err)
	if len(facets) != 1 || facets[0].Path[0] != "other" {
		t.Fatalf("%+v", facets)
	}
	if _, err := os.Stat(filepath.Dir(foo)); !os.IsNotExist(err) {
		t.Fatal("facet directory left behind")
	}
	s = open("abc123")
	if v, _ := get(t, s, "where"); v != "root" {
		t.Fatal("parent damaged")
	}
	must(t, s.Close())
	// A deleted facet starts empty when used again.
	f = open("abc123", "foo")
	if _, ok := get(t, f, "where"); ok {
		t.Fatal("deleted facet kept data")
	}
	must(t, f.Close())

	must(t, ns.DeleteObject("abc123"))
	objs, err = ns.Objects()
	must(t, err)
	if len(objs) != 1 || objs[0].ID != "zzz" {
		t.Fatalf("%+v", objs)
	}
}

func TestNamespaceLongNames(t *testing.T) {
	d := NewDirectory(t.TempDir())
	nsName := strings.Repeat("N", 150)
	id := strings.Repeat("i", 300)
	facet := strings.Repeat("é", MaxNameLength)
	ns, err := d.Namespace(nsName)
	must(t, err)
	s, err := ns.Open(id, []string{facet}, Options{})
	must(t, err)
	must(t, s.Put("k", []byte("v")))
	must(t, s.Close())
	names, err := d.Namespaces()
	must(t, err)
	if len(names) != 1 || names[0] != nsName {
		t.Fatal(names)
	}
	objs, err := ns.Objects()
	must(t, err)
	if len(objs) != 1 || objs[0].ID != id || len(objs[0].Facets) != 1 || objs[0].Facets[0].Path[0] != facet {
		t.Fatalf("%+v", objs)
	}
}

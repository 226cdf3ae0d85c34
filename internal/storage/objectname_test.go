package storage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetObjectName(t *testing.T) {
	d := NewDirectory(t.TempDir())
	ns, err := d.Namespace("Counter")
	must(t, err)

	// A name alone is not an object: nothing is listed until it stores.
	must(t, ns.SetObjectName("abc", "alice"))
	objs, err := ns.Objects()
	must(t, err)
	if len(objs) != 0 {
		t.Fatalf("a recorded name counted as an object: %+v", objs)
	}

	s, err := ns.Open("abc", nil, Options{})
	must(t, err)
	must(t, s.Put("k", []byte("v")))
	must(t, ns.SetObjectName("abc", "alice")) // again, as on every first open
	if err := ns.SetObjectName("abc", "bob"); err == nil || !strings.Contains(err.Error(), `"alice"`) {
		t.Fatalf("renaming an object: %v", err)
	}
	f, err := ns.Open("abc", []string{"child"}, Options{})
	must(t, err)
	must(t, f.Put("k", []byte("v")))
	must(t, f.Close())
	must(t, s.Close())

	// An object whose id is too long for a file name, and one without a name.
	long := strings.Repeat("f", 300)
	must(t, ns.SetObjectName(long, "a name\nwith a newline"))
	l, err := ns.Open(long, nil, Options{})
	must(t, err)
	must(t, l.Put("k", []byte("v")))
	must(t, l.Close())
	u, err := ns.Open("unnamed", nil, Options{})
	must(t, err)
	must(t, u.Put("k", []byte("v")))
	must(t, u.Close())

	objs, err = ns.Objects()
	must(t, err)
	got := map[string]Object{}
	for _, o := range objs {
		got[o.ID] = o
	}
	if len(objs) != 3 || got["abc"].Name != "alice" || got[long].Name != "a name\nwith a newline" || got["unnamed"].Name != "" {
		t.Fatalf("objects: %+v", objs)
	}
	if fs := got["abc"].Facets; len(fs) != 1 || fs[0].Path[0] != "child" {
		t.Fatalf("facets: %+v", fs)
	}

	// An empty file (what a crash could leave) is no name and is rewritten.
	dir, err := ns.dirOf("unnamed", nil)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, objectNameFile), nil, 0o644))
	must(t, ns.SetObjectName("unnamed", "carol"))
	objs, err = ns.Objects()
	must(t, err)
	for _, o := range objs {
		if o.ID == "unnamed" && o.Name != "carol" {
			t.Fatalf("empty name file not rewritten: %+v", o)
		}
	}
	entries, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Fatalf("temporary file left behind: %s", e.Name())
		}
	}

	// Deleting the object deletes its name; its data can start over unnamed.
	must(t, ns.DeleteObject("abc"))
	s, err = ns.Open("abc", nil, Options{})
	must(t, err)
	must(t, s.Put("k", []byte("v")))
	must(t, s.Close())
	objs, err = ns.Objects()
	must(t, err)
	for _, o := range objs {
		if o.ID == "abc" && o.Name != "" {
			t.Fatalf("name outlived its object: %+v", o)
		}
	}
	if err := ns.SetObjectName("", "x"); err == nil {
		t.Fatal("empty id accepted")
	}
}

// Looking at an object read-only must not change the size Objects reports,
// though SQLite leaves a shared-memory index behind.
func TestObjectSizeIgnoresReaders(t *testing.T) {
	d := NewDirectory(t.TempDir())
	ns, err := d.Namespace("Counter")
	must(t, err)
	s, err := ns.Open("abc", nil, Options{})
	must(t, err)
	must(t, s.Put("k", []byte("v")))
	must(t, s.Close())
	before, err := ns.Objects()
	must(t, err)
	r, err := ns.OpenReadOnly("abc", nil)
	must(t, err)
	if _, _, err := r.Get("k"); err != nil {
		t.Fatal(err)
	}
	must(t, r.Close())
	after, err := ns.Objects()
	must(t, err)
	if len(after) != 1 || after[0].Size != before[0].Size {
		t.Fatalf("size %d before reading, %+v after", before[0].Size, after)
	}
}

package runtime

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isola-run/isola/internal/jsvm"
	"github.com/isola-run/isola/internal/storage"
	"modernc.org/quickjs"
)

// storeHost is the Go half of ctx.storage without JavaScript: an isolate
// shell with the host functions, called directly.
type storeHost struct {
	iso *Isolate
	fns map[string]any
}

func newStoreHost(t *testing.T) *storeHost {
	t.Helper()
	vm, err := quickjs.NewVM()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vm.Close() })
	h := &storeHost{iso: &Isolate{vm: vm}, fns: map[string]any{}}
	h.iso.storageHost(h.fns)
	return h
}

func (h *storeHost) put(sh int, key, json string) any {
	return h.fns["stPut"].(func(int, string, string, ...quickjs.Value) any)(sh, key, json)
}

func (h *storeHost) get(sh int, key string) any {
	return h.fns["stGet"].(func(int, string) any)(sh, key)
}

func (h *storeHost) errText() string { return h.fns["stError"].(func() string)() }

func (h *storeHost) txBegin(sh int, sync bool) any {
	return h.fns["stTxBegin"].(func(int, bool) any)(sh, sync)
}

func (h *storeHost) txEnd(sh, id int, commit bool) any {
	return h.fns["stTxEnd"].(func(int, int, bool) any)(sh, id, commit)
}

func diskStore(t *testing.T, dir, name string) *storage.Store {
	t.Helper()
	s, err := storage.Open(filepath.Join(dir, name, "storage.sqlite"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// reread closes s and opens its file again, to see what reached the disk.
func reread(t *testing.T, s *storage.Store, key string) (string, bool) {
	t.Helper()
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	v, ok, err := s2.Get(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(v), ok
}

// Writes wait for commitStores; only the stores written since the last
// commit are committed; dropStore rolls back what was not committed.
func TestStoreTurns(t *testing.T) {
	dir := t.TempDir()
	h := newStoreHost(t)
	a, b := diskStore(t, dir, "a"), diskStore(t, dir, "b")
	ha := h.iso.addStore(a, storeOptions{})
	hb := h.iso.addStore(b, storeOptions{})
	if h.iso.storesDirty() {
		t.Fatal("dirty before any write")
	}
	if r := h.get(ha, "k"); r != (quickjs.Undefined{}) {
		t.Fatalf("get of a missing key = %#v", r)
	}
	if h.iso.storesDirty() {
		t.Fatal("a read made the stores dirty")
	}
	if r := h.put(ha, "k", `{"x":1}`); r != stDone {
		t.Fatalf("put: %v %s", r, h.errText())
	}
	if !h.iso.storesDirty() || !a.Uncommitted() || b.Uncommitted() {
		t.Fatalf("after a put: dirty %v, a uncommitted %v, b uncommitted %v", h.iso.storesDirty(), a.Uncommitted(), b.Uncommitted())
	}
	if got := h.get(ha, "k"); got != `{"x":1}` {
		t.Fatalf("get = %#v", got)
	}
	if f, _ := h.iso.commitStores(); len(f) != 0 {
		t.Fatal(f)
	}
	if h.iso.storesDirty() || a.Uncommitted() || !a.InBatch() || !b.InBatch() {
		t.Fatal("after commitStores: want clean stores with their next batch open")
	}

	// An uncommitted write of b goes when b is dropped.
	h.put(hb, "lost", `1`)
	h.iso.dropStore(hb)
	if b.InBatch() || b.Uncommitted() {
		t.Fatal("dropStore left b's batch open")
	}
	if f, _ := h.iso.commitStores(); len(f) != 0 {
		t.Fatal(f)
	}
	if _, ok := reread(t, b, "lost"); ok {
		t.Fatal("a dropped store's uncommitted write reached the disk")
	}
	if v, ok := reread(t, a, "k"); !ok || v != `{"x":1}` {
		t.Fatalf("committed write on disk: %q %v", v, ok)
	}
	if r := h.get(hb, "k"); r != nil || !strings.Contains(h.errText(), "no longer available") {
		t.Fatalf("get on a dropped handle: %#v %q", r, h.errText())
	}
}

// A failure the user cannot handle breaks the store: the call answers
// workerd's opaque error and the next commitStores reports the store.
func TestStoreBreaks(t *testing.T) {
	h := newStoreHost(t)
	s := diskStore(t, t.TempDir(), "a")
	sh := h.iso.addStore(s, storeOptions{})
	s.Close()
	if r := h.put(sh, "k", `1`); r != nil || h.errText() != "Error: internal error" {
		t.Fatalf("put on a closed store: %#v %q", r, h.errText())
	}
	if !h.iso.storesDirty() {
		t.Fatal("a broken store must make the isolate commit (and report it)")
	}
	f, _ := h.iso.commitStores()
	if len(f) == 0 || f[0].Handle != sh {
		t.Fatalf("failures %v, want store %d", f, sh)
	}
	if f, _ := h.iso.commitStores(); len(f) != 0 {
		t.Fatalf("a failure is reported once, got %v again", f)
	}

	// User errors are not failures of the store.
	m, err := storage.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	mh := h.iso.addStore(m, storeOptions{})
	exec := h.fns["stSqlExec"].(func(int, string, string, ...quickjs.Value) any)
	if r := exec(mh, "SELEC 1", ""); r != nil || !strings.HasPrefix(h.errText(), "Error: near \"SELEC\": syntax error") {
		t.Fatalf("bad SQL: %#v %q", r, h.errText())
	}
	if f, _ := h.iso.commitStores(); len(f) != 0 {
		t.Fatalf("a SQL error broke the store: %v", f)
	}
}

// Transactions nest, and an outer one cannot end before an inner one.
func TestStoreTransactions(t *testing.T) {
	h := newStoreHost(t)
	m, err := storage.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sh := h.iso.addStore(m, storeOptions{})
	outer := h.txBegin(sh, false).(int)
	h.put(sh, "a", `1`)
	inner := h.txBegin(sh, true).(int)
	h.put(sh, "b", `2`)
	if r := h.txEnd(sh, outer, true); r != nil || !strings.Contains(h.errText(), "nested transaction") {
		t.Fatalf("ending the outer transaction first: %#v %q", r, h.errText())
	}
	if r := h.txEnd(sh, inner, false); r != stDone {
		t.Fatalf("rollback: %#v %q", r, h.errText())
	}
	if r := h.txEnd(sh, outer, true); r != stDone {
		t.Fatalf("commit: %#v %q", r, h.errText())
	}
	if h.get(sh, "a") != "1" || h.get(sh, "b") != (quickjs.Undefined{}) {
		t.Fatalf("a = %#v, b = %#v", h.get(sh, "a"), h.get(sh, "b"))
	}
	// A transaction left open when its store is dropped is rolled back.
	id := h.txBegin(sh, false).(int)
	h.put(sh, "c", `3`)
	h.iso.dropStore(sh)
	if m.Uncommitted() {
		t.Fatalf("transaction %d survived dropStore", id)
	}
	if v, ok, _ := m.Get("c"); ok {
		t.Fatalf("c = %s after its transaction was dropped", v)
	}
}

func TestStoredValueFormat(t *testing.T) {
	vm, err := quickjs.NewVM()
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	// No buffers: the JSON itself.
	b, err := encodeStored(`{"a":1}`, nil)
	if err != nil || string(b) != `{"a":1}` {
		t.Fatalf("%q %v", b, err)
	}
	// Buffers: 0x00, count, (length, bytes)..., JSON.
	bufs := []quickjs.Value{jsvm.NewArrayBuffer(vm, []byte("xy")), jsvm.NewArrayBuffer(vm, nil)}
	defer bufs[0].Free()
	defer bufs[1].Free()
	b, err = encodeStored(`{"$":"A","i":0}`, bufs)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0, 2, 2, 'x', 'y', 0}, `{"$":"A","i":0}`...)
	if !bytes.Equal(b, want) {
		t.Fatalf("encoded %q, want %q", b, want)
	}
	js, got, err := decodeStored(b)
	if err != nil || string(js) != `{"$":"A","i":0}` || len(got) != 2 || string(got[0]) != "xy" || len(got[1]) != 0 {
		t.Fatalf("decoded %q %q %v", js, got, err)
	}
	for _, bad := range [][]byte{{}, {0}, {0, 5, 1}, {0, 1, 9, 'x'}} {
		if _, _, err := decodeStored(bad); err == nil {
			t.Errorf("decodeStored(%q) accepted", bad)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":        `"plain"`,
		"q\"b\\":       `"q\"b\\"`,
		"\n\t\x01":     `"\n\t\u0001"`,
		"é😀":           `"é😀"`,
		"bad\xffutf8":  `"bad\ufffdutf8"`,
		"\u2028 sep":   "\"\u2028 sep\"",
		"":             `""`,
		"nul\x00inner": `"nul\u0000inner"`,
	} {
		if got := string(appendJSONString(nil, in)); got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", in, got, want)
		}
	}
}

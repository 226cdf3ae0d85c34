package runtime

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/jsvm"
	jsprelude "github.com/isola-run/isola/internal/runtime/js"
)

// Isolates start as clones of a snapshot only if it builds: a failure would
// only be logged and every isolate would start the long way.
func TestPreludeSnapshotBuilds(t *testing.T) {
	pre, s := newPreludeSnapshot(t)
	t.Logf("snapshot: %d KB, %d pointers", s.Size()/1024, s.Pointers())
	if !snapshotOff && !jsProfiling && preludeSnapshotFor(pre) == nil {
		t.Fatal("isolates start without the snapshot")
	}
}

// Clones share nothing: globals, prelude state, the random seed and the
// time origin are each isolate's own.
func TestClonedIsolatesAreIndependent(t *testing.T) {
	s := compileWorker(t, "clones", `
		let n = 0;
		export default { fetch() {
			n++;
			globalThis.seen = (globalThis.seen ?? 0) + 1;
			const h = new Headers({ a: "1" });
			return new Response([n, globalThis.seen, Math.random(), performance.timeOrigin, h.get("a")].join(" "));
		} };`)
	var randoms, origins []string
	for i := range 3 {
		before := float64(time.Now().UnixNano()) / 1e6
		iso, err := NewIsolate(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for want := 1; want <= 2; want++ {
			rec := httptest.NewRecorder()
			if err := iso.ServeHTTP(rec, httptest.NewRequest("GET", "http://x/", nil), ServeOptions{}); err != nil {
				t.Fatal(err)
			}
			f := strings.Fields(rec.Body.String())
			if len(f) != 5 || f[0] != strconv.Itoa(want) || f[1] != strconv.Itoa(want) || f[4] != "1" {
				t.Fatalf("isolate %d request %d: %q", i, want, rec.Body.String())
			}
			origin, _ := strconv.ParseFloat(f[3], 64)
			if origin < before-1 || origin > before+5000 {
				t.Fatalf("isolate %d: performance.timeOrigin %v, started at %v", i, origin, before)
			}
			if want == 1 {
				randoms, origins = append(randoms, f[2]), append(origins, f[3])
			}
		}
		iso.Close()
		time.Sleep(2 * time.Millisecond)
	}
	if randoms[0] == randoms[1] || randoms[1] == randoms[2] {
		t.Errorf("isolates drew the same Math.random(): %v", randoms)
	}
	if origins[0] == origins[1] || origins[1] == origins[2] {
		t.Errorf("isolates share a time origin: %v", origins)
	}
}

// BenchmarkPreludeClone is the copy an isolate starts from, and its close.
func BenchmarkPreludeClone(b *testing.B) {
	_, s := newPreludeSnapshot(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		vm, values, err := s.Clone()
		if err != nil {
			b.Fatal(err)
		}
		jsvm.Close(vm, values...)
	}
}

// newPreludeSnapshot builds a snapshot of the prelude, as the first isolate
// of a process does.
func newPreludeSnapshot(tb testing.TB) (*jsprelude.Compiled, *jsvm.Snapshot) {
	tb.Helper()
	pre, err := jsprelude.Compile()
	if err != nil {
		tb.Fatal(err)
	}
	s, err := buildPreludeSnapshot(pre)
	if err != nil {
		tb.Fatal(err)
	}
	return pre, s
}

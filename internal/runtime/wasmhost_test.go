package runtime

import (
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/bundle"
)

// wasmIsolate starts an isolate of a worker whose "basic.wasm" is
// internal/wasm's test module (its source is testdata/basic.wat there),
// closed when the test ends.
func wasmIsolate(tb testing.TB, source string, limits Limits) *Isolate {
	tb.Helper()
	bin, err := os.ReadFile("../wasm/testdata/basic.wasm")
	if err != nil {
		tb.Fatal(err)
	}
	b, err := bundle.Build(bundle.Options{Main: "worker.js", Modules: map[string]bundle.Module{
		"worker.js":  {Type: "js", Source: source},
		"basic.wasm": {Type: "wasm", Source: string(bin)},
	}})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := Compile("wasm", b)
	if err != nil {
		tb.Fatal(err)
	}
	iso, err := NewIsolate(s, Options{Limits: limits})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(iso.Close)
	return iso
}

const wasmPrelude = `
import mod from "./basic.wasm";
const log = [];
let ex;
const imports = { env: {
  twice: (n) => { if (n === 99) throw thrown; if (n > 100) return ex.callTwice(n - 100) + 1; return n * 2; },
  note: (a, b) => { log.push(typeof a + ":" + a + " " + b); },
} };
const thrown = new Error("from the import");
ex = new WebAssembly.Instance(mod, imports).exports;
`

// Calls both ways, an import's exception passing through WebAssembly as
// itself, re-entry, and a memory's buffer detached when WebAssembly grows
// the memory (which wasm-bindgen's glue watches for).
func TestWasmCallsAndMemory(t *testing.T) {
	iso := wasmIsolate(t, wasmPrelude+`
export default { fetch() {
  const out = [ex.add(40, 2), ex.mul64(3n, 2n ** 40n), ex.callTwice(21), ex.callTwice(105)];
  ex.callNote();
  out.push(log[0]);
  try { ex.callTwice(99); } catch (e) { out.push(e === thrown); }
  const view = new Uint8Array(ex.memory.buffer);
  ex.store(5, 77);
  out.push(view[5]);
  out.push(ex.grow(1), view.length, ex.memory.buffer.byteLength, new Uint8Array(ex.memory.buffer)[5]);
  try { ex.trap(); } catch (e) { out.push(e instanceof WebAssembly.RuntimeError && e.message); }
  return new Response(out.join(" | "));
} };`, Limits{})
	code, body := serveOnce(t, iso, "GET", "")
	want := "42 | 3298534883328 | 42 | 11 | bigint:-5 0.5 | true | 77 | 1 | 0 | 131072 | 77 | unreachable"
	if code != 200 || body != want {
		t.Fatalf("%d %q\nwant %q", code, body, want)
	}
}

// A loop in WebAssembly ends at the CPU limit as a loop in JavaScript does:
// the isolate is killed, the process goes on.
func TestWasmCPULimit(t *testing.T) {
	iso := wasmIsolate(t, wasmPrelude+`
export default { fetch(req) { if (new URL(req.url).search === "?spin") ex.spin(); return new Response("ok"); } };`, Limits{CPU: 200 * time.Millisecond})
	start := time.Now()
	rec := httptest.NewRecorder()
	iso.ServeHTTP(rec, httptest.NewRequest("GET", "http://x/?spin", nil), ServeOptions{DevErrors: true})
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the loop ran %v", took)
	}
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "CPU time limit") {
		t.Fatalf("%d %q", rec.Code, rec.Body.String())
	}
}

// Linear memory counts against the isolate's memory limit: growing past it
// fails as the memory's maximum would, and an instance whose initial
// memory does not fit is refused.
func TestWasmMemoryLimit(t *testing.T) {
	iso := wasmIsolate(t, wasmPrelude+`
export default { fetch() {
  const out = [ex.grow(4)]; // past the module's maximum of 4 pages
  const big = (() => { try { return new WebAssembly.Memory({ initial: 300 }).buffer.byteLength; } catch (e) { return e.name + ": " + e.message; } })();
  out.push(big);
  return new Response(out.join(" | "));
} };`, Limits{Memory: 16 << 20})
	code, body := serveOnce(t, iso, "GET", "")
	want := "-1 | RangeError: Out of memory: Cannot allocate Wasm memory for new instance"
	if code != 200 || body != want {
		t.Fatalf("%d %q\nwant %q", code, body, want)
	}
}

// BenchmarkWasmCalls is the cost of a call from JavaScript into
// WebAssembly: a request making 10,000 calls of a two-argument export.
func BenchmarkWasmCalls(b *testing.B) {
	iso := wasmIsolate(b, wasmPrelude+`
export default { fetch() { let s = 0; for (let i = 0; i < 10000; i++) s = ex.add(s, i); return new Response(String(s)); } };`, Limits{})
	b.ResetTimer()
	for range b.N {
		rec := httptest.NewRecorder()
		iso.ServeHTTP(rec, httptest.NewRequest("GET", "http://x/", nil), ServeOptions{})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/call")
}

// Instances JavaScript drops are freed: many requests, each making an
// instance with a memory, stay within an isolate's memory budget.
func TestWasmInstancesAreFreed(t *testing.T) {
	iso := wasmIsolate(t, wasmPrelude+`
export default { fetch() { return new Response(String(new WebAssembly.Instance(mod, imports).exports.add(1, 2))); } };`, Limits{Memory: 16 << 20})
	// 2,000 instances of 64 KiB each: 125 MiB, eight times the budget.
	for i := range 2000 {
		if code, body := serveOnce(t, iso, "GET", ""); code != 200 || body != "3" {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
	}
}

// Isolates on their own goroutines share the process's compiled module and
// engine: each makes, calls, grows and drops instances at once.
func TestWasmIsolatesAtOnce(t *testing.T) {
	const n = 4
	isos := make([]*Isolate, n)
	for i := range isos {
		isos[i] = wasmIsolate(t, wasmPrelude+`
export default { fetch() {
  const x = new WebAssembly.Instance(mod, imports).exports;
  x.grow(1);
  new Uint8Array(x.memory.buffer)[70000] = 5;
  return new Response(String(x.add(x.load(70000), x.callTwice(20))));
} };`, Limits{Memory: 16 << 20})
	}
	errs := make(chan error, n)
	for _, iso := range isos {
		go func() {
			for range 300 {
				rec := httptest.NewRecorder()
				iso.ServeHTTP(rec, httptest.NewRequest("GET", "http://x/", nil), ServeOptions{DevErrors: true})
				if rec.Code != 200 || rec.Body.String() != "45" {
					errs <- fmt.Errorf("%d %q", rec.Code, rec.Body.String())
					return
				}
			}
			errs <- nil
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

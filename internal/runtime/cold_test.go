package runtime

import (
	"net/http/httptest"
	"testing"

	"github.com/isola-run/isola/internal/bundle"
)

// BenchmarkColdStart is a new isolate from bytecode, the worker's top level
// evaluated, and its first response.
func BenchmarkColdStart(b *testing.B) {
	s := compileWorker(b, "cold", `export default { fetch(req) { return new Response("Hello World!"); } };`)
	var mem int64
	for i := 0; i < b.N; i++ {
		iso, err := NewIsolate(s, Options{})
		if err != nil {
			b.Fatal(err)
		}
		rec := httptest.NewRecorder()
		if err := iso.ServeHTTP(rec, httptest.NewRequest("GET", "http://x/", nil), ServeOptions{}); err != nil || rec.Body.String() != "Hello World!" {
			b.Fatalf("%v %q", err, rec.Body.String())
		}
		if i == 0 {
			m, _ := iso.Memory()
			mem = m.MallocSize
		}
		iso.Close()
	}
	b.ReportMetric(float64(mem)/1024, "engineKB")
}

// compileWorker bundles and compiles a one-module worker.
func compileWorker(tb testing.TB, name, source string) *Script {
	tb.Helper()
	bu, err := bundle.Build(bundle.Options{Modules: map[string]bundle.Module{
		"worker.js": {Type: "js", Source: source},
	}, Main: "worker.js"})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := Compile(name, bu)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// The optional globals (16_optional.js: the V8 built-ins, the
// compression streams) are installed in isolates whose code names one of
// them, and only there.
func TestOptionalGlobalsOnlyWhereNamed(t *testing.T) {
	for _, c := range []struct{ source, want string }{
		{`export default { fetch() { return new Response(typeof Error.captureStackTrace + " " + Error.stackTraceLimit + " " + typeof Array.fromAsync); } };`, "function 10 function"},
		{`export default { fetch() { return new Response(String(Array.fromAsync.name)); } };`, "fromAsync"},
		{`export default { fetch() { return new Response(typeof CompressionStream + " " + typeof DecompressionStream + " " + Object.getOwnPropertyNames(Error).includes(["capture", "StackTrace"].join(""))); } };`, "function function false"},
		{`export default { fetch() { return new Response(typeof DisposableStack + " " + typeof AsyncDisposableStack + " " + typeof SuppressedError); } };`, "function function function"},
		{`export default { fetch() { return new Response(String(globalThis[["Disposable", "Stack"].join("")])); } };`, "undefined"},
		{`export default { fetch() { return new Response(typeof addEventListener + " " + typeof ErrorEvent); } };`, "function function"},
		{`export default { fetch() { return new Response([typeof WebSocketPair, typeof WebSocket, typeof MessageEvent, typeof CloseEvent, typeof ErrorEvent, typeof WebSocketRequestResponsePair].join()); } };`, "function,function,function,function,function,function"},
		{`export default { fetch() { return new Response(typeof globalThis[["Web", "SocketPair"].join("")]); } };`, "undefined"},
		// A name the code computes is not seen.
		{`export default { fetch() { const k = ["capture", "StackTrace"].join(""); return new Response(typeof Error[k]); } };`, "undefined"},
		{`export default { fetch() { return new Response(typeof globalThis[["Compression", "Stream"].join("")]); } };`, "undefined"},
	} {
		iso, err := NewIsolate(compileWorker(t, "v8", c.source), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if code, body := serveOnce(t, iso, "GET", ""); code != 200 || body != c.want {
			t.Errorf("%s\n got %d %q, want %q", c.source, code, body, c.want)
		}
		iso.Close()
	}
}

package app

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/runtime"
)

const defaultConfig = `{ "name": "t", "main": "worker.js", "compatibility_date": "2026-11-01" }`

// project writes files into a temporary directory; a missing wrangler.jsonc
// gets defaultConfig.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files["wrangler.jsonc"]; !ok {
		files["wrangler.jsonc"] = defaultConfig
	}
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func load(t *testing.T, files map[string]string) (*App, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	a, err := Load(project(t, files), log.New(logs, "", 0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a, logs
}

// logBuffer collects log output written from isolate goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor returns the log once it contains want, or after two seconds:
// a response can reach the client before the turn that wrote it ends.
func (l *logBuffer) waitFor(want string) string {
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(l.String(), want) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return l.String()
}

func get(t *testing.T, a *App, method, path, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://localhost"+path, rd)
	a.Worker.ServeHTTP(rec, req, runtime.ServeOptions{DevErrors: true})
	return rec.Code, rec.Body.String()
}

func TestHello(t *testing.T) {
	a, _ := load(t, map[string]string{
		"wrangler.jsonc": `{ "name": "t", "main": "src/index.js", "compatibility_date": "2026-11-01", "vars": {"WHO": "world", "N": {"x": 1}} }`,
		"src/index.js": `import { greet } from "./greet.js";
			import { env as importedEnv } from "cloudflare:workers";
			export default { async fetch(req, env) { return new Response(greet(env.WHO) + " " + importedEnv.N.x + " " + req.method); } };`,
		"src/greet.js": `export const greet = (who) => "hello " + who;`,
	})
	code, body := get(t, a, "GET", "/", "")
	if code != 200 || body != "hello world 1 GET" {
		t.Fatalf("got %d %q", code, body)
	}
}

func TestEntrypointClassAndEcho(t *testing.T) {
	a, _ := load(t, map[string]string{
		"worker.js": `import { WorkerEntrypoint } from "cloudflare:workers";
			export default class extends WorkerEntrypoint {
				async fetch(req) { return new Response("echo:" + await req.text(), { status: 201 }); }
			}`,
	})
	code, body := get(t, a, "POST", "/", "payload")
	if code != 201 || body != "echo:payload" {
		t.Fatalf("got %d %q", code, body)
	}
}

func TestSyntaxErrorNamesModuleAndLine(t *testing.T) {
	dir := project(t, map[string]string{
		"worker.js": "import './lib.js';\nexport default { fetch() { return new Response('x') } };\n",
		"lib.js":    "const a = 1;\nconst b = ;\n",
	})
	_, err := Load(dir, log.New(io.Discard, "", 0))
	if err == nil || !strings.Contains(err.Error(), "lib.js:2:") {
		t.Fatalf("want an error naming lib.js:2, got %v", err)
	}
}

func TestMissingImport(t *testing.T) {
	dir := project(t, map[string]string{
		"worker.js": "import { x } from './nope.js';\nexport default { fetch() { return new Response(x) } };\n",
	})
	_, err := Load(dir, log.New(io.Discard, "", 0))
	if err == nil || !strings.Contains(err.Error(), "./nope.js") || !strings.Contains(err.Error(), "worker.js:1:") {
		t.Fatalf("want an error naming the import, got %v", err)
	}
}

func TestMissingMain(t *testing.T) {
	dir := project(t, map[string]string{
		"wrangler.jsonc": `{ "name": "t", "compatibility_date": "2026-11-01" }`,
	})
	_, err := Load(dir, log.New(io.Discard, "", 0))
	if err == nil || !strings.Contains(err.Error(), `"main"`) {
		t.Fatalf("want an error about main, got %v", err)
	}
}

func TestThrowGives500WithStack(t *testing.T) {
	a, logs := load(t, map[string]string{
		"worker.js": "export default {\n  fetch() {\n    throw new Error('boom');\n  }\n};\n",
	})
	code, body := get(t, a, "GET", "/", "")
	if code != 500 || !strings.Contains(body, "Error: boom") || !strings.Contains(body, "worker.js:3") {
		t.Fatalf("got %d %q", code, body)
	}
	if out := logs.waitFor("worker.js:3"); !strings.Contains(out, "Error: boom") || !strings.Contains(out, "worker.js:3") {
		t.Fatalf("log lacks the error: %s", logs)
	}
}

// Stacks in the log, logged by the worker or uncaught, name the worker's
// modules and none of the runtime's own frames; an error that crossed RPC
// carries no stack of the runtime's either.
func TestLoggedStacksShowOnlyTheWorkersFrames(t *testing.T) {
	a, logs := load(t, map[string]string{
		"wrangler.jsonc": `{ "name": "t", "main": "worker.js", "compatibility_date": "2026-11-01",
		  "worker_loaders": [{ "binding": "LOADER" }] }`,
		"worker.js": `function inner() { throw new TypeError("boom"); }
const tenant = { compatibilityDate: "2026-11-01", mainModule: "m.js",
  modules: { "m.js": "export default { fetch() { throw new RangeError('far'); } };" } };
export default {
  async fetch(req, env) {
    try { inner(); } catch (e) { console.error(e); }
    console.log("at noon\n    at home");
    if (new URL(req.url).pathname === "/remote") {
      try { await env.LOADER.get("t", () => tenant).getEntrypoint().fetch("http://x/"); }
      catch (e) { return new Response(JSON.stringify(e.stack)); }
    }
    inner();
  },
};
`,
	})
	if code, _ := get(t, a, "GET", "/", ""); code != 500 {
		t.Fatalf("GET /: %d", code)
	}
	out := logs.waitFor("Uncaught")
	for _, want := range []string{"error: TypeError: boom\n    at inner (worker.js:1:", "    at fetch (worker.js:6:", "    at fetch (worker.js:12:", "at noon\n    at home"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, runtimeFrame := range []string{"isola:worker", "callFetchHandler", "at dispatch", "(native)", "at <anonymous>\n"} {
		if strings.Contains(out, runtimeFrame) {
			t.Errorf("log shows %q:\n%s", runtimeFrame, out)
		}
	}
	if code, body := get(t, a, "GET", "/remote", ""); code != 200 || body != `""` {
		t.Errorf("GET /remote: %d %s, want the decoded error's stack empty", code, body)
	}
}

// hostile is a worker whose paths misbehave in each way a tenant's code can;
// each must fail only its own request.
const hostile = `let hits = 0;
export default {
  async fetch(req) {
    hits++;
    const path = req.url.slice(req.url.indexOf("/", 8));
    if (path === "/loop") { for (;;) {} }
    if (path === "/alloc") { const a = []; for (;;) a.push(new Array(1e5).fill(hits)); }
    if (path === "/recurse") { const f = (n) => f(n + 1) + 1; return new Response(String(f(0))); }
    if (path === "/never") return new Promise(() => {});
    return new Response("ok " + hits);
  },
};`

func TestHostileWorkerFailsAlone(t *testing.T) {
	a, _ := load(t, map[string]string{
		"wrangler.jsonc": `{ "name": "t", "main": "worker.js", "compatibility_date": "2026-11-01", "limits": { "cpu_ms": 200, "memory_mb": 32 } }`,
		"worker.js":      hostile,
	})
	cases := []struct{ path, want string }{
		{"/loop", "exceeded CPU time limit"},
		{"/alloc", "exceeded memory limit"},
		{"/recurse", "stack overflow"},
		{"/never", "The script will never generate a response."},
	}
	for _, c := range cases {
		code, body := get(t, a, "GET", c.path, "")
		if code != 500 || !strings.Contains(body, c.want) {
			t.Errorf("%s: got %d %q, want 500 containing %q", c.path, code, body, c.want)
		}
		if code, body := get(t, a, "GET", "/", ""); code != 200 || !strings.HasPrefix(body, "ok ") {
			t.Errorf("after %s: got %d %q", c.path, code, body)
		}
	}
}

func TestConcurrentRequestsShareIsolate(t *testing.T) {
	a, _ := load(t, map[string]string{
		"worker.js": `let n = 0; export default { async fetch() { n++; await new Promise(r => setTimeout(r, 5)); return new Response(String(n)); } };`,
	})
	done := make(chan string, 20)
	for i := 0; i < 20; i++ {
		go func() { _, b := get(t, a, "GET", "/", ""); done <- b }()
	}
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		seen[<-done] = true
	}
	if !seen["20"] {
		t.Fatalf("requests did not share one isolate's globals: %v", seen)
	}
}

func TestStreamingResponse(t *testing.T) {
	a, _ := load(t, map[string]string{
		"worker.js": `export default { fetch() {
			let i = 0;
			const s = new ReadableStream({ pull(c) { if (i < 3) c.enqueue(new TextEncoder().encode("chunk" + i++ + ";")); else c.close(); } });
			return new Response(s, { headers: { "content-type": "text/plain" } });
		} };`,
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Worker.ServeHTTP(w, r, runtime.ServeOptions{DevErrors: true})
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "chunk0;chunk1;chunk2;" || resp.TransferEncoding == nil {
		t.Fatalf("got %q (transfer-encoding %v)", b, resp.TransferEncoding)
	}
}

func TestUnhandledRejectionIsLogged(t *testing.T) {
	a, logs := load(t, map[string]string{
		"worker.js": "export default {\n  fetch() {\n    Promise.reject(new Error('nobody listens'));\n    Promise.reject(new Error('handled')).catch(() => {});\n    return new Response('ok');\n  }\n};\n",
	})
	if code, body := get(t, a, "GET", "/", ""); code != 200 || body != "ok" {
		t.Fatalf("got %d %q", code, body)
	}
	out := logs.waitFor("nobody listens")
	if !strings.Contains(out, "Uncaught (in promise) Error: nobody listens") || !strings.Contains(out, "worker.js:3") || strings.Contains(out, "handled") {
		t.Fatalf("log: %s", out)
	}
}

func TestTypeScriptNodeModulesAndModuleTypes(t *testing.T) {
	a, _ := load(t, map[string]string{
		"wrangler.jsonc": `{ "name": "t", "main": "src/index.ts", "compatibility_date": "2026-11-01" }`,
		"src/index.ts": `import { shout } from "shouty";
			import greeting from "./greeting.txt";
			import data from "./blob.bin";
			import cfg from "./cfg.json";
			import legacy from "./legacy.cjs";
			interface Env { }
			export default {
				async fetch(req: Request, env: Env): Promise<Response> {
					const n: number = new Uint8Array(data).length;
					return new Response([shout(greeting.trim()), n, data instanceof ArrayBuffer, cfg.a, legacy.double(21)].join(" "));
				},
			};`,
		"src/greeting.txt":                 "hello\n",
		"src/blob.bin":                     "\x00\x01\x02",
		"src/cfg.json":                     `{"a": "json"}`,
		"src/legacy.cjs":                   `module.exports = { double: (x) => x * 2 };`,
		"node_modules/shouty/package.json": `{"name": "shouty", "main": "./lib.js"}`,
		"node_modules/shouty/lib.js":       `exports.shout = (s) => s.toUpperCase() + "!";`,
	})
	code, body := get(t, a, "GET", "/", "")
	if code != 200 || body != "HELLO! 3 true json 42" {
		t.Fatalf("got %d %q", code, body)
	}
}

// A .wasm file that does not compile fails the load, naming the file.
func TestBadWasmIsAClearError(t *testing.T) {
	dir := project(t, map[string]string{
		"worker.js": "import m from './x.wasm';\nexport default { fetch() { return new Response(String(m)) } };\n",
		"x.wasm":    "\x00asm",
	})
	_, err := Load(dir, log.New(io.Discard, "", 0))
	if err == nil || !strings.Contains(err.Error(), `WebAssembly module "x.wasm": CompileError:`) {
		t.Fatalf("got %v", err)
	}
}

func TestOutboundFetch(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/final":
			w.Header().Set("X-Up", "1")
			b, _ := io.ReadAll(r.Body)
			io.WriteString(w, r.Method+" "+string(b)+" ua="+r.Header.Get("User-Agent"))
		case "/stream":
			f := w.(http.Flusher)
			for i := 0; i < 3; i++ {
				io.WriteString(w, "part")
				f.Flush()
			}
		}
	}))
	defer upstream.Close()
	a, _ := load(t, map[string]string{
		"wrangler.jsonc": `{ "name": "t", "main": "worker.js", "compatibility_date": "2026-11-01", "vars": { "UP": "` + upstream.URL + `" } }`,
		"worker.js": `export default {
  async fetch(req, env) {
    const r = await fetch(env.UP + "/redirect", { method: "POST", body: "payload" });
    const manual = await fetch(env.UP + "/redirect", { redirect: "manual" });
    const streamed = await fetch(env.UP + "/stream");
    let chunks = 0, text = "";
    const reader = streamed.body.getReader();
    for (;;) { const { done, value } = await reader.read(); if (done) break; chunks++; text += new TextDecoder().decode(value); }
    let refused;
    try { await fetch("ftp://example.com/"); } catch (e) { refused = e.name; }
    return Response.json({ status: r.status, redirected: r.redirected, url: r.url.endsWith("/final"), header: r.headers.get("x-up"),
      body: await r.text(), manual: manual.status, text, refused });
  },
};`,
	})
	code, body := get(t, a, "GET", "/", "")
	want := `{"status":200,"redirected":true,"url":true,"header":"1","body":"GET  ua=Cloudflare-Workers","manual":302,"text":"partpartpart","refused":"TypeError"}`
	if code != 200 || body != want {
		t.Fatalf("got %d %s\nwant %s", code, body, want)
	}
}

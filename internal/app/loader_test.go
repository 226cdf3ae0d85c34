package app

import (
	"io"
	"log"
	"strings"
	"testing"
	"time"

	"github.com/isola-run/isola/internal/runtime"
)

const loaderConfig = `{ "name": "platform", "main": "worker.js", "compatibility_date": "2026-11-01", "worker_loaders": [{ "binding": "LOADER" }] }`

// hostileTenant misbehaves in every way a tenant's code can, one way per
// method; the platform calls each and must survive all of them.
const hostileTenant = `
import { WorkerEntrypoint } from "cloudflare:workers";
export default class extends WorkerEntrypoint {
  ok() { return "fine"; }
  loop() { for (;;) {} }
  alloc() { const a = []; for (;;) a.push(new Array(1e5).fill(1)); }
  async allocLater() { await null; const a = []; for (;;) a.push(new Array(1e5).fill(1)); }
  recurse() { const f = (n) => f(n + 1) + 1; return f(0); }
  never() { return new Promise(() => {}); }
  async net() { await fetch("http://127.0.0.1:9/"); return "reached"; }
}`

func TestHostileDynamicWorkerFailsAlone(t *testing.T) {
	a, _ := load(t, map[string]string{
		"wrangler.jsonc": loaderConfig,
		"tenant.js":      hostileTenant,
		"worker.js": `import tenant from "./tenant.txt";
export default {
  async fetch(req, env) {
    const method = new URL(req.url).pathname.slice(1);
    const stub = env.LOADER.get("hostile", () => ({
      compatibilityDate: "2026-11-01", mainModule: "t.js", modules: { "t.js": tenant },
      globalOutbound: null, limits: { cpuMs: 2000, memoryMb: 16 },
    }));
    const other = env.LOADER.get("good", () => ({
      compatibilityDate: "2026-11-01", mainModule: "t.js", modules: { "t.js": "export default { fetch() { return new Response('good') } }" },
    }));
    let result;
    try { result = "ok: " + await stub.getEntrypoint()[method](); } catch (e) { result = "error: " + e.message; }
    const good = await (await other.getEntrypoint().fetch("http://x/")).text();
    return new Response(result + " | " + good);
  },
};`,
		"tenant.txt": hostileTenant,
	})
	cases := []struct{ method, want string }{
		{"ok", "ok: fine"},
		{"loop", "error: Worker exceeded CPU time limit"},
		{"ok", "ok: fine"},
		{"alloc", "error: Worker exceeded memory limit"},
		{"allocLater", "error: Worker exceeded memory limit"},
		{"recurse", "error: stack overflow"},
		{"never", "error: The script will never generate a response."},
		{"net", "error: This worker is not permitted to access the internet"},
		{"ok", "ok: fine"},
	}
	for _, c := range cases {
		code, body := get(t, a, "GET", "/"+c.method, "")
		if code != 200 || !strings.HasPrefix(body, c.want) || !strings.HasSuffix(body, " | good") {
			t.Errorf("%s: got %d %q, want 200 starting %q and ending with the good tenant's answer", c.method, code, body, c.want)
		}
	}
}

func TestLoaderBadInput(t *testing.T) {
	a, _ := load(t, map[string]string{
		// The platform needs room for a 65 MiB module of its own making.
		"wrangler.jsonc": strings.Replace(loaderConfig, `"main"`, `"limits": { "memory_mb": 1024 }, "main"`, 1),
		"worker.js": `export default {
  async fetch(req, env) {
    const probes = {
      noMain: { compatibilityDate: "2026-11-01", modules: { "a.js": "" } },
      mainMissing: { compatibilityDate: "2026-11-01", mainModule: "b.js", modules: { "a.js": "" } },
      unknownType: { compatibilityDate: "2026-11-01", mainModule: "a.js", modules: { "a.js": { python3: "x" } } },
      syntax: { compatibilityDate: "2026-11-01", mainModule: "a.js", modules: { "a.js": "export default {\n  fetch() { return new Response( }\n};" } },
      tooBig: { compatibilityDate: "2026-11-01", mainModule: "a.js", modules: { "a.js": "//" + "x".repeat(65 << 20) } },
      bigEnv: { compatibilityDate: "2026-11-01", mainModule: "a.js", modules: { "a.js": "export default {}" }, env: { s: "x".repeat(1 << 20) } },
      fnEnv: { compatibilityDate: "2026-11-01", mainModule: "a.js", modules: { "a.js": "export default {}" }, env: { f: Symbol("s") } },
    };
    const out = {};
    for (const [name, code] of Object.entries(probes)) {
      try {
        await env.LOADER.load(code).getEntrypoint().fetch("http://x/");
        out[name] = "no error";
      } catch (e) {
        out[name] = e.name + ": " + e.message;
      }
    }
    return Response.json(out);
  },
};`,
	})
	code, body := get(t, a, "GET", "/", "")
	if code != 200 {
		t.Fatalf("got %d %s", code, body)
	}
	for _, want := range []string{
		// workerd's words, so platform code that matches on them works.
		`"noMain":"Error: Failed to start Worker:\nUncaught Error: No such module: undefined"`,
		`"mainMissing":"Error: Failed to start Worker:\nUncaught Error: No such module: b.js"`,
		`"unknownType":"TypeError: Each module must contain exactly one of 'js', 'cjs', 'text', 'data', 'json', 'py', or 'wasm'. Module 'a.js' contained 0 properties."`,
		// The module and line of a syntax error.
		`"syntax":"Error: Failed to start Worker:\nUncaught SyntaxError: Unexpected \"}\"\n  at a.js:2:34"`,
		`"tooBig":"TypeError: Worker Loader: the code is larger than 64 MiB"`,
		`"bigEnv":"TypeError: Worker Loader: env is`,
		`1 MiB`,
		`"fnEnv":"DataCloneError: Symbol(s) could not be cloned."`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %s\nbody: %s", want, body)
		}
	}
}

// Every LOADER.get makes a worker handle; those of collected stubs must be
// released, or a platform calling get() per request fills its isolate's
// handle table (and pins every worker it ever loaded).
func TestLoaderGetReleasesHandles(t *testing.T) {
	a, logs := load(t, map[string]string{
		"wrangler.jsonc": loaderConfig,
		"worker.js": `export default {
  async fetch(req, env) {
    if (new URL(req.url).pathname !== "/") return new Response("idle");
    for (let i = 0; i < 200; i++) {
      const w = env.LOADER.get("same", () => ({ compatibilityDate: "2026-01-01", mainModule: "m.js",
        modules: { "m.js": "export default { fetch() { return new Response('ok'); } }" } }));
      await (await w.getEntrypoint().fetch("http://x/")).text();
    }
    return new Response("done");
  },
};`,
	})
	for i := 0; i < 10; i++ {
		if code, body := get(t, a, "GET", "/", ""); code != 200 || body != "done" {
			t.Fatalf("%d %s\n%s", code, body, logs)
		}
	}
	iso, err := a.Worker.Isolate()
	if err != nil {
		t.Fatal(err)
	}
	// Stubs are released when collected; finalizers run after a collection.
	for i := 0; i < 3; i++ {
		iso.CollectGarbage()
		get(t, a, "GET", "/nothing-to-do", "") // a turn for the finalizers' releases
	}
	if n := iso.HandleCount(); n > 100 {
		t.Fatalf("%d handles held after 2,000 get()s whose stubs are all garbage", n)
	}
}

// A tenant's isolate starts off the platform worker's loop: while one
// tenant's top level runs, the platform worker answers other requests.
func TestLoaderStartsTenantsOffThePlatformLoop(t *testing.T) {
	a, logs := load(t, map[string]string{
		"wrangler.jsonc": loaderConfig,
		"worker.js": `const slowTenant = {
  compatibilityDate: "2026-11-01", mainModule: "t.js", limits: { cpuMs: 60000 },
  modules: { "t.js": "console.log('top level starts'); let x = 0; for (let i = 0; i < 1e7; i++) x += i; console.log('top level done');\nexport default { fetch() { return new Response('slow') } };" },
};
export default {
  async fetch(req, env) {
    if (new URL(req.url).pathname === "/ping") return new Response("pong");
    return env.LOADER.get("slow", () => slowTenant).getEntrypoint().fetch(req);
  },
};`,
	})
	done := make(chan string, 1)
	go func() {
		_, body := get(t, a, "GET", "/slow", "")
		done <- body
	}()
	for !strings.Contains(logs.String(), "top level starts") {
		select {
		case body := <-done:
			t.Fatalf("the slow tenant answered %q before its top level was seen to start; logs:\n%s", body, logs)
		case <-time.After(time.Millisecond):
		}
	}
	if code, body := get(t, a, "GET", "/ping", ""); code != 200 || body != "pong" {
		t.Fatalf("ping: %d %q", code, body)
	}
	if strings.Contains(logs.String(), "top level done") {
		t.Errorf("the platform worker answered only once the tenant had started; it must not wait for a tenant's isolate to start")
	}
	if body := <-done; body != "slow" {
		t.Errorf("slow tenant: %q", body)
	}
}

// A platform's get(id).getEntrypoint() shares its handles with the get()s
// before it (66_loader.js, the memo), but a worker the cache has forgotten
// still runs getCode again, and a stub kept from before still answers.
func TestLoaderMemoFollowsTheCache(t *testing.T) {
	a, err := LoadWith(project(t, map[string]string{
		"wrangler.jsonc": loaderConfig,
		"worker.js": `let calls = 0, kept = null;
const load = (env, id) => env.LOADER.get(id, () => {
  calls++;
  return { compatibilityDate: "2026-01-01", mainModule: "m.js",
    modules: { "m.js": "export default { fetch() { return new Response('" + id + "') } }" } };
});
export default {
  async fetch(req, env) {
    const id = new URL(req.url).pathname.slice(1);
    const ep = load(env, id).getEntrypoint();
    if (id === "a" && kept === null) kept = ep;
    const own = await (await ep.fetch("http://x/")).text();
    const old = await (await kept.fetch("http://x/")).text();
    return new Response(own + " " + old + " " + calls);
  },
};`,
	}), log.New(io.Discard, "", 0), Options{Loader: runtime.LoaderLimits{Workers: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, c := range []struct{ path, want string }{
		{"/a", "a a 1"},
		{"/a", "a a 1"}, // cached: no getCode
		{"/b", "b a 2"}, // b pushes a out of the one-worker cache
		{"/a", "a a 3"}, // a is forgotten: getCode again
		{"/a", "a a 3"},
	} {
		if code, body := get(t, a, "GET", c.path, ""); code != 200 || body != c.want {
			t.Fatalf("GET %s: %d %q, want %q", c.path, code, body, c.want)
		}
	}
}

package app

import (
	"fmt"
	"log"
	"strings"
	"sync"
	"testing"
	"time"
)

const actorConfig = `{ "name": "t", "main": "worker.js", "compatibility_date": "2026-11-01",
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Counter"] }],
  "durable_objects": { "bindings": [{ "name": "C", "class_name": "Counter" }] },
  "worker_loaders": [{ "binding": "LOADER" }] }`

func loadWith(t *testing.T, files map[string]string, opts Options) (*App, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	a, err := LoadWith(project(t, files), log.New(logs, "", 0), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a, logs
}

// An idle object leaves memory; the next event builds a new instance.
func TestIdleActorIsEvicted(t *testing.T) {
	a, _ := loadWith(t, map[string]string{
		"wrangler.jsonc": actorConfig,
		"worker.js": `
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject { n = 0; inc() { return ++this.n; } }
export default { async fetch(req, env) { return new Response(String(await env.C.getByName("x").inc())); } };`,
	}, Options{ActorIdleTimeout: 100 * time.Millisecond})
	for i, want := range []string{"1", "2"} {
		if _, body := get(t, a, "GET", "/", ""); body != want {
			t.Fatalf("request %d: %q, want %q", i, body, want)
		}
	}
	time.Sleep(400 * time.Millisecond)
	if _, body := get(t, a, "GET", "/", ""); body != "1" {
		t.Fatalf("after idling: %q, want a fresh instance (1)", body)
	}
}

// blockConcurrencyWhile holds every other event back until it settles,
// including the first events that reach a constructor that calls it.
func TestBlockConcurrencyWhileHoldsEvents(t *testing.T) {
	a, _ := load(t, map[string]string{
		"wrangler.jsonc": actorConfig,
		"worker.js": `
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  log = [];
  constructor(ctx, env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      await new Promise((r) => setTimeout(r, 30));
      this.log.push("ready");
    });
  }
  async slow() {
    await this.ctx.blockConcurrencyWhile(async () => {
      this.log.push("slow start");
      await new Promise((r) => setTimeout(r, 30));
      this.log.push("slow end");
    });
  }
  fast() { this.log.push("fast"); }
  read() { return this.log; }
}
export default { async fetch(req, env) {
  const s = env.C.getByName("x");
  const first = s.fast();
  await Promise.all([first, s.slow(), s.fast()]);
  return Response.json(await s.read());
} };`,
	})
	_, body := get(t, a, "GET", "/", "")
	if body != `["ready","fast","slow start","slow end","fast"]` {
		t.Fatalf("events were not held back: %s", body)
	}
}

// An object that loops forever is stopped by the CPU limit; the object and
// its worker serve again afterwards.
func TestRunawayActorFailsAlone(t *testing.T) {
	a, _ := load(t, map[string]string{
		"wrangler.jsonc": strings.Replace(actorConfig, `"compatibility_date"`, `"limits": {"cpu_ms": 100}, "compatibility_date"`, 1),
		"worker.js": `
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject { n = 0; spin() { for (;;) {} } inc() { return ++this.n; } }
export default { async fetch(req, env) {
  const s = env.C.getByName(new URL(req.url).pathname);
  if (req.url.endsWith("/spin")) return new Response(String(await s.spin()));
  return new Response(String(await s.inc()));
} };`,
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if status, _ := get(t, a, "GET", "/spin", ""); status != 500 {
			t.Errorf("spinning object: status %d, want 500", status)
		}
	}()
	wg.Wait()
	if status, body := get(t, a, "GET", "/ok", ""); status != 200 || body != "1" {
		t.Fatalf("after the runaway: %d %q", status, body)
	}
}

// Facets: a class from a dynamic worker and a local class with props; abort
// makes old stubs throw the reason and the next get() may bring a new class.
func TestFacets(t *testing.T) {
	a, _ := load(t, map[string]string{
		"wrangler.jsonc": actorConfig,
		"worker.js": `
import { DurableObject } from "cloudflare:workers";
export class Child extends DurableObject { n = 0; hit() { return [++this.n, this.ctx.props, this.ctx.id.name]; } }
const DYN = 'import { DurableObject } from "cloudflare:workers"; export class App extends DurableObject { n = 0; hit() { return "dyn " + (++this.n); } }';
export class Counter extends DurableObject {
  async run() {
    const out = [];
    const f = this.ctx.facets.get("c", () => ({ class: this.ctx.exports.Child({ props: { p: 1 } }) }));
    out.push(await f.hit(), await f.hit());
    const w = this.env.LOADER.get("dyn", () => ({ compatibilityDate: "2026-04-01", mainModule: "m.js", modules: { "m.js": DYN } }));
    const g = this.ctx.facets.get("d", () => ({ class: w.getDurableObjectClass("App") }));
    out.push(await g.hit(), await g.hit());
    this.ctx.facets.abort("c", new Error("bye"));
    try { await f.hit(); out.push("no throw"); } catch (e) { out.push("threw " + e.message); }
    const f2 = this.ctx.facets.get("c", () => ({ class: this.ctx.exports.Child }));
    out.push(await f2.hit());
    return out;
  }
}
export default { async fetch(req, env) { return Response.json(await env.C.getByName("s").run()); } };`,
	})
	_, body := get(t, a, "GET", "/", "")
	want := `[[1,{"p":1},"s"],[2,{"p":1},"s"],"dyn 1","dyn 2","threw bye",[1,{},"s"]]`
	if body != want {
		t.Fatalf("got  %s\nwant %s", body, want)
	}
}

// Touching many more objects than may stay open keeps the number of open
// databases (and records) bounded, and every object keeps its data.
func TestManyObjectsStayBounded(t *testing.T) {
	a, _ := loadWith(t, map[string]string{
		"wrangler.jsonc": actorConfig,
		"worker.js": `
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject { inc() { const n = (this.ctx.storage.kv.get("n") ?? 0) + 1; this.ctx.storage.kv.put("n", n); return n; } }
export default { async fetch(req, env) { return new Response(String(await env.C.getByName(new URL(req.url).pathname).inc())); } };`,
	}, Options{ActorMaxLive: 8})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 200; i += 4 {
				if status, body := get(t, a, "GET", fmt.Sprintf("/o%d", i%50), ""); status != 200 {
					t.Errorf("object %d: %d %s", i, status, body)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Evictions run in the background, and an object busy at the time is
	// passed over: the bound holds once the objects are idle.
	deadline := time.Now().Add(2 * time.Second)
	for a.Actors.Live() > 8 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if live := a.Actors.Live(); live > 8 {
		t.Fatalf("%d objects live, want at most 8", live)
	}
	for i := 0; i < 50; i++ {
		if _, body := get(t, a, "GET", fmt.Sprintf("/o%d", i), ""); body != "5" {
			t.Fatalf("object %d: count %s, want 5 (writes lost across evictions?)", i, body)
		}
	}
}

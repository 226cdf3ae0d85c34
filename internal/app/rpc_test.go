package app

import (
	"testing"
)

// TestRPCSemantics covers what the conformance cases do not: dup() keeps a
// callback past its call, a disposed pending call disposes its result,
// shared references inside Maps and errors, values Go's encoder hands back
// to the prelude's part way, env values outside RPC, and an RpcTarget
// hearing (Symbol.dispose) that its last stub went away.
func TestRPCSemantics(t *testing.T) {
	a, _ := load(t, map[string]string{
		"wrangler.jsonc": loaderConfig,
		"worker.js": `import { RpcTarget } from "cloudflare:workers";
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": ` + "`" + `
      import { WorkerEntrypoint, RpcTarget } from "cloudflare:workers";
      let kept, disposed = 0;
      class Res extends RpcTarget {
        hello() { return "hello"; }
        [Symbol.dispose]() { disposed++; }
      }
      export default class extends WorkerEntrypoint {
        keep(cb) { kept = cb.dup(); return "kept"; }
        async useKept() { return await kept(1); }
        echo(v) { return v; }
        make() { return { res: new Res() }; }
        disposedCount() { return disposed; }
        async callBack(t) { return await t.hello(); }
        async callBoth(a, m) { return [await a(), await m.get("f")()]; }
      }
    ` + "`" + `,
  },
};
const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};
export default {
  async fetch(req, env) {
    const ep = env.LOADER.get("sem", () => code).getEntrypoint();
    const out = {};
    out.dup = await probe(async () => { await ep.keep((x) => x + 1); return await ep.useKept(); });
    out.pendingDispose = await probe(async () => {
      const p = ep.make();
      const o = await p;
      p[Symbol.dispose]();
      await null;
      return await o.res.hello();
    });
    out.shared = await probe(async () => {
      const inner = { n: 1 };
      const m = new Map([["a", inner], ["b", inner]]);
      const e = new Error("e");
      e.self = e;
      const r = await ep.echo({ m, e, list: [inner, inner] });
      return [r.m.get("a") === r.m.get("b"), r.m.get("a") === r.list[0], r.e.self === r.e, r.e instanceof Error];
    });
    // Shapes a decoder working on the parsed message in place must keep.
    out.shapes = await probe(async () => {
      const o = JSON.parse('{"__proto__":{"p":1},"$":"x","u":1}');
      o.u = undefined;
      o.self = o;
      o.holes = [1, , { $: "y" }, , ];
      o.nested = [[o], { list: o.holes }];
      const r = await ep.echo(o);
      return [Object.hasOwn(r, "__proto__"), Object.getPrototypeOf(r) === Object.prototype, r.__proto__.p, r.$,
        "u" in r, r.u, r.self === r, r.holes.length, 1 in r.holes, 3 in r.holes, r.holes[2].$,
        r.nested[0][0] === r, r.nested[1].list === r.holes, Object.keys(r).join()];
    });
    // Values Go starts to write and hands back to the prelude's encoder
    // (at the Map, at the getter): functions numbered once, a getter run once.
    out.mixed = await probe(() => ep.callBoth(() => "first", new Map([["f", () => "second"]])));
    out.getterRuns = await probe(async () => {
      let runs = 0;
      const r = await ep.echo({ a: 1, get g() { runs++; return "got"; }, d: new Date(0) });
      return [r.a, r.g, runs, r.d instanceof Date];
    });
    out.envFunction = await probe(async () => {
      await env.LOADER.load({ ...code, env: { f: () => 1 } }).getEntrypoint().echo(1);
    });
    out.envTarget = await probe(async () => {
      await env.LOADER.load({ ...code, env: { t: new (class extends RpcTarget {})() } }).getEntrypoint().echo(1);
    });
    let dropped = false;
    out.targetBack = await probe(() => ep.callBack(new (class extends RpcTarget {
      hello() { return "from parent"; }
      [Symbol.dispose]() { dropped = true; }
    })()));
    await new Promise((r) => setTimeout(r, 20));
    out.targetDisposed = dropped;
    out.usingDispose = typeof Symbol.dispose + "," + (Symbol.dispose === Symbol.for("Symbol.dispose"));
    return Response.json(out);
  },
};`,
	})
	code, body := get(t, a, "GET", "/", "")
	want := `{"dup":2,"pendingDispose":"threw Error: RPC stub used after being disposed.","shared":[true,true,true,true],` +
		`"shapes":[true,true,1,"x",true,null,true,4,false,false,"y",true,true,"__proto__,$,u,self,holes,nested"],` +
		`"mixed":["first","second"],"getterRuns":[1,"got",1,true],` +
		`"envFunction":"threw DataCloneError: () => 1 could not be cloned.",` +
		`"envTarget":"threw DataCloneError: Remote RPC references can only be serialized for RPC.",` +
		`"targetBack":"from parent","targetDisposed":true,"usingDispose":"symbol,true"}`
	if code != 200 || body != want {
		t.Fatalf("got %d\n%s\nwant\n%s", code, body, want)
	}
}

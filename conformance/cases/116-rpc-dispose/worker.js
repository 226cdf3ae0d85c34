// Explicit resource management on RPC stubs and results: Symbol.dispose is
// present on returned stubs, pending calls and result objects (not on the
// entrypoint Fetcher), and a disposed stub refuses further calls. (The
// `using` syntax is in 132-rpc-using-declaration.)
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint, RpcTarget } from "cloudflare:workers";
      class Res extends RpcTarget {
        constructor(name) { super(); this.name = name; }
        hello() { return "hello from " + this.name; }
      }
      export default class extends WorkerEntrypoint {
        make(name) { return new Res(name); }
        makeInObject(name) { return { res: new Res(name), plain: 1 }; }
        plainObject() { return { a: 1 }; }
        primitive() { return 5; }
      }
    `,
  },
};

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env) {
    const ep = env.LOADER.get("dispose", () => code).getEntrypoint();
    const out = {};
    out.symbolDisposeExists = typeof Symbol.dispose;
    out.entrypointHasDispose = typeof ep[Symbol.dispose];
    out.pendingHasDispose = await probe(async () => { const p = ep.primitive(); const t = typeof p[Symbol.dispose]; await p; return t; });
    out.objectResultHasDispose = await probe(async () => typeof (await ep.plainObject())[Symbol.dispose]);
    out.objectResultKeys = await probe(async () => Object.keys(await ep.plainObject()));
    out.manualDispose = await probe(async () => {
      const r = await ep.make("manual");
      const before = await r.hello();
      r[Symbol.dispose]();
      let after;
      try { after = await r.hello(); } catch (e) { after = "threw " + e.name + ": " + e.message; }
      return { before, after };
    });
    out.disposeResultObject = await probe(async () => {
      const o = await ep.makeInObject("in-object");
      const before = await o.res.hello();
      o[Symbol.dispose]();
      let after;
      try { after = await o.res.hello(); } catch (e) { after = "threw " + e.name + ": " + e.message; }
      return { before, after, plain: o.plain };
    });
    out.stillUsable = await probe(() => ep.primitive());
    return Response.json(out);
  },
};

// Functions cross RPC as stubs: the dynamic worker calls back into the
// parent (await cb(2)), errors thrown by a callback travel back, and
// functions returned by the dynamic worker can be called from the parent;
// a callback kept past the call it came with is disposed.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      let kept;
      export default class extends WorkerEntrypoint {
        async callTwice(cb) {
          const a = await cb(2);
          const b = await cb(3);
          return { a, b, type: typeof cb };
        }
        async callNested(obj) { return await obj.inner.fn("nested"); }
        async callWithArgs(cb) { return await cb(new Date(0), new Map([["m", 1]]), undefined, 5n); }
        async callThrowing(cb) {
          try { await cb(); return "no error"; }
          catch (e) { return "caught " + e.name + ": " + e.message; }
        }
        async passThrough(cb) { return await cb(); }
        callNoAwait(cb) { const r = cb(1); return typeof r.then; }
        makeAdder(n) { return (x) => x + n; }
        makeCounter() {
          let c = 0;
          return { inc: () => ++c, label: "counter" };
        }
        keep(cb) { kept = cb; return "kept"; }
        async useKept() {
          try { return await kept(10); } catch (e) { return "threw " + e.name + ": " + e.message; }
        }
        async cbReturnsFunction(cb) { const f = await cb(); return await f(4); }
      }
    `,
  },
};

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env) {
    const ep = env.LOADER.get("callbacks", () => code).getEntrypoint();
    const seen = [];
    const out = {};
    out.callTwice = await probe(() => ep.callTwice((x) => { seen.push(x); return x * 10; }));
    out.asyncCallback = await probe(() => ep.callTwice(async (x) => { await null; return "async " + x; }));
    out.nested = await probe(() => ep.callNested({ inner: { fn: (s) => "got " + s } }));
    out.callbackArgs = await probe(() => ep.callWithArgs((d, m, u, b) =>
      [d instanceof Date && d.getTime(), m instanceof Map && m.get("m"), u === undefined, typeof b]));
    out.callbackThrows = await probe(() => ep.callThrowing(() => { throw new RangeError("from the parent"); }));
    out.callbackErrorPropagates = await probe(() => ep.passThrough(() => { throw new TypeError("bubbles up"); }));
    out.callbackResultIsPromise = await probe(() => ep.callNoAwait(() => 1));
    out.seen = seen;
    out.returnedFunction = await probe(async () => {
      const add5 = await ep.makeAdder(5);
      return [typeof add5, await add5(1), await add5(10)];
    });
    out.returnedObjectWithFunction = await probe(async () => {
      const counter = await ep.makeCounter();
      return [counter.label, typeof counter.inc, await counter.inc(), await counter.inc()];
    });
    out.functionThroughAndBack = await probe(() => ep.cbReturnsFunction(() => (y) => y * y));
    out.keptAcrossCalls = await probe(async () => {
      await ep.keep((x) => x + 1);
      return await ep.useKept();
    });
    return Response.json(out);
  },
};

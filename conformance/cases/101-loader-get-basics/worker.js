// env.LOADER.get(id, getCode): the stub comes back synchronously, getCode
// runs lazily and only once per id (the isolate, and its module state, is
// reused across get() calls and across requests).
let calls = { a: 0, b: 0 };

const code = (tag) => ({
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      let hits = 0;
      export default {
        fetch(request) {
          hits++;
          return new Response("${tag} hits=" + hits + " path=" + new URL(request.url).pathname);
        },
      };
    `,
  },
});

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    const out = { path };
    const getA = () => { calls.a++; return code("A"); };
    const stub = env.LOADER.get("worker-a", getA);
    out.callsRightAfterGet = calls.a;
    out.stubType = typeof stub;
    out.stubIsPromise = stub instanceof Promise;
    out.getEntrypointType = typeof stub.getEntrypoint;
    const ep = stub.getEntrypoint();
    out.callsAfterGetEntrypoint = calls.a;
    out.first = await (await ep.fetch("http://dyn/one")).text();
    out.callsAfterFetch = calls.a;
    // Same id again: reuses the isolate, getCode is not called.
    const again = env.LOADER.get("worker-a", getA);
    out.second = await (await again.getEntrypoint().fetch("http://dyn/two")).text();
    out.callsAfterSecondGet = calls.a;
    // The same stub can be used more than once.
    out.third = await (await ep.fetch("http://dyn/three")).text();
    // Another id: another isolate, its own getCode call.
    const b = env.LOADER.get("worker-b", () => { calls.b++; return code("B"); });
    out.otherId = await (await b.getEntrypoint().fetch("http://dyn/b")).text();
    out.calls = { ...calls };
    return Response.json(out);
  },
};

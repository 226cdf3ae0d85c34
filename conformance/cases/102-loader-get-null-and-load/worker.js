// get(null | undefined, getCode) and load(code) make a fresh isolate each
// time: module state starts over and getCode runs on every get().
let calls = 0;

const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      let n = 0;
      export default class extends WorkerEntrypoint {
        next() { return ++n; }
      }
    `,
  },
};

export default {
  async fetch(request, env) {
    const out = {};
    const getCode = () => { calls++; return code; };
    const n1 = env.LOADER.get(null, getCode).getEntrypoint();
    out.null1 = [await n1.next(), await n1.next()];
    const n2 = env.LOADER.get(null, getCode).getEntrypoint();
    out.null2 = [await n2.next(), await n2.next()];
    const u = env.LOADER.get(undefined, getCode).getEntrypoint();
    out.undefinedId = [await u.next()];
    out.getCodeCalls = calls;
    const l1 = env.LOADER.load(code);
    out.loadStubType = typeof l1;
    out.loadIsPromise = l1 instanceof Promise;
    const e1 = l1.getEntrypoint();
    out.load1 = [await e1.next(), await e1.next()];
    const e2 = env.LOADER.load(code).getEntrypoint();
    out.load2 = [await e2.next()];
    // A named id is cached, unlike null.
    const named = () => env.LOADER.get("named", getCode).getEntrypoint();
    out.named = [await named().next(), await named().next()];
    out.getCodeCallsEnd = calls;
    return Response.json(out);
  },
};

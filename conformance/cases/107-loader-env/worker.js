// The env of a dynamic worker: plain values, nested objects, Date, Map and
// other clonables arrive as structured clones; this.env and the handler's
// env agree; the parent's own bindings are not inherited.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      export default class extends WorkerEntrypoint {
        describe() {
          const env = this.env;
          return {
            keys: Object.keys(env).sort(),
            str: env.str, num: env.num, bool: env.bool, nul: env.nul,
            undefKept: "undef" in env, undefType: typeof env.undef,
            nested: env.nested,
            date: [env.date instanceof Date, env.date.toISOString()],
            map: [env.map instanceof Map, [...env.map.entries()]],
            set: [env.set instanceof Set, [...env.set]],
            bytes: [env.bytes instanceof Uint8Array, [...env.bytes]],
            big: [typeof env.big, String(env.big)],
            re: [env.re instanceof RegExp, String(env.re)],
            hasLoader: "LOADER" in env,
            frozen: Object.isFrozen(env),
          };
        }
        mutate() {
          this.env.nested.added = true;
          return this.env.nested;
        }
        sameEnv() { return this.env.nested.added === true; }
        keys() { return Object.keys(this.env); }
      }
      export const viaHandler = {
        fetch(request, env) { return new Response(JSON.stringify({ str: env.str, nested: env.nested })); },
      };
    `,
  },
};

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env) {
    const parentEnv = {
      str: "text", num: 1.5, bool: false, nul: null, undef: undefined,
      nested: { deep: { list: [1, "two", { three: 3 }] } },
      date: new Date(Date.UTC(2024, 1, 29, 12, 0, 0)),
      map: new Map([["k", 1], ["j", { v: 2 }]]),
      set: new Set(["a", "b"]),
      bytes: new Uint8Array([9, 8, 7]),
      big: 12345678901234567890n,
      re: /x+y/gi,
    };
    const stub = env.LOADER.get("env", () => ({ ...code, env: parentEnv }));
    const ep = stub.getEntrypoint();
    const out = {};
    out.describe = await probe(() => ep.describe());
    out.mutate = await probe(() => ep.mutate());
    out.parentUnchanged = parentEnv.nested.added === undefined;
    out.mutationPersists = await probe(() => ep.sameEnv());
    out.viaHandler = await probe(async () => (await stub.getEntrypoint("viaHandler").fetch("http://x/")).text());
    out.emptyEnv = await probe(() => env.LOADER.load({ ...code, env: {} }).getEntrypoint().keys());
    out.noEnv = await probe(() => env.LOADER.load(code).getEntrypoint().keys());
    return Response.json(out);
  },
};

// compatibilityDate and compatibilityFlags of a dynamic worker apply to it,
// not to the parent: an old date turns off what later dates enable (the
// Request cache option, the process global), a flag turns one feature back
// on, and an unknown flag is refused.
const source = `
  import { WorkerEntrypoint } from "cloudflare:workers";
  export default class extends WorkerEntrypoint {
    async check() {
      let requestCache;
      try {
        new Request("https://example.com/", { cache: "no-store" });
        requestCache = "accepted";
      } catch (e) {
        requestCache = "threw " + e.name + ": " + e.message;
      }
      return { requestCache, process: typeof globalThis.process };
    }
  }
`;
const code = (date, flags) => ({
  compatibilityDate: date,
  compatibilityFlags: flags,
  mainModule: "main.js",
  modules: { "main.js": source },
});

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env) {
    const check = (id, date, flags) => probe(() => env.LOADER.get(id, () => code(date, flags)).getEntrypoint().check());
    return Response.json({
      parent: await probe(() => new Request("https://example.com/", { cache: "no-store" }).cache),
      current: await check("current", "2026-11-01", []),
      flagsOmitted: await check("omitted", "2026-11-01", undefined),
      old: await check("old", "2023-01-01", []),
      oldWithCacheFlag: await check("old-cache", "2023-01-01", ["cache_option_enabled"]),
      oldWithNodeCompat: await check("old-node", "2023-01-01", ["nodejs_compat"]),
      oldWithNodeCompatV2: await check("old-node2", "2023-01-01", ["nodejs_compat", "nodejs_compat_v2"]),
      unknownFlag: await check("unknown", "2026-11-01", ["no_such_flag_at_all"]),
    });
  },
};

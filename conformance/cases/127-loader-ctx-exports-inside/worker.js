// ctx.exports inside a dynamic worker: its own entrypoints, as loopbacks
// with props, on by default at this date (and missing at an old date
// without the enable_ctx_exports flag).
const source = `
  import { WorkerEntrypoint } from "cloudflare:workers";
  export class Inner extends WorkerEntrypoint {
    whoami() { return "Inner with props " + JSON.stringify(this.ctx.props); }
  }
  export default class extends WorkerEntrypoint {
    keys() { return this.ctx.exports ? Object.keys(this.ctx.exports).sort() : "ctx.exports is " + typeof this.ctx.exports; }
    async viaLoopback() { return await this.ctx.exports.Inner({ props: { deep: 1 } }).whoami(); }
    async viaLoopbackNoProps() { return await this.ctx.exports.Inner.whoami(); }
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
    const current = env.LOADER.get("current", () => code("2026-11-01", [])).getEntrypoint();
    const old = env.LOADER.get("old", () => code("2025-06-01", [])).getEntrypoint();
    const oldFlag = env.LOADER.get("old-flag", () => code("2025-06-01", ["enable_ctx_exports"])).getEntrypoint();
    return Response.json({
      keys: await probe(() => current.keys()),
      viaLoopback: await probe(() => current.viaLoopback()),
      viaLoopbackNoProps: await probe(() => current.viaLoopbackNoProps()),
      oldKeys: await probe(() => old.keys()),
      oldWithFlagKeys: await probe(() => oldFlag.keys()),
      oldWithFlagLoopback: await probe(() => oldFlag.viaLoopback()),
    });
  },
};

// globalOutbound set to a loopback of the parent (ctx.exports.Outbound, a
// WorkerEntrypoint): every fetch() of the dynamic worker lands in its fetch
// handler, with the URL, method, headers and body the dynamic worker sent;
// ctx.exports.Outbound({props}) makes ctx.props visible to it.
import { WorkerEntrypoint } from "cloudflare:workers";

export class Outbound extends WorkerEntrypoint {
  async fetch(request) {
    return Response.json({
      via: "Outbound",
      method: request.method,
      url: request.url,
      header: request.headers.get("x-dyn"),
      body: request.method === "GET" ? null : await request.text(),
      props: this.ctx.props,
    }, { status: 299, headers: { "x-outbound": "1" } });
  }
}

export const PlainOutbound = {
  fetch(request, env, ctx) {
    return new Response("plain outbound saw " + new URL(request.url).pathname);
  },
};

const source = `
  import { WorkerEntrypoint } from "cloudflare:workers";
  export default class extends WorkerEntrypoint {
    async get(url) {
      const r = await fetch(url, { headers: { "x-dyn": "from dynamic" } });
      return { status: r.status, header: r.headers.get("x-outbound"), body: await r.text() };
    }
    async post() {
      const r = await fetch(new Request("https://api.example.org/submit?z=1", { method: "POST", body: "payload" }));
      return await r.json();
    }
    fetch(request) { return fetch("http://example.com/proxied" + new URL(request.url).pathname); }
  }
`;
const code = (outbound) => ({
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: { "main.js": source },
  globalOutbound: outbound,
});

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env, ctx) {
    const ep = env.LOADER.get("loopback", () => code(ctx.exports.Outbound)).getEntrypoint();
    const withProps = env.LOADER.get("loopback-props", () => code(ctx.exports.Outbound({ props: { tenant: "t1" } }))).getEntrypoint();
    const plain = env.LOADER.get("loopback-plain", () => code(ctx.exports.PlainOutbound)).getEntrypoint();
    return Response.json({
      get: await probe(() => ep.get("http://example.com/x")),
      post: await probe(() => ep.post()),
      handler: await probe(async () => (await ep.fetch("http://ignored/abc")).json()),
      withProps: await probe(() => withProps.get("http://example.com/props")),
      plainObject: await probe(() => plain.get("http://example.com/plain")),
    });
  },
};

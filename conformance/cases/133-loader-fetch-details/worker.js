// fetch() through a dynamic worker's entrypoint, the details: what the
// callee's Request allows (headers, redirect, body kinds), what the caller's
// Response is (headers mutable or not, url, type), errors thrown by the
// callee, and entrypoints with props.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      export class Named extends WorkerEntrypoint {
        async fetch(request) {
          return Response.json({ named: true, props: this.ctx.props, method: request.method });
        }
      }
      export default {
        async fetch(request, env, ctx) {
          const url = new URL(request.url);
          const p = url.pathname;
          if (p === "/headers") {
            let set;
            try { request.headers.set("x-new", "1"); set = "ok"; } catch (e) { set = e.name + ": " + e.message; }
            return Response.json({ set, pairs: [...request.headers], redirect: request.redirect, bodyNull: request.body === null, cf: typeof request.cf });
          }
          if (p === "/body") {
            const buf = new Uint8Array(await request.arrayBuffer());
            return Response.json({ length: buf.length, first: buf[0] ?? null, type: request.headers.get("content-type") });
          }
          if (p === "/throw") throw new RangeError("callee says no");
          if (p === "/throw-string") throw "plain string";
          if (p === "/not-response") return { hello: "world" };
          if (p === "/no-content") return new Response(null, { status: 204, statusText: "Nothing" });
          if (p === "/cookies") {
            const h = new Headers();
            h.append("set-cookie", "a=1");
            h.append("set-cookie", "b=2");
            h.append("x-multi", "one");
            h.append("x-multi", "two");
            return new Response("cookies", { headers: h });
          }
          if (p === "/bytes") return new Response(new Uint8Array([1, 2, 3, 250]));
          if (p === "/json") return Response.json({ a: 1 }, { status: 202 });
          return new Response("default " + request.method, { headers: { "x-path": p } });
        },
      };
    `,
  },
};

async function outcome(f) {
  try {
    const r = await f();
    return { status: r.status, statusText: r.statusText, body: await r.text(), headers: [...r.headers] };
  } catch (e) {
    return { threw: String(e && e.name), message: String(e && e.message), remote: e && e.remote };
  }
}

export default {
  async fetch(request, env) {
    const ep = env.LOADER.get("details", () => code).getEntrypoint();
    const out = {};
    out.headers = await (await ep.fetch("http://h/headers", { headers: { "x-one": "1", "X-Two": "2" }, redirect: "manual" })).json();
    out.headersFollow = await (await ep.fetch("http://h/headers")).json();
    const r = await ep.fetch("http://h/plain");
    out.response = { url: r.url, type: r.type, redirected: r.redirected, ok: r.ok, bodyUsed: r.bodyUsed };
    try { r.headers.set("x-caller", "1"); out.response.set = "ok"; } catch (e) { out.response.set = e.name + ": " + e.message; }
    out.response.headers = [...r.headers];
    out.response.text = await r.text();
    out.response.bodyUsedAfter = r.bodyUsed;
    out.bodyString = await (await ep.fetch("http://h/body", { method: "POST", body: "abc" })).json();
    out.bodyBuffer = await (await ep.fetch("http://h/body", { method: "POST", body: new Uint8Array([9, 8, 7]).buffer })).json();
    out.bodyView = await (await ep.fetch("http://h/body", { method: "PUT", body: new Uint16Array([258]) })).json();
    out.bodyEmpty = await (await ep.fetch("http://h/body", { method: "POST", body: "" })).json();
    out.bodyBlob = await (await ep.fetch("http://h/body", { method: "POST", body: new Blob(["xyz"], { type: "text/x-blob" }) })).json();
    out.throw = await outcome(() => ep.fetch("http://h/throw"));
    out.throwString = await outcome(() => ep.fetch("http://h/throw-string"));
    out.notResponse = await outcome(() => ep.fetch("http://h/not-response"));
    out.noContent = await outcome(() => ep.fetch("http://h/no-content"));
    out.cookies = await outcome(() => ep.fetch("http://h/cookies"));
    const bytes = await ep.fetch("http://h/bytes");
    out.bytes = [...new Uint8Array(await bytes.arrayBuffer())];
    out.json = await outcome(() => ep.fetch("http://h/json"));
    out.head = await outcome(() => ep.fetch("http://h/plain", { method: "HEAD" }));
    const used = new Request("http://h/body", { method: "POST", body: "once" });
    await used.text();
    out.usedBody = await outcome(() => ep.fetch(used));
    out.named = await (await env.LOADER.get("details", () => code).getEntrypoint("Named", { props: { tenant: "t1" } }).fetch("http://h/x", { method: "DELETE" })).json();
    out.missing = await outcome(() => env.LOADER.get("details", () => code).getEntrypoint("Missing").fetch("http://h/x"));
    out.incoming = await outcome(() => ep.fetch(request));
    // fetch is a method of the Fetcher: detached, or on another object, it
    // has no stub to call.
    const detached = ep.fetch;
    out.detached = await outcome(() => detached("http://h/plain"));
    out.otherThis = await outcome(() => ep.fetch.call({}, "http://h/plain"));
    out.bound = (await outcome(() => ep.fetch.bind(ep)("http://h/plain"))).status;
    out.sameMethod = ep.fetch === env.LOADER.get("details", () => code).getEntrypoint().fetch;
    return Response.json(out);
  },
};

// Request, Response, Headers and ReadableStream as RPC arguments and
// results: method, URL, headers and bodies survive; a streamed body can be
// read on the other side.
const code = {
  compatibilityDate: "2026-11-01",
  mainModule: "main.js",
  modules: {
    "main.js": `
      import { WorkerEntrypoint } from "cloudflare:workers";
      export default class extends WorkerEntrypoint {
        async takeRequest(req) {
          return {
            isRequest: req instanceof Request,
            method: req.method,
            url: req.url,
            header: req.headers.get("x-h"),
            body: await req.text(),
          };
        }
        async takeResponse(resp) {
          return { isResponse: resp instanceof Response, status: resp.status, header: resp.headers.get("x-r"), body: await resp.text() };
        }
        takeHeaders(h) { return { isHeaders: h instanceof Headers, entries: [...h] }; }
        async takeStream(stream) {
          const text = await new Response(stream).text();
          return { isStream: stream instanceof ReadableStream, text };
        }
        makeResponse(n) {
          return new Response("response body " + n, { status: 202, statusText: "Accepted!", headers: { "x-made": "yes", "content-type": "text/x-test" } });
        }
        makeJsonResponse() { return Response.json({ made: "json" }); }
        makeStreamResponse() {
          const { readable, writable } = new TransformStream();
          const w = writable.getWriter();
          const enc = new TextEncoder();
          (async () => {
            for (const part of ["streamed ", "in ", "parts"]) await w.write(enc.encode(part));
            await w.close();
          })();
          return new Response(readable);
        }
        makeRequest() {
          return new Request("https://example.com/made?x=1", { method: "POST", headers: { "x-made": "req" }, body: "request body" });
        }
        makeStream() {
          return new ReadableStream({
            start(c) { c.enqueue(new TextEncoder().encode("a stream ")); c.enqueue(new TextEncoder().encode("result")); c.close(); },
          });
        }
        makeHeaders() { return new Headers({ "x-one": "1", "x-two": "2" }); }
        inObject() { return { resp: new Response("nested response"), label: "obj" }; }
      }
    `,
  },
};

const probe = async (fn) => {
  try { return await fn(); } catch (e) { return "threw " + e.name + ": " + e.message; }
};

export default {
  async fetch(request, env) {
    const ep = env.LOADER.get("reqresp", () => code).getEntrypoint();
    const out = {};
    out.takeRequest = await probe(() => ep.takeRequest(new Request("https://example.com/r?q=2", {
      method: "PUT", headers: { "x-h": "header value" }, body: "put body",
    })));
    out.takeGetRequest = await probe(() => ep.takeRequest(new Request("https://example.com/get")));
    out.takeResponse = await probe(() => ep.takeResponse(new Response("resp body", { status: 418, headers: { "x-r": "r" } })));
    out.takeHeaders = await probe(() => ep.takeHeaders(new Headers({ "x-a": "1", "X-B": "2" })));
    out.takeStream = await probe(() => ep.takeStream(new Response("stream argument").body));
    out.makeResponse = await probe(async () => {
      const r = await ep.makeResponse(1);
      return { isResponse: r instanceof Response, status: r.status, statusText: r.statusText,
        made: r.headers.get("x-made"), type: r.headers.get("content-type"), bodyUsed: r.bodyUsed, text: await r.text(), bodyUsedAfter: r.bodyUsed };
    });
    out.makeJsonResponse = await probe(async () => (await ep.makeJsonResponse()).json());
    out.makeStreamResponse = await probe(async () => (await ep.makeStreamResponse()).text());
    out.responseClone = await probe(async () => {
      const r = await ep.makeResponse(2);
      const c = r.clone();
      return [await r.text(), await c.text()];
    });
    out.makeRequest = await probe(async () => {
      const r = await ep.makeRequest();
      return { isRequest: r instanceof Request, method: r.method, url: r.url, made: r.headers.get("x-made"), body: await r.text() };
    });
    out.makeStream = await probe(async () => {
      const s = await ep.makeStream();
      return { isStream: s instanceof ReadableStream, text: await new Response(s).text() };
    });
    out.makeHeaders = await probe(async () => {
      const h = await ep.makeHeaders();
      return { isHeaders: h instanceof Headers, entries: [...h] };
    });
    out.inObject = await probe(async () => {
      const o = await ep.inObject();
      return [o.label, o.resp instanceof Response, await o.resp.text()];
    });
    return Response.json(out);
  },
};
